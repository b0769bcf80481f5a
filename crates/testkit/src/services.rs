//! Real services for tests: the addresses CI provides (`MQTT_URL`,
//! `DATABASE_URL`) and a private Mosquitto that a test may restart.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `MQTT_URL` as `(host, port)`, or `None` with a SKIPPED message.
pub fn mqtt_url() -> Option<(String, u16)> {
    let Ok(url) = std::env::var("MQTT_URL") else {
        eprintln!("SKIPPED: MQTT_URL not set (CI sets it to the real Mosquitto)");
        return None;
    };
    let rest = url
        .trim_start_matches("mqtt://")
        .trim_start_matches("tcp://")
        .trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
    Some((host.to_owned(), port.parse().ok()?))
}

/// `DATABASE_URL`, or `None` with a SKIPPED message.
pub fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(u) => Some(u),
        Err(_) => {
            eprintln!("SKIPPED: DATABASE_URL not set (CI sets it to the real PostgreSQL)");
            None
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Waits until `127.0.0.1:port` accepts TCP connections.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A private Mosquitto: QoS 1 queues unbounded (`max_queued_messages 0`),
/// persistence in a temp dir, anonymous access, on a free port. Killed on drop.
pub struct Mosquitto {
    child: Child,
    /// Its port.
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts one, or `None` (with a SKIPPED message) when `mosquitto` is not installed.
    pub fn start() -> Option<Self> {
        let bin = ["mosquitto", "/usr/sbin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|b| {
                Command::new(b)
                    .arg("-h")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok()
            });
        let Some(bin) = bin else {
            eprintln!("SKIPPED: mosquitto binary not found");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let child = spawn(&bin, dir.path(), port);
        Some(Self {
            child,
            port,
            bin,
            dir,
        })
    }

    /// `mqtt://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Stops the broker gracefully (SIGTERM: it saves its persistence) and
    /// starts it again on the same port with the same data.
    pub fn restart(&mut self) {
        terminate(&mut self.child);
        self.child = spawn(&self.bin, self.dir.path(), self.port);
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn terminate(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn spawn(bin: &Path, dir: &Path, port: u16) -> Child {
    let conf = dir.join("mosquitto.conf");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("mosquitto data dir");
    // Started as root, Mosquitto drops to its own user and then cannot write a
    // root-owned folder: persistence would fail silently and a restart would
    // lose every queued message.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777))
            .expect("mosquitto data dir mode");
    }
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n\
             max_inflight_messages 1000\npersistence true\npersistence_location {}/\n\
             autosave_interval 1\nlog_dest stderr\nlog_type error\n",
            data.display()
        ),
    )
    .expect("mosquitto config");
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto starts");
    assert!(
        wait_for_port(port, Duration::from_secs(10)),
        "mosquitto did not start on port {port}"
    );
    child
}
