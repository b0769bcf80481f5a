//! `citybrain energy` subcommands: power flow, feeder time series with
//! what-ifs, PV yield, synthetic feeders and the emission-factor table.
//! The file formats are documented in `docs/specs/energy-report.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::Subcommand;
use engine_energy::pv::{PvSystem, parse_tmy3, pv_chain};
use engine_energy::{
    ElementSeries, IslandPolicy, Network, PfOptions, Solver, StudyInputs, StudySpec, SyntheticSpec,
    run_study, synthetic_feeder,
};
use serde::Serialize;

use super::ProgressBar;

/// `citybrain energy` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Prints what this engine offers.
    Info,
    /// One AC power flow on a folder of pandapower CSV element tables.
    #[command(alias = "powerflow")]
    Pf {
        /// Folder with bus.csv, line.csv, trafo.csv, load.csv, ... (pandapower columns).
        #[arg(long, alias = "network")]
        net: PathBuf,
        /// Where to write the result JSON.
        #[arg(long)]
        out: PathBuf,
        /// Largest allowed power mismatch, MVA.
        #[arg(long, default_value_t = 1e-10)]
        tolerance_mva: f64,
        /// Newton-Raphson iteration limit.
        #[arg(long, default_value_t = 30)]
        max_iteration: usize,
        /// Fail if loaded buses are cut off from every external grid
        /// (default: de-energise them and list them).
        #[arg(long)]
        fail_on_islands: bool,
    },
    /// A feeder time series (baseline and what-ifs) from a study spec.
    #[command(alias = "simulate")]
    Timeseries {
        /// Study spec (JSON), see docs/specs/energy-report.md.
        #[arg(long)]
        spec: PathBuf,
        /// Where to write the report JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Hourly PV output of one system from a TMY3 weather file.
    Pv {
        /// NREL TMY3 CSV file.
        #[arg(long)]
        weather: PathBuf,
        /// DC rating, kWp.
        #[arg(long, default_value_t = 5.0)]
        kwp: f64,
        /// Tilt, degrees.
        #[arg(long, default_value_t = 25.0)]
        tilt: f64,
        /// Azimuth, degrees east of north (180 = south).
        #[arg(long, default_value_t = 180.0)]
        azimuth: f64,
        /// Where to write the result JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes a seeded synthetic feeder as pandapower CSV tables.
    Synth {
        /// MV/LV substations.
        #[arg(long, default_value_t = 10)]
        substations: usize,
        /// LV buses per substation.
        #[arg(long, default_value_t = 98)]
        lv_buses: usize,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Output folder (created).
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes the emission-factor table (JSON) to a file.
    Factors {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs one subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Info => {
            tracing::info!("Energy commands: pf, timeseries, pv, synth, factors (see --help).");
            Ok(())
        }
        Cmd::Pf {
            net,
            out,
            tolerance_mva,
            max_iteration,
            fail_on_islands,
        } => {
            let network = read_network(&net)?;
            let opts = PfOptions {
                tolerance_mva,
                max_iteration,
                islands: if fail_on_islands {
                    IslandPolicy::Error
                } else {
                    IslandPolicy::Deenergize
                },
            };
            let t0 = Instant::now();
            let mut solver = Solver::new(&network, opts)
                .with_context(|| format!("cannot model {}", net.display()))?;
            let res = solver
                .run(&network)
                .with_context(|| format!("power flow on {}", net.display()))?;
            let elapsed = t0.elapsed();
            tracing::info!(
                buses = network.bus.len(),
                iterations = res.iterations,
                losses_mw = res.losses_mw,
                elapsed_us = elapsed.as_micros() as u64,
                "Power flow converged."
            );
            #[derive(Serialize)]
            struct Out<'a> {
                format: u32,
                converged: bool,
                #[serde(flatten)]
                result: &'a engine_energy::PfResult,
            }
            write_json(
                &out,
                &Out {
                    format: 1,
                    converged: true,
                    result: &res,
                },
            )
        }
        Cmd::Timeseries { spec, out } => {
            let text = std::fs::read_to_string(&spec)
                .with_context(|| format!("cannot read {}", spec.display()))?;
            let s: StudySpec = serde_json::from_str(&text)
                .with_context(|| format!("bad study spec {}", spec.display()))?;
            let base = spec.parent().unwrap_or(Path::new("."));
            let network = read_network(&base.join(&s.network))?;
            let series = match &s.element_series {
                Some(f) => {
                    let p = base.join(f);
                    let t = std::fs::read_to_string(&p)
                        .with_context(|| format!("cannot read {}", p.display()))?;
                    Some(
                        ElementSeries::from_csv(&network, "element_series", &t)
                            .with_context(|| format!("bad element series {}", p.display()))?,
                    )
                }
                None => None,
            };
            let pv_kw_per_kwp = match &s.weather {
                Some(f) => Some(pv_per_kwp_15min(&base.join(f))?),
                None => None,
            };
            let inputs = StudyInputs {
                network,
                series,
                pv_kw_per_kwp,
            };
            let mut bar = ProgressBar::new("simulating", "steps");
            let t0 = Instant::now();
            let report = run_study(&s, &inputs, &mut bar);
            bar.finish();
            let report = report.context("study failed")?;
            let runs = 1 + report.variants.len();
            let secs = t0.elapsed().as_secs_f64();
            tracing::info!(
                runs,
                steps = report.steps,
                seconds = secs,
                ms_per_step = secs * 1000.0 / (runs * report.steps.max(1)) as f64,
                "Study done."
            );
            write_json(&out, &report)
        }
        Cmd::Pv {
            weather,
            kwp,
            tilt,
            azimuth,
            out,
        } => {
            let text = std::fs::read_to_string(&weather)
                .with_context(|| format!("cannot read {}", weather.display()))?;
            let tmy = parse_tmy3(&text).context("bad TMY3 file")?;
            let sys = PvSystem {
                pdc0_w: kwp * 1000.0,
                tilt,
                azimuth,
                ..PvSystem::default()
            };
            let hourly: Vec<f64> = tmy
                .records
                .iter()
                .map(|w| pv_chain(&sys, &tmy.site, w).pac_w / 1000.0)
                .collect();
            let annual: f64 = hourly.iter().sum();
            #[derive(Serialize)]
            struct Out {
                format: u32,
                system: PvSystem,
                annual_ac_kwh: f64,
                specific_yield_kwh_per_kwp: f64,
                hourly_ac_kw: Vec<f64>,
            }
            write_json(
                &out,
                &Out {
                    format: 1,
                    system: sys,
                    annual_ac_kwh: annual,
                    specific_yield_kwh_per_kwp: annual / kwp,
                    hourly_ac_kw: hourly,
                },
            )
        }
        Cmd::Synth {
            substations,
            lv_buses,
            seed,
            out,
        } => {
            let spec = SyntheticSpec {
                substations,
                lv_buses,
                seed,
            };
            let net = synthetic_feeder(&spec);
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            for (name, text) in net.to_csv_tables() {
                let p = out.join(format!("{name}.csv"));
                std::fs::write(&p, text)
                    .with_context(|| format!("cannot write {}", p.display()))?;
            }
            tracing::info!(buses = net.bus.len(), dir = %out.display(), "Synthetic feeder written.");
            Ok(())
        }
        Cmd::Factors { out } => {
            #[derive(Serialize)]
            struct Out {
                version: &'static str,
                factors: &'static [engine_energy::EmissionFactor],
            }
            write_json(
                &out,
                &Out {
                    version: engine_energy::EMISSION_TABLE_VERSION,
                    factors: engine_energy::EMISSION_FACTORS,
                },
            )
        }
    }
}

/// Reads every `*.csv` in `dir` and builds the network.
fn read_network(dir: &Path) -> anyhow::Result<Network> {
    let mut tables = BTreeMap::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let p = e?.path();
        let stem = p.file_stem().and_then(|s| s.to_str());
        if let (true, Some(stem)) = (p.extension().is_some_and(|x| x == "csv"), stem) {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            tables.insert(stem.to_string(), text);
        }
    }
    Network::from_csv_tables(&tables)
        .with_context(|| format!("bad network tables in {}", dir.display()))
}

/// kW per kWp for each 15-minute step of the TMY year (each hour held for 4 steps).
fn pv_per_kwp_15min(path: &Path) -> anyhow::Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let tmy = parse_tmy3(&text).with_context(|| format!("bad TMY3 file {}", path.display()))?;
    let sys = PvSystem::default(); // 1 kWp
    Ok(tmy
        .records
        .iter()
        .flat_map(|w| std::iter::repeat_n(pv_chain(&sys, &tmy.site, w).pac_w / 1000.0, 4))
        .collect())
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "Wrote result.");
    Ok(())
}
