//! End-to-end harness: run the real `citybrain` binary as a child process,
//! publish to it over MQTT like a gateway, and read what it stored and serves.
//!
//! The binary is built on first use (`cargo build -p server --bin citybrain`)
//! into the same target folder as the tests.

#![allow(clippy::missing_panics_doc)] // a harness: a failed expectation is a failed test

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod publish;

/// The `citybrain` binary, built once per test run.
pub fn citybrain_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/it-xxxx -> target/<profile>/citybrain
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let bin = profile_dir.join("citybrain");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile = profile_dir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("debug");
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "server", "--bin", "citybrain"]);
        if profile == "release" {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        let status = cmd.status().expect("cargo runs");
        assert!(status.success(), "building the citybrain binary failed");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
    .clone()
}

/// What a started server reports in its ready file.
#[derive(Debug, Clone)]
pub struct Ready {
    /// HTTP address.
    pub http: String,
    /// Embedded broker MQTT 5 port.
    pub mqtt_port: Option<u16>,
    /// Embedded broker MQTT 3.1.1 port.
    pub mqtt_v4_port: Option<u16>,
}

/// A running `citybrain` process.
pub struct Server {
    child: Child,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Its working folder (data dir, logs, ready file).
    pub dir: PathBuf,
    /// What it reported when it came up.
    pub ready: Ready,
    starts: u32,
}

impl Server {
    /// Starts `citybrain <args>` in `dir` with extra environment and waits (up
    /// to `timeout`) until it is up.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, String)], timeout: Duration) -> Server {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let (child, ready) = spawn(dir, &args, &env, 0, timeout);
        Server {
            child,
            args,
            env,
            dir: dir.to_owned(),
            ready,
            starts: 1,
        }
    }

    /// Kills the process with SIGKILL (no shutdown code runs).
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the same command again (after `kill9`).
    pub fn restart(&mut self, timeout: Duration) {
        let (child, ready) = spawn(&self.dir, &self.args, &self.env, self.starts, timeout);
        self.starts += 1;
        self.child = child;
        self.ready = ready;
    }

    /// `GET path` on the HTTP API: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.ready.http, path)
    }

    /// The sum of a Prometheus metric's samples whose labels contain `labels`
    /// (e.g. `kind="air_quality"`); 0 when absent.
    pub fn metric(&self, name: &str, labels: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        metric_value(&text, name, labels)
    }

    /// The log of the latest start.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("citybrain-{}.log", self.starts - 1)))
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(
    dir: &Path,
    args: &[String],
    env: &[(String, String)],
    n: u32,
    timeout: Duration,
) -> (Child, Ready) {
    std::fs::create_dir_all(dir).expect("server dir");
    let ready_file = dir.join("ready.json");
    let _ = std::fs::remove_file(&ready_file);
    let log = std::fs::File::create(dir.join(format!("citybrain-{n}.log"))).expect("log file");
    let mut cmd = Command::new(citybrain_bin());
    cmd.current_dir(dir)
        .args(args)
        .arg("--ready-file")
        .arg(&ready_file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("E2E_LOG").unwrap_or_else(|_| "info".into()),
    );
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("citybrain starts");
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready_file)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        {
            let port = |k: &str| v[k].as_u64().and_then(|p| u16::try_from(p).ok());
            let ready = Ready {
                http: v["http"].as_str().unwrap_or_default().to_owned(),
                mqtt_port: port("mqtt_port"),
                mqtt_v4_port: port("mqtt_v4_port"),
            };
            return (child, ready);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log =
                std::fs::read_to_string(dir.join(format!("citybrain-{n}.log"))).unwrap_or_default();
            panic!("citybrain exited with {status} before it was up; log:\n{log}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let log =
                std::fs::read_to_string(dir.join(format!("citybrain-{n}.log"))).unwrap_or_default();
            panic!("citybrain was not up within {timeout:?}; log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A minimal HTTP/1.1 GET (no keep-alive): (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(len.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Sums the samples of `name` whose label set contains `labels`.
pub fn metric_value(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let (metric, lab) = key.split_once('{').map_or((key, ""), |(m, rest)| (m, rest));
            (metric == name && lab.contains(labels))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// Polls `f` every 250 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_samples_are_summed_by_label() {
        let text = "# TYPE x counter\nx{kind=\"a\"} 2\nx{kind=\"b\"} 3\ny 7\nx_total 1\n";
        assert_eq!(metric_value(text, "x", ""), 5.0);
        assert_eq!(metric_value(text, "x", "kind=\"b\""), 3.0);
        assert_eq!(metric_value(text, "y", ""), 7.0);
        assert_eq!(metric_value(text, "z", ""), 0.0);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
