//! The writer: turns ingest deliveries into durable batches, then
//! acknowledges them and hands them to the twin.
//!
//! Per batch: collect deliveries (up to a size or a short wait), write them
//! in ONE transaction, and only after the commit acknowledge every message
//! (PUBACK) and pass the data to the twin. While the store is down the writer
//! keeps its batches and retries with capped backoff; it reads no more
//! deliveries, the bounded channel fills, the broker's inflight window fills,
//! and the broker holds the rest: nothing is acknowledged that is not durable.
//!
//! Up to `concurrency` batches are in flight at once (PostgreSQL commits them
//! on separate connections, in parallel; SQLite has one writer, so there it
//! is 1). Whatever order the commits finish in, batches are acknowledged and
//! applied to the twin in the order they were collected, so PUBACKs leave in
//! the order the messages arrived (MQTT 4.6) and the twin sees the same
//! sequence as with one writer.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use domain::{Observation, SensorKind};
use ingest::{DecodeContext, Delivery};
use store::{Batch, Store};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::WriterConfig;
use crate::telemetry;
use crate::twin_task::TwinInput;

/// A batch being committed: its deliveries come back with the committed
/// batch (`None`: shut down before the store took it).
type InFlight = JoinHandle<(Vec<Delivery>, Option<Batch>)>;

/// Runs until `shutdown` (after committing what it holds) or until ingest
/// stops delivering.
pub async fn run(
    mut rx: mpsc::Receiver<Delivery>,
    store: Store,
    ctx: Arc<ArcSwap<DecodeContext>>,
    to_twin: Option<mpsc::Sender<TwinInput>>,
    cfg: WriterConfig,
    readiness: Arc<api::Readiness>,
    shutdown: CancellationToken,
) {
    let wait = Duration::from_millis(cfg.batch_max_wait_ms);
    let concurrency = cfg.concurrency_for(store.backend());
    let mut pending: Vec<Delivery> = Vec::new();
    let mut n_obs = 0usize;
    let mut deadline = tokio::time::Instant::now();
    let mut inflight: VecDeque<InFlight> = VecDeque::new();
    let mut closed = false;
    loop {
        let stopping = closed || shutdown.is_cancelled();
        if stopping {
            // take what is already queued, nothing more
            while n_obs < cfg.batch_max_observations {
                let Ok(d) = rx.try_recv() else { break };
                n_obs += d.decoded.observations.len();
                pending.push(d);
            }
        }
        let full = n_obs >= cfg.batch_max_observations;
        let due =
            !pending.is_empty() && (full || stopping || tokio::time::Instant::now() >= deadline);
        if due && inflight.len() < concurrency {
            telemetry::writer_backlog(rx.len());
            let deliveries = std::mem::take(&mut pending);
            n_obs = 0;
            let (store, cfg, shutdown) = (store.clone(), cfg.clone(), shutdown.clone());
            inflight.push_back(tokio::spawn(async move {
                let batch = commit(&deliveries, &store, &cfg, &shutdown).await;
                (deliveries, batch)
            }));
            continue;
        }
        if stopping && pending.is_empty() && inflight.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            done = async { inflight.front_mut().expect("checked non-empty").await }, if !inflight.is_empty() => {
                inflight.pop_front();
                let Ok((deliveries, Some(batch))) = done else {
                    // shut down while the store was unavailable (or the
                    // commit task failed): nothing more is acknowledged, the
                    // broker redelivers after restart
                    break;
                };
                if !finish(deliveries, batch, &ctx, to_twin.as_ref(), &readiness).await {
                    break;
                }
            }
            d = rx.recv(), if !closed && !full => match d {
                Some(d) => {
                    if pending.is_empty() {
                        deadline = tokio::time::Instant::now() + wait;
                    }
                    n_obs += d.decoded.observations.len();
                    pending.push(d);
                }
                None => closed = true,
            },
            () = tokio::time::sleep_until(deadline), if !pending.is_empty() && !due => {}
            () = shutdown.cancelled(), if !shutdown.is_cancelled() => {}
        }
    }
}

/// After a commit: acknowledge, update the decode context with sensors
/// provisioned on the fly, hand the batch to the twin. `false` when the twin
/// is gone.
async fn finish(
    deliveries: Vec<Delivery>,
    batch: Batch,
    ctx: &Arc<ArcSwap<DecodeContext>>,
    to_twin: Option<&mpsc::Sender<TwinInput>>,
    readiness: &api::Readiness,
) -> bool {
    readiness
        .last_commit_ms
        .store(crate::clock::now().0, std::sync::atomic::Ordering::Relaxed);
    count_by_kind(&batch.observations, &ctx.load());
    for d in deliveries {
        if let Err(e) = d.ack.ack_now() {
            tracing::warn!(error = %e, topic = %d.topic, "Acknowledgement not sent; the broker will redeliver.");
        }
    }
    if !batch.provisioned_sensors.is_empty() {
        let mut next = DecodeContext::clone(&ctx.load());
        for s in &batch.provisioned_sensors {
            next.registry.upsert_sensor(s.clone());
        }
        ctx.store(Arc::new(next));
    }
    if let Some(tx) = to_twin {
        let input = TwinInput {
            observations: batch.observations,
            events: batch.events,
            status: batch.status,
            provisioned: batch.provisioned_sensors,
        };
        if tx.send(input).await.is_err() {
            return false;
        }
    }
    true
}

