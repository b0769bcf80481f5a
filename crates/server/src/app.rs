//! Wiring: the one place where adapters meet. `start` brings up the store,
//! the city and twin, the broker (embedded when configured), ingest, the
//! writer, the operations service, the HTTP API and, in the demo, the
//! simulators; `Running::stop` shuts them down in order.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use ingest::{DecodeContext, UnknownSensorPolicy};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, UnknownSensors};
use crate::twin_task::{OpsWork, Timing};
use crate::{city, clock, secrets, telemetry, twin_task, writer};

/// How the process was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `citybrain demo`: embedded broker, SQLite, demo city, simulators, anonymous reads.
    Demo,
    /// `citybrain serve`: as configured.
    Serve,
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// Where the HTTP API listens.
    pub http: SocketAddr,
    /// The embedded broker's MQTT 5 port, if it runs.
    pub broker_port: Option<u16>,
    /// The embedded broker's MQTT 3.1.1 port, if it runs.
    pub broker_v4_port: Option<u16>,
    /// Tokens created at first start (demo), by role name.
    pub bootstrap_tokens: Option<BTreeMap<String, String>>,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

impl Running {
    /// Cancels every task and waits (at most `grace`) for them to drain.
    pub async fn stop(mut self, grace: Duration) {
        self.shutdown.cancel();
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!("Some tasks did not stop in time; aborting them.");
            self.tasks.abort_all();
        }
    }

    /// Resolves when any task ends on its own (a fatal condition) or on shutdown.
    pub async fn wait_any(&mut self) {
        let _ = self.tasks.join_next().await;
    }

    /// The root cancellation token.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// Starts everything. Errors at start-up are fatal and explained.
