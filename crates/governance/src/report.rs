//! The evaluation report over many cities and years: tiers, regional means and
//! standard deviations, pillar score rates and their spread per year,
//! correlations, rank regression, entropy weights, rank changes and city
//! clusters. [`build_report`] computes it; [`render_html`] writes a
//! self-contained HTML page with inline SVG charts.

mod html;
mod schema;
mod svg;

use std::collections::BTreeMap;

pub use html::render_html;
pub use schema::{
    BlockInfo, CityResult, ClusterRow, CorrelationMatrix, CoverageSummary, PillarRow, Placement,
    REPORT_SCHEMA, RankChange, RankRegression, RegionRow, Report, TierBlockRow, TierRow,
    TierSummary, TierSummaryCuts, WeightRow, YearSpread,
};

use crate::dataset::Dataset;
use crate::live::EntityInputs;
use crate::profile::Profile;
use crate::regions::MacroRegion;
use crate::score::{Score, Warning, score_raw, score_set};
use crate::stats::{self, Ddof, StatsError};
use crate::tiers::{self, Tier, TierError, TierMethod, Tiering};

/// Why a report cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The dataset has no rows.
    #[error("the dataset has no values")]
    EmptyDataset,
    /// The requested year is not in the data.
    #[error("year {year} is not in the data (years: {available})")]
    UnknownYear {
        /// The year asked for.
        year: i32,
        /// The years present.
        available: String,
    },
    /// Too few cities have a composite score.
    #[error("only {n} cities have a composite score in {year}; need at least 3")]
    TooFewCities {
        /// Cities scored.
        n: usize,
        /// The year.
        year: i32,
    },
    /// The block named for tiering does not exist.
    #[error("cannot tier on unknown block {block:?}")]
    UnknownTierBlock {
        /// The block id.
        block: String,
    },
    /// A city lacks a score rate for the block used for tiering.
    #[error("city {city:?} has no score rate for {block:?}, so it cannot be tiered on it")]
    MissingTierValue {
        /// The city.
        city: String,
        /// The block id.
        block: String,
    },
    /// Tiering failed.
    #[error("tiering failed: {0}")]
    Tiers(#[from] TierError),
    /// A statistic failed.
    #[error("{what}: {source}")]
    Stats {
        /// Which analysis.
        what: String,
        /// Why.
        source: StatsError,
    },
}

/// Options of [`build_report`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// How tiers are cut (default: equal-width quartering).
    pub tier_method: TierMethod,
    /// ddof of every standard deviation in the report (default: sample, ddof = 1).
    pub ddof: Ddof,
    /// External index regressed on the composite rank (default `digital_gov_index`);
    /// the regression is omitted when the data lacks it.
    pub external_index: Option<String>,
    /// The year analysed (default: the latest).
    pub year: Option<i32>,
    /// A city to place in the comparison set (its own inputs, e.g. the live city).
    pub placed: Option<(String, EntityInputs)>,
    /// A note shown under the title (data provenance).
    pub note: Option<String>,
    /// Tier on this block's score rate instead of the composite (the
    /// evaluation report's tier table describes the 智慧治理 pillar).
    pub tier_block: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            tier_method: TierMethod::EqualWidth,
            ddof: Ddof::Sample,
            external_index: Some("digital_gov_index".into()),
            year: None,
            placed: None,
            note: None,
            tier_block: None,
        }
    }
}

fn stat<T>(what: &str, r: Result<T, StatsError>) -> Result<T, ReportError> {
    r.map_err(|source| ReportError::Stats {
        what: what.to_string(),
        source,
    })
}

fn opt_mean(xs: &[f64]) -> Option<f64> {
    stats::mean(xs).ok()
}

fn opt_std(xs: &[f64], ddof: Ddof) -> Option<f64> {
    stats::std_dev(xs, ddof).ok()
}

fn warning_kind(w: &Warning) -> &'static str {
    match w {
        Warning::Missing { .. } => "missing",
        Warning::NonFinite { .. } => "non_finite",
        Warning::NoReference { .. } => "no_reference",
        Warning::DegenerateRange { .. } => "degenerate_range",
        Warning::FormulaUndefined { .. } => "formula_undefined",
        Warning::InsufficientCoverage { .. } => "insufficient_coverage",
    }
}

/// A k×k matrix with `d` on the diagonal and `None` elsewhere.
fn diagonal(k: usize, d: f64) -> Vec<Vec<Option<f64>>> {
    (0..k)
        .map(|i| (0..k).map(|j| (i == j).then_some(d)).collect())
        .collect()
}

