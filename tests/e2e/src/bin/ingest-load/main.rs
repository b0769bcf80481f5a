//! `ingest-load`: the end-to-end ingest load run (issue 2, acceptance 6).
//!
//! ```sh
//! cargo run --release -p e2e --bin ingest-load -- --broker embedded --db sqlite --seconds 30
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p e2e --bin ingest-load -- --broker mosquitto --db postgres --seconds 30
//! ```
//!
//! Each **repetition** runs two phases on a fresh broker with the same
//! publishers and payloads (gateways of the synthetic test city, batched
//! native-JSON messages, QoS 1):
//!
//! 1. **bare**: a bare MQTT 5 subscriber that only acknowledges drains the
//!    broker. Its receive rate is the physical limit of this broker, these
//!    publishers and this machine: the peer.
//! 2. **serve**: `citybrain serve` ingests: decode, validate, commit to the
//!    store, acknowledge, apply to the twin. Its rate is observations
//!    durably committed (new rows) per second.
//!
//! Terms:
//! - **window**: the measured interval, after a **warm-up** that is excluded.
//! - **rate**: observations consumed in the window / window length.
//! - **ratio**: serve rate / bare rate of the same repetition.
//! - **publish-to-durable / publish-to-twin**: observation timestamp (the
//!   moment the gateway built the message) to the writer's commit / to the
//!   twin applying it, from the server's histograms over the window.
//! - **lead window**: most observations published and not yet consumed; it
//!   bounds the broker backlog when the consumer is slower than the
//!   publishers (then latencies are queueing at saturation; pace the
//!   publishers with `--rate` to measure latency below saturation).
//! - **peak memory**: `VmHWM` of the server process (`/proc/<pid>/status`).
//!
//! With `--broker embedded` the broker lives inside `citybrain`, so the bare
//! phase runs `citybrain serve` with ingest subscribed to a topic nobody
//! publishes on. With `--broker mosquitto` each phase starts a private
//! Mosquitto (`testkit::services::Mosquitto`: `max_queued_messages 0`,
//! persistence on). `--db postgres` writes to a fresh schema of
//! `DATABASE_URL`, dropped afterwards.
//!
//! Results go to stdout (a table, then medians) and, with `--json FILE`, to
//! a JSON file. Measure release builds: the `citybrain` binary next to this
//! one is rebuilt in the same profile when run through `cargo run`.

mod alone;
mod infra;
mod mqtt;
mod phase;
mod procfs;
mod prom;
mod server;
mod workload;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde_json::{Value, json};

use infra::{BrokerKind, DbKind, Phase, Setup};
use phase::median;

/// Which phases to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phases {
    /// Bare subscriber, the store alone, then `citybrain serve`.
    All,
    /// Bare subscriber, then `citybrain serve`.
    Both,
    /// Only the bare subscriber.
    Bare,
    /// Only `citybrain serve` (for profiling).
    Serve,
    /// Only the store alone (no MQTT).
    Store,
}

