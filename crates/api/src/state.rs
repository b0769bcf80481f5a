//! Shared state of the HTTP handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use tokio::sync::watch;
use twin::TwinSnapshot;

use crate::auth::Tokens;
use crate::config::{AuthConfig, HttpConfig};
use crate::energy::EnergyLive;
use crate::indicators::IndicatorService;
use crate::live::LiveHub;
use crate::ngsi::NgsiNotifier;
use crate::operations::OpsService;
use crate::scenarios::ScenarioService;

/// What the process reports on `/ready`: each part sets its own flag.
#[derive(Debug, Default)]
pub struct Readiness {
    /// The store answered its last ping.
    pub store: AtomicBool,
    /// The ingest client is connected to the broker.
    pub mqtt: AtomicBool,
    /// The twin has loaded its city.
    pub twin: AtomicBool,
    /// Wall-clock ms of the last durable commit (0 = none yet).
    pub last_commit_ms: AtomicI64,
}

impl Readiness {
    /// Whether every part is ready.
    pub fn is_ready(&self) -> bool {
        self.store.load(Ordering::Relaxed)
            && self.mqtt.load(Ordering::Relaxed)
            && self.twin.load(Ordering::Relaxed)
    }
}

/// Everything a handler may read. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The latest twin snapshot.
    pub snapshot: watch::Receiver<TwinSnapshot>,
    /// The database.
    pub store: store::Store,
    /// Live updates.
    pub live: LiveHub,
    /// API tokens.
    pub tokens: Tokens,
    /// Readiness flags.
    pub readiness: Arc<Readiness>,
    /// Renders the Prometheus exposition (`/metrics`).
    pub metrics: Arc<dyn Fn() -> String + Send + Sync>,
    /// HTTP settings.
    pub http: Arc<HttpConfig>,
    /// Auth settings.
    pub auth: Arc<AuthConfig>,
    /// Alarms and incidents ([`OpsService::load`]).
    pub ops: OpsService,
    /// NGSI-LD subscriptions and their notifications ([`NgsiNotifier::load`]).
    pub ngsi: NgsiNotifier,
    /// Live indicator scores and their history ([`IndicatorService::load`]).
    pub indicators: IndicatorService,
    /// Live feeder power flows ([`EnergyLive`]).
    pub energy: EnergyLive,
    /// Scenario runs forked from the live twin ([`ScenarioService::new`]).
    pub scenarios: ScenarioService,
    /// Rendered `/api/v1/cells` bodies of the current snapshot.
    pub cells_cache: Arc<crate::routes::city::CellsCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("version", &self.snapshot.borrow().version())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The current snapshot (a pointer copy).
    pub fn twin(&self) -> TwinSnapshot {
        self.snapshot.borrow().clone()
    }
}
