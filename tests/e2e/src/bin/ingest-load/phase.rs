//! One measured phase: bring up the broker (and `citybrain serve`), start
//! the consumer, publish for warm-up plus window, take the window's figures,
//! stop the publishers, check that everything published was consumed, and
//! tear down.
//!
//! - **bare**: the bare subscriber consumes. With the embedded broker,
//!   `citybrain serve` runs only as the broker: its ingest subscribes to a
//!   topic nobody publishes on.
//! - **serve**: `citybrain serve` consumes; consumed means committed
//!   (`citybrain_observations_stored_total`, new rows only).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::infra::{self, DbKind, Infra, Phase, STORED, Setup};
use crate::mqtt::{Bare, Flow, PublishPlan, Publishers};
use crate::server::{Citybrain, derived_password};
use crate::{procfs, prom, workload};

/// What the monitor and the window snapshots record.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    consumed: u64,
}

/// The figures at one instant.
#[derive(Debug, Clone)]
struct Snapshot {
    at: Instant,
    consumed: u64,
    published: u64,
    metrics: String,
    server_ticks: Option<u64>,
    broker_ticks: Option<u64>,
    tool_ticks: Option<u64>,
    postgres_ticks: u64,
    machine: Option<(u64, u64)>,
}

/// Where consumption is read.
#[derive(Clone)]
enum Consumer {
    Bare(Arc<std::sync::atomic::AtomicU64>, u64),
    Server { http: String, baseline: u64 },
}

