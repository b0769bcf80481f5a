//! `citybrain community` subcommands: trace replay, spec simulation with
//! what-ifs, staffing, accessibility, SEIR and KPIs of incident records.
//! Output formats: `docs/specs/community-report.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use engine_community::{
    AccessReport, CitySpec, Discipline, IncidentRecord, KpiOptions, Poi, SeirParams, ServiceTarget,
    TargetMeasure, WalkGraph, access_report, kpis_of_records, learn_arrivals, parse_boston311,
    parse_buildings, parse_pois, parse_trace_hours, parse_trace_ms, recommend_staff, replay,
    simulate, simulate_seir,
};
use serde::Serialize;

use super::ProgressBar;

/// Nanosecond ticks per hour: float-hour traces are replayed at 1 ns.
const NS_PER_H: f64 = 3.6e12;

/// `citybrain community` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Prints what this engine offers.
    Info,
    /// Replays a job trace on C servers and writes each job's start and end.
    Replay {
        /// Trace CSV: `job_id,arrival_ms,service_ms,priority` (integer ms) or
        /// `job_id,arrival_h,service_h,priority` (float hours).
        #[arg(long)]
        trace: PathBuf,
        /// Servers.
        #[arg(long)]
        servers: u32,
        /// Queue discipline.
        #[arg(long, value_enum, default_value = "fifo")]
        discipline: DisciplineArg,
        /// Output CSV: `job_id,start_ms,end_ms,wait_ms` (or `_h` columns for an hours trace).
        #[arg(long)]
        out: PathBuf,
    },
    /// Runs an event-handling spec (baseline and what-if variants) and writes the report.
    Simulate {
        /// Spec JSON (`CitySpec`).
        #[arg(long)]
        spec: PathBuf,
        /// Output report JSON.
        #[arg(long)]
        out: PathBuf,
        /// Override the spec's seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Smallest team meeting a service target by Erlang C, confirmed by simulation.
    Staffing {
        /// Arrivals per hour.
        #[arg(long)]
        arrivals_per_h: f64,
        /// Mean handling time, hours.
        #[arg(long)]
        mean_service_h: f64,
        /// Share of cases that must meet the limit (0.9 = 90%).
        #[arg(long, default_value_t = 0.9)]
        share: f64,
        /// The time limit, hours.
        #[arg(long)]
        within_h: f64,
        /// Which time is limited: the wait (response) or wait plus handling (resolution).
        #[arg(long, value_enum, default_value = "sojourn")]
        measure: MeasureArg,
        /// Largest team considered.
        #[arg(long, default_value_t = 1000)]
        max_servers: u32,
        /// Simulated jobs per team size for the confirmation.
        #[arg(long, default_value_t = 400_000)]
        sim_jobs: u64,
        /// Seed of the confirmation runs.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Walking distance from every building to the nearest POI per category (15-minute life circle).
    Access {
        /// Nodes CSV (needs `node_index`).
        #[arg(long)]
        nodes: PathBuf,
        /// Edges CSV: `from_node,to_node,length_m` (undirected).
        #[arg(long)]
        edges: PathBuf,
        /// POIs CSV: `category,osm_id,node_index`.
        #[arg(long)]
        pois: PathBuf,
        /// Buildings CSV: `osm_id,node_index` (+ optional `community`, `cell`, `residents`).
        #[arg(long)]
        buildings: PathBuf,
        /// Distance thresholds, m.
        #[arg(long, value_delimiter = ',', default_value = "400,800,1200")]
        thresholds_m: Vec<f64>,
        /// What-if: add a facility, `category:node_index` (repeatable).
        #[arg(long)]
        add_poi: Vec<String>,
        /// What-if: remove the POI with this id (repeatable).
        #[arg(long)]
        remove_poi: Vec<String>,
        /// Output JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Integrates an SEIR scenario across communities (RK4).
    Seir {
        /// Parameters JSON (`SeirParams`).
        #[arg(long)]
        params: PathBuf,
        /// Output JSON.
        #[arg(long)]
        out: PathBuf,
    },
    /// Learns hour-of-week arrival rates per (community, type) from incident
    /// records and writes them as the `arrivals` list of a spec.
    Learn {
        /// Incident file.
        #[arg(long)]
        incidents: PathBuf,
        /// Its format.
        #[arg(long, value_enum, default_value = "json")]
        format: IncidentFormat,
        /// Leave out streams with fewer records.
        #[arg(long, default_value_t = 50)]
        min_count: usize,
        /// Output JSON (an array of arrival streams).
        #[arg(long)]
        out: PathBuf,
    },
    /// KPIs of incident records (the live link), city-wide and per community, team and day.
    Kpis {
        /// Incident file.
        #[arg(long)]
        incidents: PathBuf,
        /// Its format.
        #[arg(long, value_enum, default_value = "json")]
        format: IncidentFormat,
        /// Instant to take the state at, ms on the records' clock (default: latest time seen).
        #[arg(long)]
        as_of_ms: Option<i64>,
        /// Output JSON.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Queue discipline.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DisciplineArg {
    /// First come, first served.
    Fifo,
    /// Non-preemptive priority (0 first), FIFO within a class.
    Priority,
}

/// Limited time of a staffing target.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MeasureArg {
    /// Waiting time until a worker starts.
    Wait,
    /// Waiting plus handling time.
    Sojourn,
}

/// Incident file formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IncidentFormat {
    /// A JSON array of incident records.
    Json,
    /// The Boston 311 requests CSV.
    Boston311,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("serialising the report")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Runs one subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Info => {
            tracing::info!(
                "Community engine: replay, simulate, staffing, access, seir, kpis (see --help)."
            );
            Ok(())
        }
        Cmd::Replay {
            trace,
            servers,
            discipline,
            out,
        } => run_replay(&trace, servers, discipline, &out),
        Cmd::Simulate { spec, out, seed } => run_simulate(&spec, &out, seed),
        Cmd::Staffing {
            arrivals_per_h,
            mean_service_h,
            share,
            within_h,
            measure,
            max_servers,
            sim_jobs,
            seed,
            out,
        } => {
            let target = ServiceTarget {
                share,
                within: within_h,
                measure: match measure {
                    MeasureArg::Wait => TargetMeasure::Wait,
                    MeasureArg::Sojourn => TargetMeasure::Sojourn,
                },
            };
            let mut bar = ProgressBar::new("simulating", "jobs");
            let report = recommend_staff(
                arrivals_per_h,
                mean_service_h,
                target,
                max_servers,
                sim_jobs,
                seed,
                &mut bar,
            );
            bar.finish();
            let report = report.context("staffing")?;
            tracing::info!(
                servers = report.servers,
                analytic_share = report.analytic_share,
                simulated_share = report.simulated_share.mean,
                confirmed = report.confirmed,
                "Recommended a team size."
            );
            write_json(&out, &report)
        }
        Cmd::Access {
            nodes,
            edges,
            pois,
            buildings,
            thresholds_m,
            add_poi,
            remove_poi,
            out,
        } => run_access(
            &nodes,
            &edges,
            &pois,
            &buildings,
            &thresholds_m,
            &add_poi,
            &remove_poi,
            &out,
        ),
        Cmd::Seir { params, out } => {
            let p: SeirParams = serde_json::from_str(&read(&params)?)
                .with_context(|| format!("parsing {}", params.display()))?;
            let started = Instant::now();
            let r = simulate_seir(&p).context("SEIR")?;
            tracing::info!(
                city_peak_day = r.city_peak_day,
                city_peak_infectious = r.city_peak_infectious,
                city_attack_rate = r.city_attack_rate,
                wall_s = started.elapsed().as_secs_f64(),
                "Integrated the SEIR scenario."
            );
            write_json(&out, &r)
        }
        Cmd::Learn {
            incidents,
            format,
            min_count,
            out,
        } => {
            let records = read_incidents(&incidents, format)?;
            let streams = learn_arrivals(&records, min_count);
            tracing::info!(
                records = records.len(),
                streams = streams.len(),
                "Learned arrival streams."
            );
            write_json(&out, &streams)
        }
        Cmd::Kpis {
            incidents,
            format,
            as_of_ms,
            out,
        } => {
            let records = read_incidents(&incidents, format)?;
            let report = kpis_of_records(
                &records,
                &KpiOptions {
                    as_of_ms,
                    day_origin_ms: None,
                },
            );
            tracing::info!(
                requests = report.city.requests,
                closure_rate = report.city.closure_rate,
                on_time_closure_rate = report.city.on_time_closure_rate,
                "Computed incident KPIs."
            );
            #[derive(Serialize)]
            struct Out<'a> {
                governance_inputs: engine_community::GovernanceInputs,
                kpis: &'a engine_community::KpiReport,
            }
            write_json(
                &out,
                &Out {
                    governance_inputs: report.governance_inputs(),
                    kpis: &report,
                },
            )
        }
    }
}

