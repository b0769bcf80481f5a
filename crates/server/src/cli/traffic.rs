//! `citybrain traffic` subcommands: run the mesoscopic engine on SUMO or
//! CityFlow files, alone or as baseline + variant. The report format is
//! documented in `docs/specs/traffic-report.md`, the scenario file in
//! `docs/specs/traffic-scenario.md`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use engine_traffic::{Comparison, Demand, Network, Params, Report, Scenario};

use super::ProgressBar;

/// `citybrain traffic` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Prints what this engine offers.
    Info,
    /// Runs one scenario (or, with `--variant`, baseline and scenario) and writes the report.
    Run(RunArgs),
    /// Runs the baseline and the `--scenario` variant and writes both with KPI deltas.
    Compare(RunArgs),
}

/// Inputs and options of a run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// SUMO network (`.net.xml` with its `tlLogic`).
    #[arg(long, requires = "routes", conflicts_with_all = ["roadnet", "flow"])]
    net: Option<PathBuf>,
    /// SUMO routes (`.rou.xml`: vehicles with routes, or trips).
    #[arg(long, requires = "net")]
    routes: Option<PathBuf>,
    /// CityFlow road network (`roadnet.json`).
    #[arg(long, requires = "flow")]
    roadnet: Option<PathBuf>,
    /// CityFlow flows (`flow.json`).
    #[arg(long, requires = "roadnet")]
    flow: Option<PathBuf>,
    /// Scenario file (JSON) with the edits of the variant.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Also run the baseline and write baseline, variant and deltas (as `compare`).
    #[arg(long)]
    variant: bool,
    /// Model parameters (JSON, fields of `engine_traffic::Params`); defaults when absent.
    #[arg(long)]
    params: Option<PathBuf>,
    /// Where to write the report JSON.
    #[arg(long)]
    out: PathBuf,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated horizon, s.
    #[arg(long, default_value_t = 3600)]
    horizon_s: u32,
    /// Leave per-vehicle records out of the report (smaller files for big runs).
    #[arg(long)]
    no_vehicles: bool,
}

/// Runs one subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Info => {
            tracing::info!(
                inputs = "SUMO .net.xml + .rou.xml, CityFlow roadnet.json + flow.json",
                edits = "closures, lane_closures, capacity, signals, demand, added_lanes",
                "Signal-aware mesoscopic traffic engine: `citybrain traffic run --help`."
            );
            Ok(())
        }
        Cmd::Run(args) if args.variant => compare(&args),
        Cmd::Run(args) => single(&args),
        Cmd::Compare(args) => compare(&args),
    }
}

fn read(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
}

fn load(args: &RunArgs) -> anyhow::Result<(Network, Demand)> {
    match (&args.net, &args.routes, &args.roadnet, &args.flow) {
        (Some(n), Some(r), None, None) => engine_traffic::parse_sumo(&read(n)?, &read(r)?)
            .with_context(|| format!("parsing {} and {}", n.display(), r.display())),
        (None, None, Some(n), Some(f)) => engine_traffic::parse_cityflow(&read(n)?, &read(f)?)
            .with_context(|| format!("parsing {} and {}", n.display(), f.display())),
        _ => bail!("give either --net and --routes (SUMO) or --roadnet and --flow (CityFlow)"),
    }
}

fn options(args: &RunArgs) -> anyhow::Result<(Scenario, Params)> {
    let scenario = match &args.scenario {
        Some(p) => Scenario::from_json(&read(p)?)
            .with_context(|| format!("parsing scenario {}", p.display()))?,
        None => Scenario::default(),
    };
    let mut params: Params = match &args.params {
        Some(p) => serde_json::from_str(&read(p)?)
            .with_context(|| format!("parsing parameters {}", p.display()))?,
        None => Params::default(),
    };
    if args.no_vehicles {
        params.record_vehicles = false;
    }
    Ok((scenario, params))
}

/// One simulation with a progress bar; `wall_s` covers this call only.
fn simulate(
    net: &Network,
    demand: &Demand,
    scenario: &Scenario,
    params: &Params,
    args: &RunArgs,
    label: &str,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let bar = ProgressBar::new(label, "s");
    let mut progress = bar;
    let mut report = {
        let mut to_secs = |done: u64, total: u64| {
            scenario::Progress::update(&mut progress, done / 1000, total / 1000);
        };
        engine_traffic::simulate(
            net,
            demand,
            scenario,
            params,
            args.seed,
            args.horizon_s,
            &mut to_secs,
        )?
    };
    progress.finish();
    report.kpis.wall_s = Some(started.elapsed().as_secs_f64());
    Ok(report)
}

fn write(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

fn single(args: &RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (net, demand) = load(args)?;
    let (scenario, params) = options(args)?;
    let parse_s = started.elapsed().as_secs_f64();
    let mut report = simulate(&net, &demand, &scenario, &params, args, "simulating")?;
    // wall_s is the whole run: reading and parsing the inputs plus simulating
    report.kpis.wall_s = report.kpis.wall_s.map(|s| s + parse_s);
    write(&args.out, &report)?;
    let k = &report.kpis;
    tracing::info!(
        out = %args.out.display(),
        loaded = k.loaded_vehicles,
        completed = k.completed_trips,
        avg_travel_time_s = format!("{:.1}", k.avg_travel_time_s),
        wall_s = format!("{:.3}", k.wall_s.unwrap_or_default()),
        "Traffic run finished."
    );
    Ok(())
}

fn compare(args: &RunArgs) -> anyhow::Result<()> {
    if args.scenario.is_none() {
        bail!("compare needs --scenario (the variant's edits)");
    }
    let started = Instant::now();
    let (net, demand) = load(args)?;
    let (scenario, params) = options(args)?;
    let parse_s = started.elapsed().as_secs_f64();
    let mut baseline = simulate(
        &net,
        &demand,
        &Scenario::default(),
        &params,
        args,
        "baseline",
    )?;
    baseline.kpis.wall_s = baseline.kpis.wall_s.map(|s| s + parse_s);
    let variant = simulate(&net, &demand, &scenario, &params, args, "variant")?;
    let deltas = scenario::compare(&baseline.kpis.to_map(), &variant.kpis.to_map());
    let out = Comparison {
        baseline,
        variant,
        deltas,
    };
    write(&args.out, &out)?;
    for d in &out.deltas {
        if matches!(
            d.kpi.as_str(),
            "avg_travel_time_s" | "mean_delay_s" | "completed_trips" | "co2_kg"
        ) {
            tracing::info!(
                kpi = %d.kpi,
                baseline = format!("{:.1}", d.baseline),
                variant = format!("{:.1}", d.variant),
                delta = format!("{:+.1}", d.delta),
                "Scenario delta."
            );
        }
    }
    tracing::info!(out = %args.out.display(), "Traffic comparison finished.");
    Ok(())
}