/// End-to-end ingest load run: `citybrain serve` next to a bare subscriber.
#[derive(Debug, Parser)]
#[command(name = "ingest-load")]
struct Args {
    /// Broker carrying the load.
    #[arg(long, value_enum, default_value = "embedded")]
    broker: BrokerKind,
    /// Store of `citybrain serve`.
    #[arg(long, value_enum, default_value = "sqlite")]
    db: DbKind,
    /// Measured window per phase, seconds.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Warm-up before the window, seconds.
    #[arg(long, default_value_t = 5.0)]
    warmup: f64,
    /// Repetitions (each: bare, then serve).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Publisher connections, one gateway each (the busiest of the city).
    #[arg(long, default_value_t = 8)]
    publishers: usize,
    /// Observations per message.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Total offered observations per second; 0 = flat out (saturation).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Lead window: most observations published and not yet consumed.
    #[arg(long, default_value_t = 200_000)]
    lead: u64,
    /// Receive maximum of the bare subscriber and `[mqtt] inflight` of ingest.
    #[arg(long, default_value_t = 256)]
    inflight: u16,
    /// Seed of the synthetic city (the e2e tests' city: 11).
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Side of the synthetic city's grid (the e2e tests' city is 4). The
    /// default 10 gives each gateway enough (sensor, metric) pairs that the
    /// publishers reach 250,000 obs/s without stamping observations ahead
    /// of the wall clock (which would void the latency figures).
    #[arg(long, default_value_t = 10)]
    grid: u32,
    /// Which phases to run.
    #[arg(long, value_enum, default_value = "all")]
    phases: Phases,
    /// The `citybrain` binary (default: next to this one, rebuilt by cargo).
    #[arg(long)]
    citybrain: Option<PathBuf>,
    /// PostgreSQL URL for `--db postgres`.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Also write every figure as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep each phase's folder (server log, SQLite file).
    #[arg(long)]
    keep: bool,
    /// A command to run during each serve window, e.g. a profiler:
    /// `{pid}` is the server's pid, `{seconds}` the window length.
    #[arg(long)]
    attach: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ingest-load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    if args.batch == 0 || args.publishers == 0 || args.seconds <= 0.0 || args.repeat == 0 {
        return Err("--batch, --publishers, --seconds and --repeat must be positive".into());
    }
    let setup = Setup {
        broker: args.broker,
        db: args.db,
        window: Duration::from_secs_f64(args.seconds),
        warmup: Duration::from_secs_f64(args.warmup.max(0.0)),
        publishers: args.publishers,
        batch: args.batch,
        rate: args.rate.max(0.0),
        lead: args.lead,
        seed: args.seed,
        grid: args.grid,
        inflight: args.inflight,
        bin: server::citybrain_bin(args.citybrain.clone())?,
        database_url: args.database_url.clone(),
        keep: args.keep,
        attach: args.attach.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let machine_before = machine_note();
    let mut reps = Vec::new();
    for rep in 1..=args.repeat {
        let mut row = serde_json::Map::new();
        for name in ["bare", "store", "serve"] {
            let wanted = match args.phases {
                Phases::All => true,
                Phases::Both => name != "store",
                Phases::Bare => name == "bare",
                Phases::Serve => name == "serve",
                Phases::Store => name == "store",
            };
            if !wanted {
                continue;
            }
            eprintln!(
                "repetition {rep}/{}: {name} phase ({:?} broker, {:?} store), {:.0} s warm-up + {:.0} s",
                args.repeat, args.broker, args.db, args.warmup, args.seconds
            );
            let v = match name {
                "bare" => rt.block_on(phase::run(&setup, Phase::Bare, rep))?,
                "serve" => rt.block_on(phase::run(&setup, Phase::Serve, rep))?,
                _ => rt.block_on(alone::run(&setup, rep))?,
            };
            eprintln!("  {}", one_line(&v));
            row.insert(name.into(), v);
        }
        if let (Some(b), Some(s)) = (rate_of(row.get("bare")), rate_of(row.get("serve")))
            && b > 0.0
        {
            row.insert("ratio".into(), json!(s / b));
        }
        if let (Some(c), Some(s)) = (rate_of(row.get("store")), rate_of(row.get("serve")))
            && c > 0.0
        {
            row.insert("ratio_store".into(), json!(s / c));
        }
        reps.push(Value::Object(row));
    }
    let medians = medians(&reps);
    let report = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "config": {
            "broker": format!("{:?}", args.broker).to_lowercase(),
            "db": format!("{:?}", args.db).to_lowercase(),
            "window_s": args.seconds,
            "warmup_s": args.warmup,
            "publishers": args.publishers,
            "batch": args.batch,
            "rate": args.rate,
            "lead": args.lead,
            "inflight": args.inflight,
            "city": {"seed": args.seed, "grid": args.grid},
            "citybrain": setup.bin.display().to_string(),
        },
        "machine": {"before": machine_before, "after": machine_note()},
        "repetitions": reps,
        "medians": medians,
    });
    print_table(&report).map_err(|e| format!("stdout: {e}"))?;
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn rate_of(v: Option<&Value>) -> Option<f64> {
    v?.get("obs_per_s")?.as_f64()
}

