//! A seeded generator of synthetic multi-city, multi-year data for a profile
//! (no real city): cities spread over the provinces, a latent development level
//! per city with macro-region effects, correlated pillars, a yearly trend, and
//! an external "digital-government index" correlated with the composite, so
//! every analysis of the report has something to show.

use rand::RngExt as _;
use scenario::ChaCha8Rng;

use crate::dataset::TidyRow;
use crate::model::{Normalisation, Source};
use crate::profile::Profile;
use crate::regions::{MacroRegion, macro_region};

/// Parameters of [`synthetic_rows`].
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    /// Number of cities (named `S001`, `S002`, ...).
    pub cities: usize,
    /// First year.
    pub first_year: i32,
    /// Number of consecutive years.
    pub years: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Id of the external index written alongside the indicators.
    pub external_index: String,
}

impl Default for SynthParams {
    fn default() -> Self {
        Self {
            cities: 150,
            first_year: 2019,
            years: 3,
            seed: 2021,
            external_index: "digital_gov_index".into(),
        }
    }
}

/// Provinces with their number of cities in a 150-city set.
const PROVINCE_COUNTS: &[(&str, usize)] = &[
    ("北京", 1),
    ("天津", 1),
    ("河北", 7),
    ("山西", 6),
    ("内蒙古", 5),
    ("辽宁", 7),
    ("吉林", 4),
    ("黑龙江", 5),
    ("上海", 1),
    ("江苏", 10),
    ("浙江", 9),
    ("安徽", 6),
    ("福建", 5),
    ("江西", 5),
    ("山东", 9),
    ("河南", 8),
    ("湖北", 6),
    ("湖南", 6),
    ("广东", 10),
    ("广西", 5),
    ("海南", 2),
    ("重庆", 1),
    ("四川", 8),
    ("贵州", 4),
    ("云南", 4),
    ("西藏", 1),
    ("陕西", 5),
    ("甘肃", 3),
    ("青海", 1),
    ("宁夏", 2),
    ("新疆", 3),
];

fn cluster_of(province: &str) -> Option<&'static str> {
    match province {
        "上海" | "江苏" | "浙江" | "安徽" => Some("长三角"),
        "北京" | "天津" | "河北" => Some("京津冀"),
        "广东" => Some("粤港澳大湾区"),
        "重庆" | "四川" => Some("成渝"),
        "湖北" | "湖南" | "江西" => Some("长江中游"),
        _ => None,
    }
}

fn region_effect(r: MacroRegion) -> f64 {
    match r {
        MacroRegion::EastChina => 0.10,
        MacroRegion::NorthChina => 0.03,
        MacroRegion::CentralSouth => 0.02,
        MacroRegion::Southwest => -0.04,
        MacroRegion::Northeast => -0.05,
        MacroRegion::Northwest => -0.08,
    }
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Synthetic tidy rows for every static or live indicator and every deduction
/// of `profile`, plus the external index, for `params.cities` cities and
/// `params.years` years. Same parameters, same rows.
pub fn synthetic_rows(profile: &Profile, params: &SynthParams) -> Vec<TidyRow> {
    let mut master = scenario::seeded(params.seed);
    let mut city_rng = scenario::fork(&mut master);
    let mut year_rng = scenario::fork(&mut master);
    let expanded: Vec<&str> = PROVINCE_COUNTS
        .iter()
        .flat_map(|(p, n)| std::iter::repeat_n(*p, *n))
        .collect();
    let pillars: Vec<String> = profile.pillars().iter().map(|b| b.id.clone()).collect();
    let pillar_of = |block: &str| -> usize {
        let mut cur = block;
        loop {
            let b = profile.blocks().iter().find(|b| b.id == cur);
            match b.and_then(|b| b.parent.as_deref()) {
                Some(p) => cur = p,
                None => break,
            }
        }
        pillars.iter().position(|p| p == cur).unwrap_or(0)
    };
    let mut rows = Vec::new();
    for c in 0..params.cities {
        let province = expanded[c % expanded.len()];
        let region = macro_region(province).expect("table provinces are known");
        let city = format!("S{:03}", c + 1);
        let cluster = cluster_of(province).map(str::to_string);
        let level = 0.42 + region_effect(region) + 0.12 * normal(&mut city_rng);
        let pillar_level: Vec<f64> = pillars
            .iter()
            .map(|_| level + 0.07 * normal(&mut city_rng))
            .collect();
        let growth = 0.025 + 0.01 * normal(&mut city_rng);
        let gov_noise = 0.08 * normal(&mut city_rng);
        for y in 0..params.years {
            let year = params.first_year + y as i32;
            let trend = growth * y as f64;
            let mut latent_sum = 0.0;
            let mut push = |indicator: &str, value: f64, ratio: Option<(f64, f64)>| {
                rows.push(TidyRow {
                    city: city.clone(),
                    province: province.to_string(),
                    year,
                    indicator: indicator.to_string(),
                    value,
                    numerator: ratio.map(|r| r.0),
                    denominator: ratio.map(|r| r.1),
                    cluster: cluster.clone(),
                });
            };
            for ind in profile.indicators() {
                if matches!(ind.source, Source::Formula { .. }) {
                    continue;
                }
                let p = pillar_of(&ind.parent);
                let u = (pillar_level[p] + trend + 0.06 * normal(&mut year_rng)).clamp(0.02, 0.98);
                latent_sum += u;
                let raw = match ind.normalisation {
                    Normalisation::Target { baseline, target } => {
                        baseline + u * (target - baseline)
                    }
                    Normalisation::Fixed { min, max } => min + u * (max - min),
                    Normalisation::Share => match ind.direction {
                        crate::model::Direction::Higher => u,
                        crate::model::Direction::Lower => 1.0 - u,
                    },
                    Normalisation::MinMax => 100.0 * u,
                };
                let raw = (raw * 1e6).round() / 1e6;
                let ratio = ind.ratio.then(|| {
                    let den = (200.0 + 1800.0 * year_rng.random::<f64>()).round();
                    let num = (raw * den).round();
                    (num, den)
                });
                match ratio {
                    Some((n, d)) => push(&ind.id, n / d, Some((n, d))),
                    None => push(&ind.id, raw, None),
                }
            }
            for d in profile.deductions() {
                let count = if year_rng.random::<f64>() < 0.04 {
                    1.0
                } else {
                    0.0
                };
                push(&d.id, count, None);
            }
            let n = profile.indicators().len().max(1) as f64;
            let index = 40.0 + 60.0 * (latent_sum / n + gov_noise);
            push(
                &params.external_index,
                (index * 100.0).round() / 100.0,
                None,
            );
        }
    }
    rows
}