#[allow(clippy::too_many_lines)]
pub async fn start(mut cfg: Config, mode: Mode) -> anyhow::Result<Running> {
    let prometheus = telemetry::install().context("installing the metrics recorder")?;
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let data_dir: PathBuf = cfg.db.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;

    // --- store -----------------------------------------------------------------
    let store = connect_store(&cfg.db).await?;
    tracing::info!(backend = ?store.backend(), "Store ready.");

    // --- city and credentials -----------------------------------------------------
    let city = city::load(&cfg.city, &store).await?;
    let demo_secret = if mode == Mode::Demo || cfg.broker.enabled == Some(true) {
        Some(secrets::installation_secret(&data_dir)?)
    } else {
        None
    };
    let gateway_password = |g: &str| {
        demo_secret
            .as_deref()
            .map(|s| secrets::derived_password(s, g))
    };
    if cfg.city.source != crate::config::CitySource::Store {
        city::persist(&city, &store, gateway_password).await?;
    }
    let registry = city.registry.clone();
    tracing::info!(
        city = %city.name,
        entities = city.entities.len(),
        sensors = registry.sensor_count(),
        gateways = registry.gateways().count(),
        "City loaded."
    );

    // --- embedded broker ------------------------------------------------------------
    let embedded = cfg.broker.enabled.unwrap_or(mode == Mode::Demo);
    let mut broker_port = None;
    let mut broker_v4_port = None;
    let ingest_user = "citybrain-ingest";
    if embedded {
        let secret = demo_secret
            .as_deref()
            .context("the embedded broker needs the installation secret")?;
        let mut users: BTreeMap<String, ingest::Secret> = registry
            .gateways()
            .map(|g| {
                (
                    g.id.to_string(),
                    ingest::Secret::new(secrets::derived_password(secret, g.id.as_str())),
                )
            })
            .collect();
        users.insert(
            ingest_user.into(),
            ingest::Secret::new(secrets::derived_password(secret, ingest_user)),
        );
        let b = ingest::broker::EmbeddedBroker::start(ingest::broker::EmbeddedBrokerConfig {
            host: cfg.broker.host.clone(),
            port: cfg.broker.port,
            v4_port: cfg.broker.v4_port,
            users,
            max_inflight: cfg.broker.max_inflight,
            max_payload_bytes: cfg.mqtt.max_payload_bytes.saturating_mul(2),
            max_connections: cfg.broker.max_connections,
        })
        .context("starting the embedded MQTT broker")?;
        broker_port = Some(b.port());
        broker_v4_port = b.v4_addr().map(|a| a.port());
        tracing::info!(url = %b.url(), v4_port = ?broker_v4_port, "Embedded MQTT broker listening.");
        cfg.mqtt.url = None;
        cfg.mqtt.host = if cfg.broker.host == "0.0.0.0" {
            "127.0.0.1".into()
        } else {
            cfg.broker.host.clone()
        };
        cfg.mqtt.port = b.port();
        cfg.mqtt.username = Some(ingest_user.into());
        cfg.mqtt.password = Some(ingest::Secret::new(secrets::derived_password(
            secret,
            ingest_user,
        )));
    }

    // --- decode context -----------------------------------------------------------
    let mut apikeys: BTreeMap<String, domain::GatewayId> = BTreeMap::new();
    for (k, g) in &cfg.ingest.fiware_apikeys {
        apikeys.insert(
            k.clone(),
            domain::GatewayId::new(g)
                .with_context(|| format!("fiware_apikeys: bad gateway id {g:?}"))?,
        );
    }
    if mode == Mode::Demo {
        for g in registry.gateways() {
            apikeys.insert(simulators::fiware_apikey(g.id.as_str()), g.id.clone());
        }
    }
    let centre = city
        .bounds
        .map_or(domain::LatLon { lat: 0.0, lon: 0.0 }, |b| domain::LatLon {
            lat: (b.min().y + b.max().y) / 2.0,
            lon: (b.min().x + b.max().x) / 2.0,
        });
    let ctx = Arc::new(ArcSwap::from_pointee(DecodeContext {
        registry: registry.clone(),
        fiware_apikeys: apikeys,
        limits: cfg.ingest.limits(cfg.mqtt.max_payload_bytes),
        unknown_sensors: match cfg.ingest.unknown_sensors {
            UnknownSensors::Reject => UnknownSensorPolicy::Reject,
            UnknownSensors::AutoProvision => {
                UnknownSensorPolicy::AutoProvision { location: centre }
            }
        },
    }));

    // --- twin ----------------------------------------------------------------------
    let twin_cfg = cfg.twin.to_twin()?;
    let twin = twin::Twin::new(city, twin_cfg).context("building the live twin")?;
    let (snap_tx, snap_rx) = watch::channel(twin.snapshot());
    let live = api::LiveHub::new(cfg.http.stream_buffer);
    let readiness = Arc::new(api::Readiness::default());
    readiness
        .twin
        .store(true, std::sync::atomic::Ordering::Relaxed);
    readiness
        .store
        .store(true, std::sync::atomic::Ordering::Relaxed);

    // --- operations service ---------------------------------------------------------
    let ops = api::OpsService::load(store.clone(), live.clone(), &cfg.ops)
        .await
        .context("loading alarm rules and incidents")?;
    let ngsi = api::NgsiNotifier::load(store.clone())
        .await
        .context("loading NGSI-LD subscriptions")?;
    let energy = api::EnergyLive::new();
    let (ops_tx, ops_rx) = mpsc::channel::<OpsWork>(64);
    tasks.spawn(ops_task(
        ops.clone(),
        ngsi.clone(),
        energy.clone(),
        ops_rx,
        shutdown.clone(),
    ));

    // --- ingest -> writer -> twin ------------------------------------------------------
    let (twin_tx, twin_rx) = mpsc::channel(64);
    let timing = Timing {
        snapshot_every: Duration::from_millis(cfg.twin.snapshot_every_ms.max(10)),
        live_every: Duration::from_millis(cfg.twin.live_every_ms.max(100)),
    };
    tasks.spawn(twin_task::run(
        twin,
        twin_rx,
        snap_tx,
        live.clone(),
        ops_tx,
        timing,
        shutdown.clone(),
    ));

    let ingest = cfg
        .mqtt
        .clone()
        .build()
        .context("invalid [mqtt] configuration")?;
    let (del_tx, del_rx) = mpsc::channel(ingest.channel_capacity());
    {
        let ctx = Arc::clone(&ctx);
        let token = shutdown.clone();
        let ready = Arc::clone(&readiness);
        tasks.spawn(async move {
            ready.mqtt.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Err(e) = ingest.run(ctx, del_tx, token).await {
                tracing::error!(error = %e, "MQTT ingest stopped.");
            }
            ready
                .mqtt
                .store(false, std::sync::atomic::Ordering::Relaxed);
        });
    }
    let writer_twin = if cfg.ingest.follow {
        None
    } else {
        Some(twin_tx.clone())
    };
    tasks.spawn(writer::run(
        del_rx,
        store.clone(),
        Arc::clone(&ctx),
        writer_twin,
        cfg.writer.clone(),
        Arc::clone(&readiness),
        shutdown.clone(),
    ));
    if cfg.ingest.follow {
        tasks.spawn(follow(
            cfg.mqtt.clone(),
            Arc::clone(&ctx),
            twin_tx.clone(),
            shutdown.clone(),
        ));
    }
    drop(twin_tx);

    // --- periodic store jobs --------------------------------------------------------
    tasks.spawn(store_jobs(
        store.clone(),
        Arc::clone(&readiness),
        shutdown.clone(),
    ));

    // --- tokens and HTTP -------------------------------------------------------------
    if mode == Mode::Demo {
        cfg.auth.anonymous_read = true;
        cfg.auth
            .bootstrap_tokens_file
            .get_or_insert_with(|| data_dir.join("demo-tokens.json"));
    }
    let bootstrap = api::bootstrap_tokens(&store, &cfg.auth)
        .await
        .context("creating the first API tokens")?;
    let bootstrap_tokens = bootstrap.map(|m| {
        m.into_iter()
            .map(|(r, t)| (r.as_str().to_owned(), t))
            .collect()
    });
    let tokens = api::load_tokens(&store)
        .await
        .context("loading API tokens")?;
    if cfg.http.dashboard_dir.is_none() {
        let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/dashboard/dist");
        if built.join("index.html").exists() {
            cfg.http.dashboard_dir = Some(built);
        }
    }
    let indicators = api::IndicatorService::load(store.clone())
        .await
        .context("loading indicator inputs")?;
    if mode == Mode::Demo {
        let n = crate::city::seed_demo_indicator_inputs(&indicators).await?;
        if n > 0 {
            tracing::info!(
                inputs = n,
                "Entered the demo's illustrative static indicator inputs (not official statistics)."
            );
        }
    }
    let render = prometheus.clone();
    let state = api::AppState {
        snapshot: snap_rx,
        store: store.clone(),
        live: live.clone(),
        tokens,
        readiness: Arc::clone(&readiness),
        metrics: Arc::new(move || render.render()),
        http: Arc::new(cfg.http.clone()),
        auth: Arc::new(cfg.auth.clone()),
        ops: ops.clone(),
        ngsi: ngsi.clone(),
        indicators,
        energy: energy.clone(),
        scenarios: api::scenarios::ScenarioService::new(),
        cells_cache: Arc::default(),
    };
    state.indicators.attach_energy(&energy);
    let (bound_tx, bound_rx) = oneshot::channel();
    {
        let http_cfg = cfg.http.clone();
        let token = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = api::serve(&http_cfg, state, token, bound_tx).await {
                tracing::error!(error = %e, "HTTP server stopped.");
            }
        });
    }
    let http = bound_rx
        .await
        .context("the HTTP server could not bind its address")?;

    // --- simulators (demo) ------------------------------------------------------------
    let sims = cfg.simulators.enabled && (mode == Mode::Demo || embedded);
    if sims {
        let secret = demo_secret
            .clone()
            .context("simulators need the installation secret")?;
        let fleet = simulators::Fleet::from_registry(&registry, &cfg.simulators, |g| {
            secrets::derived_password(&secret, g)
        });
        let port = broker_v4_port
            .or(broker_port)
            .context("simulators need the embedded broker")?;
        let host = cfg.mqtt.host.clone();
        tracing::info!(
            gateways = fleet.gateways().len(),
            "Starting gateway simulators."
        );
        let (_stats, mut set) = fleet.spawn(
            simulators::Broker { host, port },
            cfg.simulators.clone(),
            shutdown.clone(),
        );
        tasks.spawn(async move { while set.join_next().await.is_some() {} });
    }

    tracing::info!(%http, "CityBrain is up.");
    Ok(Running {
        http,
        broker_port,
        broker_v4_port,
        bootstrap_tokens,
        shutdown,
        tasks,
    })
}