/// Ranks by descending value (1 = highest), ties broken by input order.
fn ranks_desc(values: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut ranks = vec![0; values.len()];
    for (r, &i) in idx.iter().enumerate() {
        ranks[i] = r + 1;
    }
    ranks
}

/// Scores of one year's cities that have a composite, sorted by city name.
fn scored_year(profile: &Profile, cities: &BTreeMap<String, EntityInputs>) -> Vec<(String, Score)> {
    let (scores, _) = score_set(profile, cities);
    scores.into_iter().collect()
}

/// Places a scored city (for example the live city, scored with the report's
/// profile) in the report's comparison set: its rank by composite among the
/// report's cities, and its tier under the report's cuts, applied to the same
/// basis as the report's tiers (the composite or a block's score rate).
/// `None` when the score lacks the composite or the tiered block's rate.
pub fn place(report: &Report, name: &str, score: &Score) -> Option<Placement> {
    let composite = score.composite?;
    let t = &report.tiers.tiering;
    let tier_value = if t.basis == "composite" {
        composite
    } else {
        score.rate(&t.basis)?
    };
    let better = report
        .cities
        .iter()
        .filter(|c| c.composite > composite)
        .count();
    Some(Placement {
        name: name.to_string(),
        composite,
        rank: better + 1,
        of: report.cities.len() + 1,
        tier: tiers::tier_of(tier_value, &t.cuts),
        outside_range: tier_value < t.min || tier_value > t.max,
        pillars: report.pillars.iter().map(|p| score.rate(&p.id)).collect(),
    })
}