fn read_incidents(path: &Path, format: IncidentFormat) -> anyhow::Result<Vec<IncidentRecord>> {
    let text = read(path)?;
    Ok(match format {
        IncidentFormat::Json => {
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        IncidentFormat::Boston311 => {
            parse_boston311(&text).with_context(|| format!("parsing {}", path.display()))?
        }
    })
}

fn run_replay(
    trace: &Path,
    servers: u32,
    discipline: DisciplineArg,
    out: &Path,
) -> anyhow::Result<()> {
    let text = read(trace)?;
    let hours = text.lines().next().is_some_and(|h| h.contains("arrival_h"));
    let jobs = if hours {
        parse_trace_hours(&text, NS_PER_H)
    } else {
        parse_trace_ms(&text)
    }
    .with_context(|| format!("parsing {}", trace.display()))?;
    let d = match discipline {
        DisciplineArg::Fifo => Discipline::Fifo,
        DisciplineArg::Priority => Discipline::Priority,
    };
    let timings = replay(&jobs, servers, d).context("replay")?;
    let mut csv = String::with_capacity(timings.len() * 40);
    if hours {
        csv.push_str("job_id,start_h,end_h,wait_h\n");
        #[allow(clippy::cast_precision_loss)]
        let h = |t: u64| t as f64 / NS_PER_H;
        for t in &timings {
            writeln!(csv, "{},{},{},{}", t.id, h(t.start), h(t.end), h(t.wait))?;
        }
    } else {
        csv.push_str("job_id,start_ms,end_ms,wait_ms\n");
        for t in &timings {
            writeln!(csv, "{},{},{},{}", t.id, t.start, t.end, t.wait)?;
        }
    }
    std::fs::write(out, csv).with_context(|| format!("writing {}", out.display()))?;
    tracing::info!(jobs = timings.len(), servers, out = %out.display(), "Replayed the trace.");
    Ok(())
}

fn run_simulate(spec_path: &Path, out: &Path, seed: Option<u64>) -> anyhow::Result<()> {
    let mut spec = CitySpec::from_json(&read(spec_path)?)
        .with_context(|| format!("parsing {}", spec_path.display()))?;
    if let Some(s) = seed {
        spec.seed = s;
    }
    spec.validate().context("checking the spec")?;
    let mut bar = ProgressBar::new("simulating", "ms");
    let started = Instant::now();
    let report = simulate(&spec, &mut bar);
    bar.finish();
    let wall_s = started.elapsed().as_secs_f64();
    let report = report.context("simulating")?;
    let jobs: u64 =
        report.baseline.jobs + report.variants.iter().map(|v| v.report.jobs).sum::<u64>();
    let events: u64 =
        report.baseline.events + report.variants.iter().map(|v| v.report.events).sum::<u64>();
    #[allow(clippy::cast_precision_loss)]
    let (jobs_per_s, events_per_s) = (jobs as f64 / wall_s, events as f64 / wall_s);
    tracing::info!(
        runs = 1 + report.variants.len(),
        jobs,
        events,
        wall_s,
        jobs_per_s,
        events_per_s,
        "Simulated the spec."
    );
    write_json(out, &report)
}

#[allow(clippy::too_many_arguments)]
fn run_access(
    nodes: &Path,
    edges: &Path,
    pois: &Path,
    buildings: &Path,
    thresholds_m: &[f64],
    add_poi: &[String],
    remove_poi: &[String],
    out: &Path,
) -> anyhow::Result<()> {
    let graph = WalkGraph::from_csv(&read(nodes)?, &read(edges)?).context("reading the graph")?;
    let base_pois = parse_pois(&read(pois)?).context("reading POIs")?;
    let blds = parse_buildings(&read(buildings)?).context("reading buildings")?;
    let started = Instant::now();
    let baseline = access_report(&graph, &blds, &base_pois, thresholds_m).context("access")?;
    tracing::info!(
        nodes = graph.nodes(),
        edges = graph.edges(),
        buildings = blds.len(),
        pois = base_pois.len(),
        wall_s = started.elapsed().as_secs_f64(),
        "Computed accessibility."
    );
    #[derive(Serialize)]
    struct Out {
        baseline: AccessReport,
        variant: Option<AccessReport>,
        deltas: Vec<scenario::KpiDelta>,
    }
    let mut result = Out {
        baseline,
        variant: None,
        deltas: Vec::new(),
    };
    if !add_poi.is_empty() || !remove_poi.is_empty() {
        let mut pois = base_pois.clone();
        for id in remove_poi {
            let before = pois.len();
            pois.retain(|p| &p.id != id);
            if pois.len() == before {
                bail!("--remove-poi {id}: no POI has this id");
            }
        }
        for (k, spec) in add_poi.iter().enumerate() {
            let Some((category, node)) = spec.split_once(':') else {
                bail!("--add-poi {spec}: expected category:node_index");
            };
            let node: u32 = node
                .parse()
                .with_context(|| format!("--add-poi {spec}: node index"))?;
            pois.push(Poi {
                category: category.to_string(),
                id: format!("added-{k}"),
                node,
            });
        }
        let variant =
            access_report(&graph, &blds, &pois, thresholds_m).context("access what-if")?;
        result.deltas = scenario::compare(&result.baseline.flat(), &variant.flat());
        result.variant = Some(variant);
    }
    write_json(out, &result)
}