async fn connect_store(db: &store::DbConfig) -> anyhow::Result<store::Store> {
    let mut delay = Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match db.clone().build().await {
            Ok(s) => return Ok(s),
            Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "Database not reachable yet; retrying.");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e).context("connecting to the database"),
        }
    }
}

async fn ops_task(
    ops: api::OpsService,
    ngsi: api::NgsiNotifier,
    energy: api::EnergyLive,
    mut rx: mpsc::Receiver<OpsWork>,
    shutdown: CancellationToken,
) {
    loop {
        let work = tokio::select! {
            w = rx.recv() => w,
            () = shutdown.cancelled() => None,
        };
        let Some(work) = work else { break };
        match work {
            OpsWork::Applied {
                observations,
                events,
                snapshot,
            } => {
                ops.on_observations(&observations, &snapshot).await;
                ngsi.on_observations(&observations, &snapshot);
                // feeder power flows (throttled, on the blocking pool); their
                // loading and voltages go through the alarm rules
                let values = energy.on_snapshot(&snapshot).await;
                ops.on_entity_values(&values, snapshot.as_of(), &snapshot)
                    .await;
                if !events.is_empty() {
                    ops.on_reports(&events, &snapshot).await;
                }
            }
            OpsWork::Tick(snapshot) => ops.tick(clock::now(), &snapshot).await,
        }
    }
}