/// Builds the batch and commits it, retrying retryable failures until it
/// succeeds or `shutdown`. A batch refused for a non-retryable reason is
/// retried message by message; a message that still fails is stored as dead
/// letters carrying the store's reason, so nothing is lost silently.
async fn commit(
    deliveries: &[Delivery],
    store: &Store,
    cfg: &WriterConfig,
    shutdown: &CancellationToken,
) -> Option<Batch> {
    let batch = merge(deliveries.iter());
    match write_with_retry(&batch, store, cfg, shutdown).await? {
        Ok(()) => return Some(batch),
        Err(e) => {
            tracing::error!(error = %e, "Batch refused by the store; retrying message by message.")
        }
    }
    let mut kept = Batch::default();
    for d in deliveries {
        let one = merge(std::iter::once(d));
        match write_with_retry(&one, store, cfg, shutdown).await? {
            Ok(()) => append(&mut kept, one),
            Err(e) => {
                let letter = domain::DeadLetter::new(
                    &d.topic,
                    "unknown",
                    b"",
                    format!("store_refused: {e}"),
                    d.received,
                );
                let dl = Batch {
                    dead_letters: vec![letter],
                    ..Batch::default()
                };
                match write_with_retry(&dl, store, cfg, shutdown).await? {
                    Ok(()) => {
                        tracing::error!(topic = %d.topic, error = %e, "Message refused by the store; kept as a dead letter.")
                    }
                    Err(e2) => {
                        tracing::error!(topic = %d.topic, error = %e2, "Dead letter refused by the store too.")
                    }
                }
            }
        }
    }
    Some(kept)
}

/// `None` on shutdown while retrying; `Some(Err)` for a non-retryable failure.
async fn write_with_retry(
    batch: &Batch,
    store: &Store,
    cfg: &WriterConfig,
    shutdown: &CancellationToken,
) -> Option<Result<(), store::Error>> {
    let mut delay = cfg.retry_min_ms.max(1);
    loop {
        let started = Instant::now();
        match store.insert_batch(batch).await {
            Ok(stats) => {
                let now = crate::clock::now().0;
                telemetry::committed(
                    stats.observations_new,
                    stats.observations_duplicate,
                    stats.dead_letters,
                    stats.events_new,
                    started.elapsed().as_secs_f64(),
                );
                record_latency(&batch.observations, now);
                return Some(Ok(()));
            }
            Err(e) if e.is_retryable() => {
                telemetry::commit_retry(&e);
                let jitter =
                    delay / 2 + u64::from(started.elapsed().subsec_nanos()) % (delay / 2 + 1);
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(jitter)) => {}
                    () = shutdown.cancelled() => return None,
                }
                delay = (delay * 2).min(cfg.retry_max_ms.max(1));
            }
            Err(e) => return Some(Err(e)),
        }
    }
}

fn record_latency(obs: &[Observation], now_ms: i64) {
    // sample at most 64 per batch: enough for quantiles, cheap at 100k obs/s
    let step = (obs.len() / 64).max(1);
    for o in obs.iter().step_by(step) {
        #[allow(clippy::cast_precision_loss)]
        telemetry::publish_to_durable((now_ms - o.ts.0).max(0) as f64 / 1000.0);
    }
}

fn merge<'a>(deliveries: impl Iterator<Item = &'a Delivery>) -> Batch {
    let mut b = Batch::default();
    for d in deliveries {
        b.observations
            .extend(d.decoded.observations.iter().cloned());
        b.dead_letters
            .extend(d.decoded.dead_letters.iter().cloned());
        b.events.extend(d.decoded.events.iter().cloned());
        b.status.extend(d.decoded.status.iter().cloned());
        b.provisioned_sensors
            .extend(d.decoded.provisioned.iter().cloned());
    }
    b
}

fn append(into: &mut Batch, b: Batch) {
    into.observations.extend(b.observations);
    into.dead_letters.extend(b.dead_letters);
    into.events.extend(b.events);
    into.status.extend(b.status);
    into.provisioned_sensors.extend(b.provisioned_sensors);
}

/// Counts committed observations per sensor kind for `/metrics` (a
/// redelivered duplicate counts again: it was committed, idempotently).
pub fn count_by_kind(obs: &[Observation], ctx: &DecodeContext) {
    let mut counts = [0u64; SensorKind::ALL.len()];
    for o in obs {
        let kind = ctx
            .registry
            .sensor(o.sensor.as_str())
            .map_or(SensorKind::Other, |s| s.kind);
        if let Some(i) = SensorKind::ALL.iter().position(|k| *k == kind) {
            counts[i] += 1;
        }
    }
    for (i, n) in counts.iter().enumerate() {
        if *n > 0 {
            telemetry::stored(SensorKind::ALL[i], *n);
        }
    }
}