/// Builds the report for `profile` over `data`.
pub fn build_report(
    profile: &Profile,
    data: &Dataset,
    options: &ReportOptions,
) -> Result<Report, ReportError> {
    let years: Vec<i32> = data.years.keys().copied().collect();
    let Some(&latest) = years.last() else {
        return Err(ReportError::EmptyDataset);
    };
    let year = options.year.unwrap_or(latest);
    let Some(year_inputs) = data.years.get(&year) else {
        return Err(ReportError::UnknownYear {
            year,
            available: years
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let ddof = options.ddof;
    let share = |ids: &[&crate::model::Block]| -> Vec<f64> {
        let total: f64 = ids.iter().map(|b| b.weight).sum();
        ids.iter().map(|b| b.weight / total).collect()
    };
    let pillar_blocks = profile.pillars();
    let pillar_share = share(&pillar_blocks);
    let pillars: Vec<BlockInfo> = pillar_blocks
        .iter()
        .zip(&pillar_share)
        .map(|(b, &w)| BlockInfo {
            id: b.id.clone(),
            name_zh: b.name_zh.clone(),
            name_en: b.name_en.clone(),
            parent: None,
            weight_share: w,
        })
        .collect();
    let second_blocks = profile.blocks_at(2);
    let second_level: Vec<BlockInfo> = second_blocks
        .iter()
        .map(|b| {
            let siblings: Vec<&crate::model::Block> = second_blocks
                .iter()
                .copied()
                .filter(|s| s.parent == b.parent)
                .collect();
            let total: f64 = siblings.iter().map(|s| s.weight).sum();
            BlockInfo {
                id: b.id.clone(),
                name_zh: b.name_zh.clone(),
                name_en: b.name_en.clone(),
                parent: b.parent.clone(),
                weight_share: b.weight / total,
            }
        })
        .collect();

    // Score the analysed year.
    let scored = scored_year(profile, year_inputs);
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    for (_, s) in &scored {
        for w in &s.warnings {
            *warnings.entry(warning_kind(w).to_string()).or_default() += 1;
        }
    }
    let with_composite: Vec<(&String, &Score, f64)> = scored
        .iter()
        .filter_map(|(c, s)| s.composite.map(|v| (c, s, v)))
        .collect();
    if with_composite.len() < 3 {
        return Err(ReportError::TooFewCities {
            n: with_composite.len(),
            year,
        });
    }
    let composites: Vec<f64> = with_composite.iter().map(|x| x.2).collect();
    let tier_values: Vec<f64> = match &options.tier_block {
        None => composites.clone(),
        Some(block) => {
            if !profile.blocks().iter().any(|b| &b.id == block) {
                return Err(ReportError::UnknownTierBlock {
                    block: block.clone(),
                });
            }
            with_composite
                .iter()
                .map(|(city, s, _)| {
                    s.rate(block).ok_or_else(|| ReportError::MissingTierValue {
                        city: (*city).clone(),
                        block: block.clone(),
                    })
                })
                .collect::<Result<_, _>>()?
        }
    };
    let tiering: Tiering = tiers::assign(&tier_values, &options.tier_method)?;
    let ranks = ranks_desc(&composites);
    let mut cities: Vec<CityResult> = with_composite
        .iter()
        .enumerate()
        .map(|(i, (name, s, comp))| {
            let meta = &data.cities[*name];
            CityResult {
                city: (*name).clone(),
                province: meta.province.clone(),
                region: meta.region,
                clusters: meta.clusters.iter().cloned().collect(),
                rank: ranks[i],
                tier: tiering.tiers[i],
                composite: *comp,
                pillars: pillars.iter().map(|p| s.rate(&p.id)).collect(),
                second_level: second_level.iter().map(|b| s.rate(&b.id)).collect(),
                coverage: s.coverage,
                confidence: s.confidence,
                stage: s.stage.clone(),
                warnings: s.warnings.len(),
            }
        })
        .collect();
    cities.sort_by_key(|c| c.rank);

    // Tier table, top tier first.
    let bounds = |t: usize| -> (f64, f64) {
        let lo = if t == 0 {
            tiering.min
        } else {
            tiering.cuts[t - 1]
        };
        let hi = if t == 3 { tiering.max } else { tiering.cuts[t] };
        (lo, hi)
    };
    let n_scored = cities.len();
    let tier_rows: Vec<TierRow> = Tier::ALL
        .iter()
        .rev()
        .map(|&t| {
            let (lower, upper) = bounds(t.index());
            TierRow {
                tier: t,
                name_zh: t.name_zh().into(),
                name_en: t.name_en().into(),
                lower,
                upper,
                count: tiering.counts[t.index()],
                share: tiering.counts[t.index()] as f64 / n_scored as f64,
                mean: tiering.means[t.index()],
            }
        })
        .collect();
    let tiers_summary = TierSummary {
        tiering: TierSummaryCuts {
            basis: options
                .tier_block
                .clone()
                .unwrap_or_else(|| "composite".into()),
            method: tiering.method.clone(),
            cuts: tiering.cuts,
            min: tiering.min,
            max: tiering.max,
        },
        rows: tier_rows,
        edge_rule: "tier index (0 = 起步者 starter … 3 = 引领者 leader) = number of cuts c with composite >= c; a value on a cut belongs to the upper tier".into(),
    };
    let tier_second_level = second_level
        .iter()
        .enumerate()
        .map(|(j, b)| TierBlockRow {
            block: b.id.clone(),
            means: std::array::from_fn(|t| {
                let xs: Vec<f64> = cities
                    .iter()
                    .filter(|c| c.tier.index() == t)
                    .filter_map(|c| c.second_level[j])
                    .collect();
                opt_mean(&xs)
            }),
        })
        .collect();

    // Regions.
    let regions = MacroRegion::ALL
        .iter()
        .map(|&r| {
            let members: Vec<&CityResult> = cities.iter().filter(|c| c.region == r).collect();
            let comp: Vec<f64> = members.iter().map(|c| c.composite).collect();
            let col =
                |j: usize| -> Vec<f64> { members.iter().filter_map(|c| c.pillars[j]).collect() };
            RegionRow {
                region: r,
                name_zh: r.name_zh().into(),
                name_en: r.name_en().into(),
                n: members.len(),
                composite_mean: opt_mean(&comp),
                composite_std: opt_std(&comp, ddof),
                pillar_means: (0..pillars.len()).map(|j| opt_mean(&col(j))).collect(),
                pillar_stds: (0..pillars.len()).map(|j| opt_std(&col(j), ddof)).collect(),
            }
        })
        .collect();

    // Pillar summary.
    let pillar_col =
        |j: usize| -> Vec<f64> { cities.iter().filter_map(|c| c.pillars[j]).collect() };
    let mut pillar_summary = Vec::new();
    for (j, p) in pillars.iter().enumerate() {
        let xs = pillar_col(j);
        if xs.is_empty() {
            continue;
        }
        pillar_summary.push(PillarRow {
            id: p.id.clone(),
            n: xs.len(),
            mean: stat("pillar mean", stats::mean(&xs))?,
            std: opt_std(&xs, ddof).unwrap_or(0.0),
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        });
    }

    // Spread by year (and ranks per year for rank changes).
    let mut spread_by_year = Vec::new();
    let mut ranks_by_year: BTreeMap<i32, BTreeMap<String, usize>> = BTreeMap::new();
    for (&y, inputs) in &data.years {
        let sc = scored_year(profile, inputs);
        let rows: Vec<(&String, &Score, f64)> = sc
            .iter()
            .filter_map(|(c, s)| s.composite.map(|v| (c, s, v)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let comp: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let rk = ranks_desc(&comp);
        ranks_by_year.insert(
            y,
            rows.iter()
                .zip(&rk)
                .map(|(r, &k)| (r.0.clone(), k))
                .collect(),
        );
        let col = |id: &str| -> Vec<f64> { rows.iter().filter_map(|r| r.1.rate(id)).collect() };
        spread_by_year.push(YearSpread {
            year: y,
            n: rows.len(),
            composite_mean: stat("composite mean", stats::mean(&comp))?,
            means: pillars.iter().map(|p| opt_mean(&col(&p.id))).collect(),
            stds: pillars.iter().map(|p| opt_std(&col(&p.id), ddof)).collect(),
        });
    }

    // Correlations among pillars (cities with every pillar rate).
    let complete: Vec<Vec<f64>> = cities
        .iter()
        .filter_map(|c| c.pillars.iter().copied().collect::<Option<Vec<f64>>>())
        .collect();
    let k = pillars.len();
    let column = |j: usize| -> Vec<f64> { complete.iter().map(|r| r[j]).collect() };
    let mut corr = CorrelationMatrix {
        ids: pillars.iter().map(|p| p.id.clone()).collect(),
        n: complete.len(),
        pearson_r: diagonal(k, 1.0),
        pearson_p: diagonal(k, 0.0),
        spearman_rho: diagonal(k, 1.0),
        spearman_p: diagonal(k, 0.0),
    };
    let mut notes = Vec::new();
    for a in 0..k {
        for b in (a + 1)..k {
            let (x, y) = (column(a), column(b));
            let (p, s) = match (stats::pearson(&x, &y), stats::spearman(&x, &y)) {
                (Ok(p), Ok(s)) => (p, s),
                (Err(e), _) | (_, Err(e)) => {
                    notes.push(format!(
                        "correlation of {} and {} is undefined: {e}",
                        pillars[a].id, pillars[b].id
                    ));
                    continue;
                }
            };
            for (i, j) in [(a, b), (b, a)] {
                corr.pearson_r[i][j] = Some(p.r);
                corr.pearson_p[i][j] = Some(p.p);
                corr.spearman_rho[i][j] = Some(s.r);
                corr.spearman_p[i][j] = Some(s.p);
            }
        }
    }

    // External index: rank regression and multiple OLS on pillars.
    let (rank_regression, index_on_pillars) = match &options.external_index {
        None => (None, None),
        Some(index) => {
            let pairs: Vec<(&CityResult, f64)> = cities
                .iter()
                .filter_map(|c| {
                    year_inputs[&c.city]
                        .statics
                        .get(index)
                        .map(|v| (c, v.value))
                        .filter(|(_, v)| v.is_finite())
                })
                .collect();
            if pairs.len() < 4 {
                notes.push(format!(
                    "{index} is known for {} scored cities; the regressions need at least 4",
                    pairs.len()
                ));
                (None, None)
            } else {
                let comp: Vec<f64> = pairs.iter().map(|p| p.0.composite).collect();
                let idx: Vec<f64> = pairs.iter().map(|p| p.1).collect();
                let rc: Vec<f64> = ranks_desc(&comp).into_iter().map(|r| r as f64).collect();
                let ri: Vec<f64> = ranks_desc(&idx).into_iter().map(|r| r as f64).collect();
                let rr = (|| -> Result<RankRegression, StatsError> {
                    Ok(RankRegression {
                        index: index.clone(),
                        n: pairs.len(),
                        pearson: stats::pearson(&rc, &ri)?,
                        spearman: stats::spearman(&comp, &idx)?,
                        fit: stats::ols(&ri, &[("composite_rank", &rc)])?,
                        points: rc.iter().copied().zip(ri.iter().copied()).collect(),
                    })
                })();
                let rr = match rr {
                    Ok(rr) => Some(rr),
                    Err(e) => {
                        notes.push(format!("rank regression of {index} omitted: {e}"));
                        None
                    }
                };
                let full: Vec<(Vec<f64>, f64)> = pairs
                    .iter()
                    .filter_map(|(c, v)| {
                        c.pillars
                            .iter()
                            .copied()
                            .collect::<Option<Vec<f64>>>()
                            .map(|p| (p, *v))
                    })
                    .collect();
                let ys: Vec<f64> = full.iter().map(|f| f.1).collect();
                let cols: Vec<Vec<f64>> = (0..k)
                    .map(|j| full.iter().map(|f| f.0[j]).collect())
                    .collect();
                let regs: Vec<(&str, &[f64])> = pillars
                    .iter()
                    .zip(&cols)
                    .map(|(p, c)| (p.id.as_str(), c.as_slice()))
                    .collect();
                let multi = match stats::ols(&ys, &regs) {
                    Ok(fit) => Some(fit),
                    Err(e) => {
                        notes.push(format!(
                            "regression of {index} on the pillar score rates omitted: {e}"
                        ));
                        None
                    }
                };
                (rr, multi)
            }
        }
    };

    // Entropy weights over pillar score rates.
    let weights = match stats::entropy_weights(&complete) {
        Ok((e, w)) => pillars
            .iter()
            .enumerate()
            .map(|(j, p)| WeightRow {
                pillar: p.id.clone(),
                configured: p.weight_share,
                entropy: e[j],
                entropy_weight: w[j],
            })
            .collect(),
        Err(e) => {
            notes.push(format!("entropy weights omitted: {e}"));
            Vec::new()
        }
    };

    // Rank changes from the previous year.
    let mut rank_changes = Vec::new();
    if let Some(prev) = years.iter().copied().filter(|&y| y < year).max()
        && let (Some(before), Some(now)) = (ranks_by_year.get(&prev), ranks_by_year.get(&year))
    {
        for (city, &to_rank) in now {
            if let Some(&from_rank) = before.get(city) {
                rank_changes.push(RankChange {
                    city: city.clone(),
                    from_year: prev,
                    to_year: year,
                    from_rank,
                    to_rank,
                    change: from_rank as i64 - to_rank as i64,
                });
            }
        }
        rank_changes.sort_by(|a, b| b.change.cmp(&a.change).then(a.city.cmp(&b.city)));
    }

    // City clusters.
    let mut by_cluster: BTreeMap<&str, Vec<&CityResult>> = BTreeMap::new();
    for c in &cities {
        for cl in &c.clusters {
            by_cluster.entry(cl.as_str()).or_default().push(c);
        }
    }
    let clusters = by_cluster
        .into_iter()
        .map(|(name, members)| {
            let comp: Vec<f64> = members.iter().map(|c| c.composite).collect();
            let best = members[0]; // cities are sorted best first
            ClusterRow {
                cluster: name.to_string(),
                n: members.len(),
                mean: opt_mean(&comp).unwrap_or(f64::NAN),
                std: opt_std(&comp, ddof),
                best_city: best.city.clone(),
                best: best.composite,
            }
        })
        .collect();

    let n_scored_f = n_scored as f64;
    let coverage = CoverageSummary {
        cities_in_data: year_inputs.len(),
        cities_scored: n_scored,
        mean_coverage: cities.iter().map(|c| c.coverage).sum::<f64>() / n_scored_f,
        mean_confidence: cities.iter().map(|c| c.confidence).sum::<f64>() / n_scored_f,
        warnings,
    };
    let meta = profile.meta();
    let missing_policy = match meta.missing {
        crate::model::MissingPolicy::Renormalise => format!(
            "missing indicators are left out and their siblings' weights renormalised; a block with weight coverage below {} has no score rate",
            meta.min_coverage
        ),
        crate::model::MissingPolicy::Zero => format!(
            "missing indicators count as 0; a block with weight coverage below {} has no score rate",
            meta.min_coverage
        ),
    };
    let mut report = Report {
        schema: REPORT_SCHEMA.into(),
        profile_id: meta.id.clone(),
        profile_name_zh: meta.name_zh.clone(),
        profile_name_en: meta.name_en.clone(),
        missing_policy,
        ddof,
        year,
        years,
        note: options.note.clone(),
        pillars,
        second_level,
        cities,
        tiers: tiers_summary,
        tier_second_level,
        regions,
        pillar_summary,
        spread_by_year,
        correlation: corr,
        rank_regression,
        index_on_pillars,
        weights,
        rank_changes,
        clusters,
        placement: None,
        coverage,
        notes,
    };
    if let Some((name, inputs)) = &options.placed {
        // Score the placed city against the analysed year's reference set.
        let mut set = year_inputs.clone();
        set.insert(format!("\u{0}{name}"), inputs.clone());
        let raws: Vec<crate::score::RawValues> = set
            .values()
            .map(|i| crate::score::raw_values(profile, i))
            .collect();
        let reference = crate::score::Reference::from_raw(profile, raws.iter());
        let raw = crate::score::raw_values(profile, inputs);
        let s = score_raw(profile, &raw, &reference, inputs);
        report.placement = place(&report, name, &s);
    }
    Ok(report)
}
