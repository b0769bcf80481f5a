//! The writer: turns ingest deliveries into durable batches, then
//! acknowledges them and hands them to the twin.
//!
//! Order per cycle: collect deliveries (up to a size or a short wait), write
//! them in ONE transaction, and only after the commit acknowledge every
//! message (PUBACK) and pass the data to the twin. While the store is down the
//! writer keeps its batch and retries with capped backoff; it reads no more
//! deliveries, the bounded channel fills, the broker's inflight window fills,
//! and the broker holds the rest: nothing is acknowledged that is not durable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use domain::{Observation, SensorKind};
use ingest::{DecodeContext, Delivery};
use store::{Batch, Store};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::WriterConfig;
use crate::telemetry;
use crate::twin_task::TwinInput;

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
    loop {
        let first = tokio::select! {
            d = rx.recv() => d,
            () = shutdown.cancelled() => rx.try_recv().ok(),
        };
        let Some(first) = first else { break };
        let mut deliveries = vec![first];
        let mut n_obs = deliveries[0].decoded.observations.len();
        let deadline = tokio::time::Instant::now() + wait;
        while n_obs < cfg.batch_max_observations {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(d)) => {
                    n_obs += d.decoded.observations.len();
                    deliveries.push(d);
                }
                Ok(None) | Err(_) => break,
            }
        }
        telemetry::writer_backlog(rx.len());
        let Some(batch) = commit(&deliveries, &store, &cfg, &shutdown).await else {
            // shut down while the store was unavailable: nothing acknowledged,
            // the broker redelivers after restart
            break;
        };
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
        if let Some(tx) = &to_twin {
            let input = TwinInput {
                observations: batch.observations,
                events: batch.events,
                status: batch.status,
                provisioned: batch.provisioned_sensors,
            };
            if tx.send(input).await.is_err() {
                break;
            }
        }
        if shutdown.is_cancelled() && rx.is_empty() {
            break;
        }
    }
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
