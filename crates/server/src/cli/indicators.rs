//! `citybrain indicators` subcommands: profiles, live metric ids, scoring one
//! area, a synthetic multi-city data set, and the evaluation report.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use governance::stats::Ddof;
use governance::{
    EntityInputs, Profile, ReportOptions, SynthParams, TierMethod, builtin, parse_tidy_csv,
    render_html, synthetic_rows, write_tidy_csv,
};
use scenario::Progress as _;

/// `citybrain indicators` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Prints what this area offers.
    Info,
    /// Lists the builtin profiles.
    Profiles,
    /// Validates a profile (builtin name or TOML/JSON file) and prints its tree.
    Validate {
        /// Builtin name (`six-pillar`, `gbt-33356`, `iso-37122-live`) or a file path.
        #[arg(long)]
        profile: String,
    },
    /// Lists the live metric ids profiles may bind to.
    Metrics,
    /// Scores one area from a JSON file of inputs (`{"statics":{..},"live":{..}}`)
    /// and prints the score as JSON.
    Score {
        /// Builtin name or file path.
        #[arg(long, default_value = "six-pillar")]
        profile: String,
        /// JSON file with the area's inputs.
        #[arg(long)]
        inputs: PathBuf,
    },
    /// Writes a seeded synthetic multi-city, multi-year tidy CSV (no real city).
    Synth {
        /// Builtin name or file path.
        #[arg(long, default_value = "six-pillar")]
        profile: String,
        /// Number of cities.
        #[arg(long, default_value_t = 150)]
        cities: usize,
        /// Number of years.
        #[arg(long, default_value_t = 3)]
        years: usize,
        /// First year.
        #[arg(long, default_value_t = 2019)]
        first_year: i32,
        /// Seed.
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Builds the evaluation report: `report.json` and a self-contained HTML page.
    Report {
        /// The tidy multi-city CSV (`city,province,year,indicator,value,...`).
        #[arg(long, visible_alias = "cities", required_unless_present = "synthetic")]
        input: Option<PathBuf>,
        /// Use a seeded synthetic 150-city, three-year data set instead of `--input`.
        #[arg(long, conflicts_with = "input")]
        synthetic: bool,
        /// Builtin name or file path.
        #[arg(long, default_value = "six-pillar")]
        profile: String,
        /// Output: an `.html` file (the JSON goes next to it as `.json`) or a
        /// directory (gets `report.html` and `report.json`).
        #[arg(long)]
        out: PathBuf,
        /// Year to analyse (default: the latest in the data).
        #[arg(long)]
        year: Option<i32>,
        /// Tier method.
        #[arg(long, value_enum, default_value_t = TierArg::EqualWidth)]
        tiers: TierArg,
        /// Fixed tier cuts `c1,c2,c3` (ascending); overrides `--tiers`.
        #[arg(long, value_delimiter = ',')]
        cuts: Option<Vec<f64>>,
        /// Tier on this block's score rate (e.g. `smart_governance`) instead of the composite.
        #[arg(long)]
        tier_on: Option<String>,
        /// ddof of standard deviations (0 = population, 1 = sample).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
        ddof: u8,
        /// External index regressed on the composite rank.
        #[arg(long, default_value = "digital_gov_index")]
        index: String,
        /// JSON inputs of a city to place in the comparison (e.g. the live city).
        #[arg(long)]
        place: Option<PathBuf>,
        /// Name shown for the placed city.
        #[arg(long, default_value = "live city")]
        place_name: String,
    },
}

/// Tier methods on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierArg {
    /// Equal-width quartering of the observed range (the report's quartile principle).
    EqualWidth,
    /// Population quartiles.
    Quantile,
    /// Mean ± one SD.
    MeanSd,
}

fn load_profile(arg: &str) -> anyhow::Result<Profile> {
    if governance::BUILTIN_PROFILES.iter().any(|(n, _)| *n == arg) {
        return Ok(builtin(arg)?);
    }
    let path = Path::new(arg);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read profile {arg:?} (not a builtin name either)"))?;
    let profile = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        Profile::from_json(&text)
    } else {
        Profile::from_toml(&text)
    };
    profile.with_context(|| format!("invalid profile {}", path.display()))
}

fn out() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