fn f(v: &Value, pointer: &str) -> Option<f64> {
    v.pointer(pointer).and_then(Value::as_f64)
}

/// The figures quoted, as medians over the repetitions.
fn medians(reps: &[Value]) -> Value {
    let m = |pointer: &str| {
        let xs: Vec<f64> = reps.iter().filter_map(|r| f(r, pointer)).collect();
        median(&xs)
    };
    let max = |pointer: &str| reps.iter().filter_map(|r| f(r, pointer)).reduce(f64::max);
    json!({
        "bare_obs_per_s": m("/bare/obs_per_s"),
        "serve_obs_per_s": m("/serve/obs_per_s"),
        "ratio": m("/ratio"),
        "store_obs_per_s": m("/store/obs_per_s"),
        "store_commit_p50_s": m("/store/commit_p50_s"),
        "ratio_store": m("/ratio_store"),
        "publish_to_durable_p50_s": m("/serve/latency/publish_to_durable/p50_s"),
        "publish_to_durable_p99_s": m("/serve/latency/publish_to_durable/p99_s"),
        "publish_to_twin_p50_s": m("/serve/latency/publish_to_twin/p50_s"),
        "publish_to_twin_p99_s": m("/serve/latency/publish_to_twin/p99_s"),
        "writer_commit_p50_s": m("/serve/latency/writer_commit/p50_s"),
        "writer_batch_mean_obs": m("/serve/latency/batch_observations_mean"),
        "server_peak_rss_kib_median": m("/serve/peak_rss_kib/server"),
        "server_peak_rss_kib_max": max("/serve/peak_rss_kib/server"),
        "bare_broker_peak_rss_kib_median": m("/bare/peak_rss_kib/server"),
        "serve_server_cores": m("/serve/cores/server"),
        "serve_server_cpu_us_per_obs": m("/serve/cpu_us_per_obs/server"),
        "serve_postgres_cores": m("/serve/cores/postgres_all"),
        "serve_mosquitto_cores": m("/serve/cores/mosquitto"),
        "serve_machine_busy_cores": m("/serve/cores/machine_busy"),
        "bare_machine_busy_cores": m("/bare/cores/machine_busy"),
    })
}

fn machine_note() -> Value {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "cores": std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        "loadavg": loadavg.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}

fn one_line(v: &Value) -> String {
    let k = |p: &str| f(v, p).map_or("-".into(), |x| format!("{x:.0}"));
    let ms = |p: &str| f(v, p).map_or("-".into(), |x| format!("{:.1}", x * 1000.0));
    format!(
        "{} obs/s (offered {}), durable p50/p99 {}/{} ms, twin p50/p99 {}/{} ms, all consumed: {}",
        k("/obs_per_s"),
        k("/offered_obs_per_s"),
        ms("/latency/publish_to_durable/p50_s"),
        ms("/latency/publish_to_durable/p99_s"),
        ms("/latency/publish_to_twin/p50_s"),
        ms("/latency/publish_to_twin/p99_s"),
        v.pointer("/checks/all_consumed").unwrap_or(&Value::Null),
    )
}