/// Follow mode: a plain subscription that sees every message, decoded and
/// applied to the twin only (the durable path is the shared subscription).
async fn follow(
    mut mqtt: ingest::MqttConfig,
    ctx: Arc<ArcSwap<DecodeContext>>,
    to_twin: mpsc::Sender<twin_task::TwinInput>,
    shutdown: CancellationToken,
) {
    mqtt.client_id = format!("{}-follow", mqtt.client_id);
    mqtt.shared_group = None;
    mqtt.clean_start = true;
    mqtt.session_expiry_secs = 0;
    let client = match mqtt.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Follow subscription not started.");
            return;
        }
    };
    let (tx, mut rx) = mpsc::channel(client.channel_capacity());
    let token = shutdown.clone();
    let run = tokio::spawn(client.run(ctx, tx, token));
    while let Some(d) = rx.recv().await {
        let _ = d.ack.ack_now();
        let input = twin_task::TwinInput {
            observations: d.decoded.observations,
            events: d.decoded.events,
            status: d.decoded.status,
            provisioned: d.decoded.provisioned,
        };
        if to_twin.send(input).await.is_err() {
            break;
        }
    }
    run.abort();
}

async fn store_jobs(
    store: store::Store,
    readiness: Arc<api::Readiness>,
    shutdown: CancellationToken,
) {
    let mut ping = tokio::time::interval(Duration::from_secs(5));
    let mut rollups = tokio::time::interval(Duration::from_secs(60));
    let mut retention = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = ping.tick() => {
                let ok = store.ping().await.is_ok();
                readiness.store.store(ok, std::sync::atomic::Ordering::Relaxed);
            }
            _ = rollups.tick() => {
                let since = domain::Timestamp(clock::now().0 - 3 * 60_000);
                if let Err(e) = store.refresh_rollups(since).await {
                    tracing::warn!(error = %e, "Roll-up refresh failed; retrying next minute.");
                }
            }
            _ = retention.tick() => {
                match store.apply_retention(clock::now()).await {
                    Ok(s) => tracing::debug!(stats = ?s, "Retention applied."),
                    Err(e) => tracing::warn!(error = %e, "Retention failed; retrying next hour."),
                }
            }
        }
    }
}