/// Runs one subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Info => {
            let mut o = out();
            writeln!(
                o,
                "Governance indicators: profiles, scoring and the evaluation report."
            )?;
            writeln!(
                o,
                "Subcommands: profiles, validate, metrics, score, synth, report."
            )?;
            Ok(())
        }
        Cmd::Profiles => {
            let mut o = out();
            for (name, _) in governance::BUILTIN_PROFILES {
                let p = builtin(name)?;
                let m = p.meta();
                writeln!(
                    o,
                    "{name}\t{} / {}\t{} pillars, {} indicators",
                    m.name_zh,
                    m.name_en,
                    p.pillars().len(),
                    p.indicators().len()
                )?;
            }
            Ok(())
        }
        Cmd::Validate { profile } => {
            let p = load_profile(&profile)?;
            let weights = p.effective_weights();
            let mut o = out();
            writeln!(o, "{} ({}) is valid.", p.meta().name_en, p.meta().id)?;
            for b in p.blocks() {
                writeln!(
                    o,
                    "{}{} {} [{}] weight {}",
                    "  ".repeat(usize::from(b.level - 1)),
                    b.name_zh,
                    b.name_en,
                    b.id,
                    b.weight
                )?;
            }
            for i in p.indicators() {
                writeln!(
                    o,
                    "  leaf {} [{}] under {}: effective weight {:.4}",
                    i.name_en,
                    i.id,
                    i.parent,
                    weights.get(&i.id).copied().unwrap_or(0.0)
                )?;
            }
            Ok(())
        }
        Cmd::Metrics => {
            let mut o = out();
            for m in governance::LIVE_METRICS {
                writeln!(o, "{}\t{}\t{}\t{}", m.id, m.unit, m.provider, m.description)?;
            }
            Ok(())
        }
        Cmd::Score { profile, inputs } => {
            let p = load_profile(&profile)?;
            let text = std::fs::read_to_string(&inputs)
                .with_context(|| format!("cannot read {}", inputs.display()))?;
            let e: EntityInputs = serde_json::from_str(&text)
                .with_context(|| format!("{} is not an inputs JSON", inputs.display()))?;
            let s = governance::score(&p, &e, &governance::Reference::none());
            writeln!(out(), "{}", serde_json::to_string_pretty(&s)?)?;
            Ok(())
        }
        Cmd::Synth {
            profile,
            cities,
            years,
            first_year,
            seed,
            out: path,
        } => {
            let p = load_profile(&profile)?;
            let params = SynthParams {
                cities,
                first_year,
                years,
                seed,
                ..SynthParams::default()
            };
            let rows = synthetic_rows(&p, &params);
            std::fs::write(&path, write_tidy_csv(&rows))
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(rows = rows.len(), path = %path.display(), "Wrote synthetic data.");
            Ok(())
        }
        Cmd::Report {
            input,
            synthetic,
            profile,
            out: out_path,
            year,
            tiers,
            cuts,
            tier_on,
            ddof,
            index,
            place,
            place_name,
        } => {
            let mut bar = super::ProgressBar::new("report", "steps");
            bar.update(0, 4);
            let p = load_profile(&profile)?;
            let (csv, note) = match (&input, synthetic) {
                (Some(path), _) => (
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                    None,
                ),
                (None, true) => (
                    write_tidy_csv(&synthetic_rows(&p, &SynthParams::default())),
                    Some(
                        "Synthetic data: 150 generated cities (seed 2021), not real cities."
                            .to_string(),
                    ),
                ),
                (None, false) => bail!("give --input FILE.csv or --synthetic"),
            };
            let data = parse_tidy_csv(&csv).context("cannot parse the cities CSV")?;
            bar.update(1, 4);
            let placed = match place {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let e: EntityInputs = serde_json::from_str(&text)
                        .with_context(|| format!("{} is not an inputs JSON", path.display()))?;
                    Some((place_name, e))
                }
                None => None,
            };
            let options = ReportOptions {
                tier_method: match (cuts.as_deref(), tiers) {
                    (Some(&[a, b, c]), _) => TierMethod::Fixed { cuts: [a, b, c] },
                    (Some(other), _) => bail!("--cuts takes three values, got {}", other.len()),
                    (None, TierArg::EqualWidth) => TierMethod::EqualWidth,
                    (None, TierArg::Quantile) => TierMethod::Quantile,
                    (None, TierArg::MeanSd) => TierMethod::MeanSd { ddof: Ddof::Sample },
                },
                ddof: if ddof == 0 {
                    Ddof::Population
                } else {
                    Ddof::Sample
                },
                external_index: Some(index),
                year,
                placed,
                note,
                tier_block: tier_on,
            };
            let report = governance::build_report(&p, &data, &options)?;
            bar.update(2, 4);
            let html = render_html(&report);
            let json = serde_json::to_string_pretty(&report)?;
            bar.update(3, 4);
            let (html_path, json_path) = if out_path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("html"))
            {
                if let Some(dir) = out_path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                (out_path.clone(), out_path.with_extension("json"))
            } else {
                std::fs::create_dir_all(&out_path)
                    .with_context(|| format!("cannot create {}", out_path.display()))?;
                (out_path.join("report.html"), out_path.join("report.json"))
            };
            std::fs::write(&html_path, html)
                .with_context(|| format!("cannot write {}", html_path.display()))?;
            std::fs::write(&json_path, json)
                .with_context(|| format!("cannot write {}", json_path.display()))?;
            bar.update(4, 4);
            bar.finish();
            tracing::info!(
                cities = report.cities.len(),
                year = report.year,
                html = %html_path.display(),
                json = %json_path.display(),
                "Wrote the evaluation report."
            );
            Ok(())
        }
    }
}