fn print_table(report: &Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let c = &report["config"];
    writeln!(
        out,
        "ingest-load: broker={} db={} publishers={} batch={} rate={} lead={} window={}s warm-up={}s",
        c["broker"].as_str().unwrap_or("?"),
        c["db"].as_str().unwrap_or("?"),
        c["publishers"],
        c["batch"],
        if c["rate"].as_f64() == Some(0.0) {
            "max".to_owned()
        } else {
            c["rate"].to_string()
        },
        c["lead"],
        c["window_s"],
        c["warmup_s"],
    )?;
    writeln!(
        out,
        "machine: {} cores, load average {} before, {} after",
        report["machine"]["before"]["cores"],
        report["machine"]["before"]["loadavg"]
            .as_str()
            .unwrap_or("?"),
        report["machine"]["after"]["loadavg"]
            .as_str()
            .unwrap_or("?"),
    )?;
    writeln!(
        out,
        "{:>3} {:>5} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>7}",
        "rep",
        "phase",
        "obs/s",
        "offered",
        "1s-min",
        "1s-max",
        "dur p50",
        "dur p99",
        "twin p50",
        "twin p99",
        "HWM MiB",
        "srv c",
        "mosq c",
        "pg c",
        "tool c",
        "busy c",
        "ok",
        "lead ms"
    )?;
    let num = |v: &Value, p: &str, scale: f64, prec: usize| {
        f(v, p).map_or("-".to_owned(), |x| format!("{:.*}", prec, x * scale))
    };
    for r in report["repetitions"].as_array().into_iter().flatten() {
        for phase in ["bare", "store", "serve"] {
            let Some(v) = r.get(phase) else { continue };
            writeln!(
                out,
                "{:>3} {:>5} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>7}",
                v["rep"],
                phase,
                num(v, "/obs_per_s", 1.0, 0),
                num(v, "/offered_obs_per_s", 1.0, 0),
                num(v, "/per_second/min", 1.0, 0),
                num(v, "/per_second/max", 1.0, 0),
                num(v, "/latency/publish_to_durable/p50_s", 1000.0, 1),
                num(v, "/latency/publish_to_durable/p99_s", 1000.0, 1),
                num(v, "/latency/publish_to_twin/p50_s", 1000.0, 1),
                num(v, "/latency/publish_to_twin/p99_s", 1000.0, 1),
                num(v, "/peak_rss_kib/server", 1.0 / 1024.0, 1),
                num(v, "/cores/server", 1.0, 2),
                num(v, "/cores/mosquitto", 1.0, 2),
                num(v, "/cores/postgres_all", 1.0, 2),
                num(v, "/cores/load_tool", 1.0, 2),
                num(v, "/cores/machine_busy", 1.0, 2),
                v.pointer("/checks/all_consumed")
                    .and_then(Value::as_bool)
                    .map_or("-", |b| if b { "yes" } else { "NO" }),
                v["checks"]["max_ts_lead_ms"],
            )?;
        }
        if let Some(x) = r.get("ratio").and_then(Value::as_f64) {
            writeln!(out, "{:>3} ratio serve/bare = {x:.2}", r["bare"]["rep"])?;
        }
        if let Some(x) = r.get("ratio_store").and_then(Value::as_f64) {
            writeln!(out, "{:>3} ratio serve/store = {x:.2}", r["store"]["rep"])?;
        }
    }
    let m = &report["medians"];
    let g = |k: &str, scale: f64, prec: usize| {
        m[k].as_f64()
            .map_or("-".to_owned(), |x| format!("{:.*}", prec, x * scale))
    };
    writeln!(
        out,
        "medians: bare {} obs/s, store alone {} obs/s, serve {} obs/s durable, ratio serve/bare {}, \
         serve/store {}; publish-to-durable p50 {} ms p99 {} ms; \
         publish-to-twin p50 {} ms p99 {} ms; server peak memory {} MiB (max {} MiB); server {} µs CPU/obs",
        g("bare_obs_per_s", 1.0, 0),
        g("store_obs_per_s", 1.0, 0),
        g("serve_obs_per_s", 1.0, 0),
        g("ratio", 1.0, 2),
        g("ratio_store", 1.0, 2),
        g("publish_to_durable_p50_s", 1000.0, 1),
        g("publish_to_durable_p99_s", 1000.0, 1),
        g("publish_to_twin_p50_s", 1000.0, 1),
        g("publish_to_twin_p99_s", 1000.0, 1),
        g("server_peak_rss_kib_median", 1.0 / 1024.0, 1),
        g("server_peak_rss_kib_max", 1.0 / 1024.0, 1),
        g("serve_server_cpu_us_per_obs", 1.0, 2),
    )?;
    Ok(())
}
