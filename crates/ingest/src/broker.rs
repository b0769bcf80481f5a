//! The embedded MQTT broker (rumqttd) for the single-binary run.
//!
//! rumqttd's `Broker::start` blocks and has no shutdown API, so the broker
//! runs on its own threads for the rest of the process. It listens for MQTT 5
//! on `port` (what ingest uses) and, optionally, MQTT 3.1.1 on `v4_port` for
//! gateways with older clients.
//!
//! What it supports, as tested in `tests/it/broker.rs`: username/password
//! authentication, QoS 1 with manual acknowledgement, persistent sessions for
//! `clean_start = false` clients (held in memory: they do not survive a
//! process restart), MQTT 5 shared subscriptions. What it does not: more than
//! 100 unacknowledged messages in flight per connection (a constant in
//! rumqttd, whatever `max_inflight` says), ACLs
//! (any authenticated client may publish on any topic), persistence to disk,
//! TLS (not compiled in), and a clean shutdown.

use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::{Error, Secret};

/// Default MQTT 5 port of the embedded broker (not 1883, where a system
/// Mosquitto often listens).
pub const DEFAULT_PORT: u16 = 18830;

/// Embedded broker settings.
#[derive(Debug, Clone)]
pub struct EmbeddedBrokerConfig {
    /// Address to listen on.
    pub host: String,
    /// MQTT 5 port; 0 picks a free port (see [`EmbeddedBroker::port`]).
    pub port: u16,
    /// Optional MQTT 3.1.1 port; `Some(0)` picks a free port.
    pub v4_port: Option<u16>,
    /// Username → password. Empty: no authentication.
    pub users: BTreeMap<String, Secret>,
    /// Most unacknowledged QoS 1 messages per connection.
    pub max_inflight: usize,
    /// Largest payload accepted, bytes.
    pub max_payload_bytes: usize,
    /// Most concurrent connections.
    pub max_connections: usize,
}

impl Default for EmbeddedBrokerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: DEFAULT_PORT,
            v4_port: None,
            users: BTreeMap::new(),
            max_inflight: 256,
            max_payload_bytes: 2 * 256 * 1024,
            max_connections: 10_000,
        }
    }
}

/// A running embedded broker. It runs until the process exits (rumqttd has no
/// shutdown); dropping this value does not stop it.
#[derive(Debug)]
pub struct EmbeddedBroker {
    addr: SocketAddr,
    v4_addr: Option<SocketAddr>,
}

impl EmbeddedBroker {
    /// Starts the broker on its own threads and waits (up to 5 s) until it
    /// accepts TCP connections.
    pub fn start(cfg: EmbeddedBrokerConfig) -> Result<EmbeddedBroker, Error> {
        let addr = reserve(&cfg.host, cfg.port)?;
        let v4_addr = cfg.v4_port.map(|p| reserve(&cfg.host, p)).transpose()?;
        let auth: Option<HashMap<String, String>> = (!cfg.users.is_empty()).then(|| {
            cfg.users
                .iter()
                .map(|(u, p)| (u.clone(), p.expose().to_owned()))
                .collect()
        });
        let connections = ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: cfg.max_payload_bytes,
            max_inflight_count: cfg.max_inflight,
            auth,
            external_auth: None,
            dynamic_filters: true,
        };
        let server = |name: &str, listen| ServerSettings {
            name: name.into(),
            listen,
            tls: None,
            next_connection_delay_ms: 1,
            connections: connections.clone(),
        };
        let config = Config {
            id: 0,
            router: RouterConfig {
                max_connections: cfg.max_connections,
                max_outgoing_packet_count: cfg.max_inflight as u64,
                max_segment_size: 100 * 1024 * 1024,
                max_segment_count: 10,
                custom_segment: None,
                initialized_filters: None,
                shared_subscriptions_strategy: Default::default(),
            },
            v4: v4_addr.map(|a| HashMap::from([("v4".to_owned(), server("citybrain-v4", a))])),
            v5: Some(HashMap::from([(
                "v5".to_owned(),
                server("citybrain-v5", addr),
            )])),
            ..Config::default()
        };
        std::thread::Builder::new()
            .name("mqtt-broker".into())
            .spawn(move || {
                let mut broker = Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!(error = %e, "Embedded MQTT broker stopped.");
                }
            })
            .map_err(|e| Error::Broker {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
        for a in std::iter::once(addr).chain(v4_addr) {
            wait_listening(a)?;
        }
        tracing::info!(%addr, v4 = ?v4_addr, auth = !cfg.users.is_empty(), "Embedded MQTT broker started.");
        Ok(EmbeddedBroker { addr, v4_addr })
    }

    /// The MQTT 5 listen address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MQTT 5 port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The MQTT 3.1.1 listen address, if enabled.
    pub fn v4_addr(&self) -> Option<SocketAddr> {
        self.v4_addr
    }

    /// `mqtt://host:port` for [`crate::MqttConfig::url`].
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.addr)
    }
}

/// Checks the address is free (or picks a free port for 0).
fn reserve(host: &str, port: u16) -> Result<SocketAddr, Error> {
    let l = TcpListener::bind((host, port)).map_err(|e| Error::Broker {
        addr: format!("{host}:{port}"),
        reason: e.to_string(),
    })?;
    l.local_addr().map_err(|e| Error::Broker {
        addr: format!("{host}:{port}"),
        reason: e.to_string(),
    })
}

fn wait_listening(addr: SocketAddr) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(Error::Broker {
        addr: addr.to_string(),
        reason: "not listening after 5 s".into(),
    })
}
