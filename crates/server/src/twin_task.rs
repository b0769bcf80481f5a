//! The twin task: the single writer of the live twin.
//!
//! It applies committed batches (or, in follow mode, the followed stream),
//! ticks the clock each second so silent sensors turn stale, publishes a new
//! snapshot to readers at most every `snapshot_every_ms`, pushes changed cell
//! aggregates and headline counters to live clients about once per second,
//! and hands every applied batch to the operations service (alarms,
//! incidents, NGSI-LD notifications).

use std::collections::BTreeSet;
use std::time::Duration;

use domain::{EventReport, Metric, Observation, SensorSpec, StatusChange};
use h3o::CellIndex;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use twin::{Change, Twin, TwinSnapshot};

use crate::clock;
use crate::telemetry;

/// What the twin task applies: one committed batch.
#[derive(Debug, Default)]
pub struct TwinInput {
    /// Observations.
    pub observations: Vec<Observation>,
    /// Event reports.
    pub events: Vec<EventReport>,
    /// Gateway and device status changes.
    pub status: Vec<StatusChange>,
    /// Sensors provisioned on the fly.
    pub provisioned: Vec<SensorSpec>,
}

/// Work handed from the twin task to the operations task.
#[derive(Debug)]
pub enum OpsWork {
    /// A batch was applied; `snapshot` includes it.
    Applied {
        /// Its observations.
        observations: Vec<Observation>,
        /// Its event reports.
        events: Vec<EventReport>,
        /// The twin after it.
        snapshot: TwinSnapshot,
    },
    /// A clock tick.
    Tick(TwinSnapshot),
}

/// Timing of the twin task.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Snapshot publication interval.
    pub snapshot_every: Duration,
    /// Live cell push interval.
    pub live_every: Duration,
}

/// Runs the twin until `shutdown` or until every input sender is gone.
pub async fn run(
    mut twin: Twin,
    mut rx: mpsc::Receiver<TwinInput>,
    snapshots: watch::Sender<TwinSnapshot>,
    live: api::LiveHub,
    ops: mpsc::Sender<OpsWork>,
    timing: Timing,
    shutdown: CancellationToken,
) {
    let mut snap_tick = tokio::time::interval(timing.snapshot_every);
    snap_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut live_tick = tokio::time::interval(timing.live_every);
    live_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let rollups: Vec<h3o::Resolution> = twin.config().rollup_resolutions.clone();
    let mut dirty = false;
    let mut touched: BTreeSet<(Metric, CellIndex)> = BTreeSet::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            input = rx.recv() => {
                let Some(input) = input else { break };
                let snap_before = twin.snapshot();
                for s in &input.provisioned {
                    match twin::sensor_entity(s.clone()) {
                        Ok(e) => { let _ = twin.apply(Change::UpsertEntity(e)); }
                        Err(e) => tracing::warn!(sensor = %s.id, error = %e, "Provisioned sensor not added to the twin."),
                    }
                }
                for st in &input.status {
                    let _ = twin.apply(Change::Status(st.clone()));
                }
                let stats = twin.apply_observations(&input.observations);
                for e in &input.events {
                    let _ = twin.apply(Change::Event(e.clone()));
                }
                record_twin_latency(&input.observations);
                for o in &input.observations {
                    if let Some(s) = snap_before.sensor(o.sensor.as_str()) {
                        touched.insert((o.metric.clone(), s.cell()));
                    } else if let Some(e) = twin.snapshot().entity(o.sensor.as_str()) {
                        touched.insert((o.metric.clone(), e.cell));
                    }
                }
                dirty |= stats.changed() || !input.status.is_empty() || !input.events.is_empty();
                if !input.observations.is_empty() || !input.events.is_empty() {
                    let snapshot = twin.snapshot();
                    let work = OpsWork::Applied { observations: input.observations, events: input.events, snapshot };
                    if ops.try_send(work).is_err() {
                        tracing::warn!("Operations service is behind; alarm evaluation skipped one batch.");
                    }
                }
            }
            _ = snap_tick.tick() => {
                if dirty {
                    let _ = snapshots.send(twin.snapshot());
                    dirty = false;
                }
            }
            _ = live_tick.tick() => {
                let _ = twin.apply(Change::Tick(clock::now()));
                let snap = twin.snapshot();
                let _ = snapshots.send(snap.clone());
                dirty = false;
                push_cells(&snap, &rollups, std::mem::take(&mut touched), &live);
                let t = snap.totals();
                live.publish(api::LiveUpdate::Stats {
                    observations: t.observations,
                    sensors_online: t.sensors_with(twin::SensorStatus::Online),
                    sensors_stale: t.sensors_with(twin::SensorStatus::Stale),
                    sensors_offline: t.sensors_with(twin::SensorStatus::Offline),
                    as_of: snap.as_of().0,
                });
                telemetry::twin_state(&snap);
                let _ = ops.try_send(OpsWork::Tick(snap));
            }
        }
    }
    let _ = snapshots.send(twin.snapshot());
}

fn record_twin_latency(obs: &[Observation]) {
    let now = clock::now().0;
    let step = (obs.len() / 64).max(1);
    for o in obs.iter().step_by(step) {
        #[allow(clippy::cast_precision_loss)]
        telemetry::publish_to_twin((now - o.ts.0).max(0) as f64 / 1000.0);
    }
}

/// Publishes the current aggregates of every cell touched since the last
/// push, per (resolution, metric).
fn push_cells(
    snap: &TwinSnapshot,
    rollups: &[h3o::Resolution],
    touched: BTreeSet<(Metric, CellIndex)>,
    live: &api::LiveHub,
) {
    if touched.is_empty() || live.clients() == 0 {
        return;
    }
    for &res in rollups {
        let mut by_metric: std::collections::BTreeMap<&Metric, BTreeSet<CellIndex>> =
            Default::default();
        for (m, c) in &touched {
            if let Some(p) = c.parent(res) {
                by_metric.entry(m).or_default().insert(p);
            }
        }
        for (metric, cells) in by_metric {
            let rows: Vec<api::CellRow> = cells
                .into_iter()
                .filter_map(|c| {
                    let agg = snap.cell(metric.as_str(), c).ok()??;
                    let w = if agg.current.stats.count() > 0 {
                        agg.current.stats
                    } else {
                        agg.previous.stats
                    };
                    Some((
                        c.to_string(),
                        w.mean()?,
                        w.count(),
                        w.min()?,
                        w.max()?,
                        w.last()?.0,
                    ))
                })
                .collect();
            if !rows.is_empty() {
                live.publish(api::LiveUpdate::Cells {
                    res: u8::from(res),
                    metric: metric.to_string(),
                    cells: rows,
                });
            }
        }
    }
}
