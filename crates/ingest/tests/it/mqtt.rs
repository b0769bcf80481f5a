//! MQTT test helpers: unique names, an ingest runner, a publisher, a private
//! Mosquitto process.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use domain::{GatewayId, GatewaySpec, Registry, SensorKind};
use ingest::{DecodeContext, Delivery, MqttConfig};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, MqttOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::common::sensor;

/// A name unique to this test run (process id + a counter + time).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A registry with one gateway `gw` owning sensors `{gw}-s0..{gw}-s{n}`
/// (air quality, no metric list), plus the FIWARE apikey `{gw}-key`.
pub fn context_for(gw: &str, sensors: usize) -> DecodeContext {
    let registry = Registry::new(
        [GatewaySpec {
            id: GatewayId::new(gw).unwrap(),
            name: gw.into(),
        }],
        (0..sensors).map(|i| sensor(&format!("{gw}-s{i}"), gw, SensorKind::AirQuality, &[])),
    );
    let mut c = DecodeContext::new(registry);
    c.fiware_apikeys = BTreeMap::from([(format!("{gw}-key"), GatewayId::new(gw).unwrap())]);
    c
}

/// Filters that cover only `gw`'s topics (shared brokers carry other traffic).
pub fn filters_for(gw: &str) -> Vec<String> {
    vec![
        format!("citybrain/v1/{gw}/+"),
        format!("/json/{gw}-key/+/attrs"),
        format!("spBv1.0/{gw}-group/#"),
    ]
}

/// A running ingest client.
pub struct Running {
    pub rx: mpsc::Receiver<Delivery>,
    pub stop: CancellationToken,
    pub task: JoinHandle<Result<(), ingest::Error>>,
}

impl Running {
    /// Stops the client and waits for it to disconnect.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

pub fn start_ingest(cfg: MqttConfig, ctx: DecodeContext) -> Running {
    let ingest = cfg.build().unwrap();
    let (tx, rx) = mpsc::channel(ingest.channel_capacity());
    let stop = CancellationToken::new();
    let task = tokio::spawn(ingest.run(Arc::new(ArcSwap::from_pointee(ctx)), tx, stop.clone()));
    Running { rx, stop, task }
}

/// An ingest config for `url` with a fresh, persistent client id.
pub fn ingest_config(url: &str, client_id: &str, gw: &str) -> MqttConfig {
    MqttConfig {
        url: Some(url.into()),
        client_id: client_id.into(),
        topics: filters_for(gw),
        reconnect_min_ms: 50,
        reconnect_max_ms: 500,
        ..MqttConfig::default()
    }
}

/// A publishing client whose event loop runs in the background.
pub struct Publisher {
    pub client: AsyncClient,
    task: JoinHandle<()>,
}

impl Publisher {
    pub async fn connect(host: &str, port: u16, creds: Option<(&str, &str)>) -> Publisher {
        let mut o = MqttOptions::new(unique("pub"), host, port);
        o.set_keep_alive(Duration::from_secs(30));
        o.set_max_packet_size(Some(1024 * 1024));
        if let Some((u, p)) = creds {
            o.set_credentials(u, p);
        }
        let (client, mut el) = AsyncClient::new(o, 1_000);
        let task = tokio::spawn(async move {
            loop {
                if el.poll().await.is_err() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        Publisher { client, task }
    }

    pub async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.into())
            .await
            .unwrap();
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Receives deliveries until `done` holds for all received so far, or the
/// timeout passes; returns them (unacked).
pub async fn collect(
    rx: &mut mpsc::Receiver<Delivery>,
    timeout: Duration,
    mut done: impl FnMut(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut got = Vec::new();
    while !done(&got) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(d)) => got.push(d),
            Ok(None) | Err(_) => break,
        }
    }
    got
}

pub fn observation_count(ds: &[Delivery]) -> usize {
    ds.iter().map(|d| d.decoded.observations.len()).sum()
}

/// `MQTT_URL` (the real Mosquitto), or `None` with a SKIPPED message.
pub fn mqtt_url() -> Option<(String, String, u16)> {
    match std::env::var("MQTT_URL") {
        Ok(url) => {
            let rest = url
                .trim_start_matches("mqtt://")
                .trim_start_matches("tcp://")
                .trim_end_matches('/');
            let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
            Some((url.clone(), host.to_owned(), port.parse().unwrap()))
        }
        Err(_) => {
            eprintln!("SKIPPED: MQTT_URL not set");
            None
        }
    }
}

/// A private Mosquitto with QoS 1 queueing unbounded (`max_queued_messages 0`)
/// and persistence in a temp dir; killed on drop.
pub struct Mosquitto {
    child: Child,
    pub port: u16,
    bin: &'static str,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    /// `None` (with a SKIPPED message) when the `mosquitto` binary is absent.
    pub fn start() -> Option<Mosquitto> {
        let bin = ["mosquitto", "/usr/sbin/mosquitto"]
            .into_iter()
            .find(|b| Command::new(b).arg("-h").output().is_ok());
        let Some(bin) = bin else {
            eprintln!("SKIPPED: mosquitto binary not found");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Self::spawn(bin, dir.path(), port);
        Some(Mosquitto {
            child,
            port,
            bin,
            dir,
        })
    }

    fn spawn(bin: &str, dir: &std::path::Path, port: u16) -> Child {
        let conf = dir.join("mosquitto.conf");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n\
                 max_inflight_messages 1000\npersistence true\npersistence_location {}/\n\
                 log_dest stderr\nlog_type error\nlog_type warning\n",
                data.display()
            ),
        )
        .unwrap();
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// Kills the broker (SIGKILL) and starts it again on the same port;
    /// `forget` wipes its persistence first, so every session is lost.
    pub fn restart(&mut self, forget: bool) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if forget {
            let _ = std::fs::remove_dir_all(self.dir.path().join("data"));
        }
        self.child = Self::spawn(self.bin, self.dir.path(), self.port);
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
