//! The **store** phase: the durable store alone, with no MQTT.
//!
//! The same observations the publishers send (the same gateways, messages
//! and timestamps, decoded by `ingest::decode` outside the timing) are
//! committed with the same store code the server's writer uses
//! (`Store::insert_batch`, one batch at a time, batches of the writer's
//! default size) into a fresh store of the same kind. No MQTT, no
//! acknowledgements, no twin. Its rate is observations committed per second
//! spent inside `insert_batch`: what one sequential writer gets from this
//! store on this machine, the second reference next to the broker's bare
//! drain rate. It is not a hard ceiling for `citybrain serve`, whose writer
//! overlaps collecting the next batch with the commit (and, on PostgreSQL,
//! commits two batches at once).

use std::time::{Duration, Instant};

use domain::Timestamp;
use ingest::{DecodeContext, SparkplugState};
use serde_json::{Value, json};
use store::{Batch, DbConfig, GatewayRecord, Store};

use crate::infra::{DbKind, Setup, drop_schema, unique};
use crate::mqtt::now_ms;
use crate::phase::median;
use crate::{procfs, workload};

/// Observations per committed batch: the server writer's default
/// (`[writer] batch_max_observations`).
pub const WRITER_BATCH: usize = 10_000;

/// Runs the store phase once and returns its figures.
pub async fn run(setup: &Setup, rep: usize) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut cfg = DbConfig::default();
    let schema = match setup.db {
        DbKind::Sqlite => {
            cfg.data_dir = dir.path().to_path_buf();
            None
        }
        DbKind::Postgres => {
            let url = setup
                .database_url
                .clone()
                .ok_or("--db postgres needs DATABASE_URL")?;
            cfg.url = Some(url);
            let s = unique("ingest_alone");
            cfg.schema = Some(s.clone());
            Some(s)
        }
    };
    let store = cfg.build().await.map_err(|e| format!("store: {e}"))?;
    let out = measure(setup, &store, rep).await;
    store.close().await;
    if let (Some(url), Some(schema)) = (&setup.database_url, &schema) {
        drop_schema(url, schema).await;
    }
    out
}

async fn measure(setup: &Setup, store: &Store, rep: usize) -> Result<Value, String> {
    let reg = workload::city(setup.seed, setup.grid);
    let gateways: Vec<GatewayRecord> = reg
        .gateways()
        .map(|g| GatewayRecord {
            spec: g.clone(),
            password: None,
        })
        .collect();
    store
        .upsert_gateways(&gateways)
        .await
        .map_err(|e| format!("gateways: {e}"))?;
    let sensors: Vec<domain::SensorSpec> = reg.sensors().cloned().collect();
    store
        .upsert_sensors(&sensors)
        .await
        .map_err(|e| format!("sensors: {e}"))?;
    let mut gws = workload::busiest_gateways(&reg, setup.publishers);
    let ctx = DecodeContext::new(reg);
    let mut sparkplug = SparkplugState::default();

    let started = Instant::now();
    let end = started + setup.warmup + setup.window;
    let tck = procfs::clock_ticks();
    let mut next = 0usize;
    let (mut committed, mut busy) = (0u64, Duration::ZERO);
    let mut commit_s: Vec<f64> = Vec::new();
    let mut in_window = false;
    let mut window_ticks0 = None;
    while Instant::now() < end {
        if !in_window && Instant::now() >= started + setup.warmup {
            in_window = true;
            window_ticks0 = procfs::cpu_ticks(std::process::id());
        }
        let mut batch = Batch::default();
        while batch.observations.len() < WRITER_BATCH {
            let n = gws.len();
            let g = &mut gws[next % n];
            next += 1;
            let now = now_ms();
            let built = g.message(now, setup.batch);
            let d = ingest::decode(
                &g.topic(),
                &built.payload,
                Timestamp(now),
                &ctx,
                &mut sparkplug,
            );
            if !d.dead_letters.is_empty() {
                return Err(format!(
                    "store phase: a generated message was refused: {:?}",
                    d.dead_letters[0].reason
                ));
            }
            batch.observations.extend(d.observations);
        }
        let t = Instant::now();
        let stats = store
            .insert_batch(&batch)
            .await
            .map_err(|e| format!("insert_batch: {e}"))?;
        let took = t.elapsed();
        if in_window {
            committed += stats.observations_new;
            busy += took;
            commit_s.push(took.as_secs_f64());
        }
    }
    let cpu_s = match (window_ticks0, procfs::cpu_ticks(std::process::id())) {
        #[allow(clippy::cast_precision_loss)]
        (Some(a), Some(b)) if tck > 0.0 => Some((b - a) as f64 / tck),
        _ => None,
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = if busy.is_zero() {
        0.0
    } else {
        committed as f64 / busy.as_secs_f64()
    };
    Ok(json!({
        "rep": rep,
        "obs_per_s": rate,
        "committed": committed,
        "batches": commit_s.len(),
        "batch_observations": WRITER_BATCH,
        "commit_p50_s": median(&commit_s),
        "insert_batch_busy_s": busy.as_secs_f64(),
        "window_s": setup.window.as_secs_f64(),
        "tool_cpu_s": cpu_s,
    }))
}