impl Consumer {
    /// Observations consumed so far, and the metrics text if scraped.
    fn read(&self) -> Option<(u64, String)> {
        match self {
            Consumer::Bare(msgs, batch) => {
                Some((msgs.load(Ordering::Relaxed) * batch, String::new()))
            }
            Consumer::Server { http, baseline } => {
                let (status, text) = e2e::http_get(http, "/metrics");
                if status != 200 {
                    return None;
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let stored = e2e::metric_value(&text, STORED, "") as u64;
                Some((stored.saturating_sub(*baseline), text))
            }
        }
    }
}

/// Polls the consumer every 50 ms: feeds the publishers' lead window and
/// records the series.
struct Monitor {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Monitor {
    fn start(consumer: Consumer, flow: Arc<Flow>) -> Monitor {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (s, out) = (Arc::clone(&stop), Arc::clone(&samples));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some((consumed, _)) = consumer.read() {
                    if matches!(consumer, Consumer::Server { .. }) {
                        flow.consumed.fetch_max(consumed, Ordering::Relaxed);
                        flow.progress.notify_waiters();
                    }
                    out.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(Sample {
                            at: Instant::now(),
                            consumed,
                        });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Monitor {
            stop,
            samples,
            thread,
        }
    }

    fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        std::mem::take(
            &mut *self
                .samples
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Rates over consecutive whole seconds of `[from, to]`, from the samples.
fn per_second_rates(samples: &[Sample], from: Instant, to: Instant) -> Vec<f64> {
    let inside: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at <= to)
        .collect();
    let mut rates = Vec::new();
    let Some(mut prev) = inside.first().copied() else {
        return rates;
    };
    for s in &inside[1..] {
        let dt = s.at.duration_since(prev.at).as_secs_f64();
        if dt >= 1.0 {
            #[allow(clippy::cast_precision_loss)]
            rates.push((s.consumed - prev.consumed) as f64 / dt);
            prev = s;
        }
    }
    rates
}

/// Median of a list (NaN-free), `None` when empty.
pub fn median(v: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    })
}

fn snapshot(consumer: &Consumer, flow: &Flow, infra: &Infra, pg: bool) -> Result<Snapshot, String> {
    let (consumed, metrics) = consumer
        .read()
        .ok_or("the server's /metrics did not answer")?;
    Ok(Snapshot {
        at: Instant::now(),
        consumed,
        published: flow.published.load(Ordering::Relaxed),
        metrics,
        server_ticks: infra.server.as_ref().and_then(|s| procfs::cpu_ticks(s.pid)),
        broker_ticks: infra.mosquitto_pid.and_then(procfs::cpu_ticks),
        tool_ticks: procfs::cpu_ticks(std::process::id()),
        postgres_ticks: if pg {
            procfs::cpu_ticks_named("postgres")
        } else {
            0
        },
        machine: procfs::machine_ticks(),
    })
}

fn hist_figures(a: &str, b: &str, name: &str) -> Value {
    let Some(hb) = prom::histogram(b, name) else {
        return Value::Null;
    };
    let w = hb.since(prom::histogram(a, name).as_ref());
    json!({
        "samples": w.count,
        "p50_s": w.quantile(0.5),
        "p99_s": w.quantile(0.99),
        "mean_s": w.mean(),
    })
}

/// Starts `cmd` (through `sh -c`) with `{pid}` and `{seconds}` replaced by
/// the server's pid and the window length, e.g. a profiler.
fn attach(cmd: &str, pid: u32, window: Duration) -> Result<std::process::Child, String> {
    let cmd = cmd
        .replace("{pid}", &pid.to_string())
        .replace("{seconds}", &format!("{:.0}", window.as_secs_f64()));
    eprintln!("  attaching: {cmd}");
    std::process::Command::new("sh")
        .args(["-c", &cmd])
        .spawn()
        .map_err(|e| format!("--attach: {e}"))
}

/// Runs one phase and returns its figures as JSON.
#[allow(clippy::too_many_lines)]
pub async fn run(setup: &Setup, phase: Phase, rep: usize) -> Result<Value, String> {
    let tag = infra::unique(&format!("load-{}", phase.as_str()));
    let up = infra::bring_up(setup, phase, &format!("{tag}-ingest"))?;
    let result = measure(setup, phase, rep, &up, &tag).await;
    infra::tear_down(setup, up).await;
    result
}

#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
async fn measure(
    setup: &Setup,
    phase: Phase,
    rep: usize,
    infra: &Infra,
    tag: &str,
) -> Result<Value, String> {
    let reg = workload::city(setup.seed, setup.grid);
    let mut gws = workload::busiest_gateways(&reg, setup.publishers);
    if gws.len() < setup.publishers {
        return Err(format!(
            "the city has only {} gateways with sensors",
            gws.len()
        ));
    }
    let creds = |who: &str| {
        infra
            .secret
            .as_ref()
            .map(|s| (who.to_owned(), derived_password(s, who)))
    };
    let flow = Arc::new(Flow::default());
    let mut bare = None;
    let consumer = match phase {
        Phase::Bare => {
            let b = Bare::start(
                &infra.ports.0,
                infra.ports.2,
                &format!("{tag}-bare"),
                creds("citybrain-ingest"),
                &ingest::default_topics(),
                setup.inflight,
                Arc::clone(&flow),
                setup.batch as u64,
            )
            .await?;
            let c = Consumer::Bare(Arc::clone(&b.received), setup.batch as u64);
            bare = Some(b);
            c
        }
        Phase::Serve => {
            let server = infra.server.as_ref().ok_or("no server")?;
            let first = gws[0].id().to_owned();
            let baseline = infra::probe(
                server,
                infra,
                &mut gws[0],
                creds(&first),
                setup.batch,
                &format!("{tag}-probe"),
            )
            .await?;
            Consumer::Server {
                http: server.http.clone(),
                baseline,
            }
        }
    };
    let gateways: Vec<(workload::Gateway, Option<(String, String)>)> = gws
        .into_iter()
        .map(|g| {
            let c = creds(g.id());
            (g, c)
        })
        .collect();
    let pairs: Vec<usize> = gateways.iter().map(|(g, _)| g.pairs()).collect();
    let span: Vec<i64> = gateways
        .iter()
        .map(|(g, _)| g.span_ms(setup.batch))
        .collect();
    let plan = PublishPlan {
        host: infra.ports.0.clone(),
        port: infra.ports.1,
        batch: setup.batch,
        rate: setup.rate,
        lead: setup.lead,
        client_prefix: tag.to_owned(),
    };
    let pg = setup.db == DbKind::Postgres && phase == Phase::Serve;
    let monitor = Monitor::start(consumer.clone(), Arc::clone(&flow));
    let started = Instant::now();
    let mut publishers = Publishers::start(&plan, gateways, &flow);
    tokio::time::sleep(setup.warmup).await;
    let a = snapshot(&consumer, &flow, infra, pg)?;
    let attached = match (&setup.attach, phase, infra.server.as_ref()) {
        (Some(cmd), Phase::Serve, Some(s)) => Some(attach(cmd, s.pid, setup.window)?),
        _ => None,
    };
    tokio::time::sleep(setup.window).await;
    let b = snapshot(&consumer, &flow, infra, pg)?;
    if let Some(mut child) = attached {
        // the command was told the window length; give it a moment to finish
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    let all_acked = publishers.finish(&flow, Duration::from_secs(60)).await;
    let pub_errors = publishers.errors();
    // drain: everything published must be consumed
    let published = flow.published.load(Ordering::Relaxed);
    let drain_started = Instant::now();
    let drain_deadline = drain_started + Duration::from_secs(180);
    while flow.consumed.load(Ordering::Relaxed) < published && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drain_s = drain_started.elapsed().as_secs_f64();
    // the twin gauge is refreshed about once per second
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let samples = monitor.finish();
    if let Some(b) = bare {
        b.stop().await;
    }
    let end = consumer.read().unwrap_or_default();
    let consumed_total = end.0;

    let window_s = b.at.duration_since(a.at).as_secs_f64();
    let consumed = b.consumed.saturating_sub(a.consumed);
    let rate = consumed as f64 / window_s;
    let offered = b.published.saturating_sub(a.published) as f64 / window_s;
    let per_s = per_second_rates(&samples, a.at, b.at);
    let tck = procfs::clock_ticks();
    let cores = |x: Option<u64>, y: Option<u64>| -> Option<f64> {
        Some(y?.saturating_sub(x?) as f64 / tck / window_s)
    };
    let machine = match (a.machine, b.machine) {
        (Some((ab, at)), Some((bb, bt))) if bt > at => {
            // /proc/stat sums all cores: busy share times core count
            let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            Some((bb - ab) as f64 / (bt - at) as f64 * ncpu)
        }
        _ => None,
    };
    let server_cores = cores(a.server_ticks, b.server_ticks);
    let broker_cores = cores(a.broker_ticks, b.broker_ticks);
    let tool_cores = cores(a.tool_ticks, b.tool_ticks);
    let pg_cores = pg
        .then(|| cores(Some(a.postgres_ticks), Some(b.postgres_ticks)))
        .flatten();
    let us_per_obs = |c: Option<f64>| c.map(|c| c * 1e6 / rate.max(1e-9));
    let server = infra.server.as_ref();
    let hwm = |pid: Option<u32>| pid.and_then(|p| procfs::status_kib(p, "VmHWM"));
    let metrics_end = &end.1;
    let counter = |name: &str| -> Option<f64> {
        (phase == Phase::Serve).then(|| e2e::metric_value(metrics_end, name, ""))
    };
    let warnings: Vec<Value> = server
        .map(Citybrain::log_warnings)
        .unwrap_or_default()
        .into_iter()
        .map(|(m, n)| json!({"message": m, "count": n}))
        .collect();
    let latency = if phase == Phase::Serve {
        json!({
            "publish_to_durable": hist_figures(&a.metrics, &b.metrics, "citybrain_publish_to_durable_seconds"),
            "publish_to_twin": hist_figures(&a.metrics, &b.metrics, "citybrain_publish_to_twin_seconds"),
            "writer_commit": hist_figures(&a.metrics, &b.metrics, "citybrain_writer_commit_seconds"),
            "batch_observations_mean": prom::histogram(&b.metrics, "citybrain_writer_batch_observations")
                .map(|h| h.since(prom::histogram(&a.metrics, "citybrain_writer_batch_observations").as_ref()))
                .and_then(|h| h.mean()),
            "ingest_decode": hist_figures(&a.metrics, &b.metrics, "ingest_decode_seconds"),
        })
    } else {
        Value::Null
    };
    Ok(json!({
        "rep": rep,
        "phase": phase.as_str(),
        "window_s": window_s,
        "warmup_s": a.at.duration_since(started).as_secs_f64(),
        "consumed_obs": consumed,
        "obs_per_s": rate,
        "msgs_per_s": rate / setup.batch as f64,
        "offered_obs_per_s": offered,
        "per_second": {
            "min": per_s.iter().copied().reduce(f64::min),
            "median": median(&per_s),
            "max": per_s.iter().copied().reduce(f64::max),
        },
        "latency": latency,
        "peak_rss_kib": {
            "server": hwm(server.map(|s| s.pid)),
            "mosquitto": hwm(infra.mosquitto_pid),
        },
        "cores": {
            "server": server_cores,
            "mosquitto": broker_cores,
            "load_tool": tool_cores,
            "postgres_all": pg_cores,
            "machine_busy": machine,
        },
        "cpu_us_per_obs": {
            "server": us_per_obs(server_cores),
            "mosquitto": us_per_obs(broker_cores),
            "load_tool": us_per_obs(tool_cores),
            "postgres_all": us_per_obs(pg_cores),
        },
        "checks": {
            "published_obs": published,
            "consumed_obs": consumed_total,
            "all_consumed": consumed_total >= published,
            "all_acked_by_broker": all_acked,
            "drain_s": drain_s,
            "publisher_errors": pub_errors,
            "max_ts_lead_ms": flow.max_lead_ms.load(Ordering::Relaxed),
            "span_ms": span,
            "pairs": pairs,
            "dead_letters": counter("ingest_dead_letters_total"),
            "duplicates": counter("citybrain_observations_duplicate_total"),
            "twin_applied": counter("citybrain_twin_observations_applied"),
            "server_warnings": warnings,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn per_second_rates_use_whole_seconds_of_the_window() {
        let t0 = Instant::now();
        let s = |ms: u64, c: u64| Sample {
            at: t0 + Duration::from_millis(ms),
            consumed: c,
        };
        // 1,000/s for the first 2 s, then 3,000/s; samples every 500 ms
        let samples: Vec<Sample> = (0..=8)
            .map(|k| {
                let ms = k * 500;
                let c = if ms <= 2_000 {
                    ms
                } else {
                    2_000 + 3 * (ms - 2_000)
                };
                s(ms, c)
            })
            .collect();
        let r = per_second_rates(&samples, t0, t0 + Duration::from_millis(4_000));
        assert_eq!(r, vec![1_000.0, 1_000.0, 3_000.0, 3_000.0]);
        // samples outside the window are ignored
        let r = per_second_rates(
            &samples,
            t0 + Duration::from_millis(2_000),
            t0 + Duration::from_secs(9),
        );
        assert_eq!(r, vec![3_000.0, 3_000.0]);
    }
}
