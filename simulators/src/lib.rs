//! Gateway simulators that publish MQTT the way field devices do: loop
//! detectors, air-quality stations, smart meters, PV inverters, water gauges
//! and event reporters, in every format of `docs/specs/mqtt.md`, with daily
//! profiles, flood events, a share of malformed messages, and gateways that
//! drop off (their last will fires) and come back.
//!
//! # Terminology
//! - **Fleet**: all simulated gateways of a city, one MQTT connection each.
//! - **Reporting interval**: how often a sensor of a kind reports (detectors
//!   30 s, meters 15 min, ...). Extra load (`rate_obs_per_s`) comes on top.
//! - **Malformed share**: the fraction of messages deliberately broken to
//!   exercise the dead-letter path.

mod config;
pub mod encode;
mod gateway;
pub mod model;
pub mod sparkplug;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::{Registry, SensorKind};
use tokio_util::sync::CancellationToken;

pub use config::{Format, SimConfig, fiware_apikey};
pub use gateway::{GatewaySim, now_ms};

/// Where the broker listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Counters of what the fleet published (shared with the caller while it runs).
#[derive(Debug, Default)]
pub struct Stats {
    /// Gateways in the fleet.
    pub gateways: AtomicU64,
    /// Messages handed to the MQTT client.
    pub messages: AtomicU64,
    /// PUBACKs received.
    pub pubacks: AtomicU64,
    /// Observations generated, by sensor kind (index into `SensorKind::ALL`).
    pub observations_by_kind: [AtomicU64; SensorKind::ALL.len()],
    /// Event reports generated.
    pub events: AtomicU64,
    /// Deliberately malformed messages.
    pub malformed: AtomicU64,
    /// Successful connections.
    pub connects: AtomicU64,
    /// Abrupt disconnects (last will fired).
    pub abrupt_disconnects: AtomicU64,
}

impl Stats {
    /// Total observations generated.
    pub fn observations(&self) -> u64 {
        self.observations_by_kind
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .sum()
    }
}

/// The simulated gateways of a city.
#[derive(Debug, Clone)]
pub struct Fleet {
    gateways: Vec<GatewaySim>,
}

impl Fleet {
    /// One simulated gateway per registered gateway that has sensors, with
    /// formats assigned round-robin in gateway-id order; `password` gives
    /// each gateway's MQTT password.
    pub fn from_registry(
        reg: &Registry,
        cfg: &SimConfig,
        password: impl Fn(&str) -> String,
    ) -> Self {
        let formats = if cfg.formats.is_empty() {
            vec![Format::Native]
        } else {
            cfg.formats.clone()
        };
        let mut gateways = Vec::new();
        for g in reg.gateways() {
            let (reporters, sensors): (Vec<_>, Vec<_>) = reg
                .sensors_of(&g.id)
                .cloned()
                .partition(|s| s.kind == SensorKind::EventReporter);
            if sensors.is_empty() && reporters.is_empty() {
                continue;
            }
            let format = formats[gateways.len() % formats.len()];
            gateways.push(GatewaySim {
                id: g.id.clone(),
                password: password(g.id.as_str()),
                format,
                sensors,
                reporters,
            });
        }
        Self { gateways }
    }

    /// The gateways.
    pub fn gateways(&self) -> &[GatewaySim] {
        &self.gateways
    }

    /// Runs every gateway until `shutdown`; returns the shared counters at once.
    pub fn spawn(
        self,
        broker: Broker,
        cfg: SimConfig,
        shutdown: CancellationToken,
    ) -> (Arc<Stats>, tokio::task::JoinSet<()>) {
        let stats = Arc::new(Stats::default());
        stats
            .gateways
            .store(self.gateways.len() as u64, Ordering::Relaxed);
        let cfg = Arc::new(cfg);
        let mut master = scenario::seeded(cfg.seed);
        let mut set = tokio::task::JoinSet::new();
        for g in self.gateways {
            let rng = scenario::fork(&mut master);
            set.spawn(g.run(
                broker.clone(),
                Arc::clone(&cfg),
                Arc::clone(&stats),
                shutdown.clone(),
                rng,
            ));
        }
        (stats, set)
    }
}
