//! The `citybrain serve` process under load: found or built next to this
//! binary, started in a temporary folder with environment configuration,
//! scraped over HTTP, measured through `/proc`, and stopped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The `citybrain` binary: `explicit`, else the one next to this executable,
/// built with `cargo build -p server --bin citybrain` (same profile) when missing.
pub fn citybrain_bin(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.exists() {
            Ok(p)
        } else {
            Err(format!("no citybrain binary at {}", p.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let dir = exe.parent().ok_or("own folder")?;
    let bin = dir.join("citybrain");
    let profile = dir.file_name().and_then(|s| s.to_str()).unwrap_or("debug");
    // cargo sets CARGO for `cargo run`; build so the server matches the source
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "server", "--bin", "citybrain"]);
        if profile == "release" {
            cmd.arg("--release");
        }
        if let Some(target) = dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        let status = cmd.status().map_err(|e| format!("running cargo: {e}"))?;
        if !status.success() {
            return Err("building the citybrain binary failed".into());
        }
    }
    if !bin.exists() {
        return Err(format!(
            "no citybrain binary at {} (build it with `cargo build --release -p server --bin citybrain`)",
            bin.display()
        ));
    }
    if profile != "release" {
        eprintln!(
            "warning: {} is a {profile} build; measure release builds",
            bin.display()
        );
    }
    Ok(bin)
}

/// Writes a fresh installation secret to `<data_dir>/demo-secret` (what
/// `citybrain` reads when its embedded broker is on) and returns it.
pub fn write_secret(data_dir: &Path, seed: u64) -> Result<String, String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let secret = hex(&h.finalize());
    std::fs::write(data_dir.join("demo-secret"), &secret)
        .map_err(|e| format!("writing the secret: {e}"))?;
    Ok(secret)
}

/// The MQTT password of `who` (a gateway id or `citybrain-ingest`) derived
/// from the installation secret, as the server derives it (`server::secrets`):
/// the first 16 bytes of SHA-256(secret, 0x00, who), in hex.
pub fn derived_password(secret: &str, who: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update([0]);
    h.update(who.as_bytes());
    hex(&h.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A running `citybrain serve`.
pub struct Citybrain {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// HTTP address.
    pub http: String,
    /// Embedded broker MQTT 5 port.
    pub mqtt_port: Option<u16>,
    /// Embedded broker MQTT 3.1.1 port.
    pub mqtt_v4_port: Option<u16>,
    log: PathBuf,
}

impl Citybrain {
    /// Starts `citybrain serve` in `dir` with `env` and waits until it wrote
    /// its ready file.
    pub fn start(bin: &Path, dir: &Path, env: &[(String, String)]) -> Result<Citybrain, String> {
        let ready = dir.join("ready.json");
        let log = dir.join("citybrain.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;
        let mut cmd = Command::new(bin);
        cmd.current_dir(dir)
            .args(["serve", "--ready-file"])
            .arg(&ready)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env(
                "RUST_LOG",
                std::env::var("E2E_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting citybrain: {e}"))?;
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                let port = |k: &str| v[k].as_u64().and_then(|p| u16::try_from(p).ok());
                return Ok(Citybrain {
                    child,
                    pid,
                    http: v["http"].as_str().unwrap_or_default().to_owned(),
                    mqtt_port: port("mqtt_port"),
                    mqtt_v4_port: port("mqtt_v4_port"),
                    log,
                });
            }
            let tail = || {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            };
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("citybrain exited with {status}:\n{}", tail()));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("citybrain not up within 120 s:\n{}", tail()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The `/metrics` text ("" when unreachable).
    pub fn metrics(&self) -> String {
        e2e::http_get(&self.http, "/metrics").1
    }

    /// Its warnings and errors, counted by message (digits and ANSI colours
    /// removed so that repeats group).
    pub fn log_warnings(&self) -> Vec<(String, usize)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for line in text.lines() {
            let plain = strip_ansi(line);
            let Some((_, msg)) = plain
                .split_once(" WARN ")
                .or_else(|| plain.split_once(" ERROR "))
            else {
                continue;
            };
            let msg: String = msg
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .take(160)
                .collect();
            *counts.entry(msg.trim().to_owned()).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// Stops it (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Citybrain {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `line` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // skip to the final byte of the sequence
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_match_an_independent_sha256() {
        // python3 -c "import hashlib; print(hashlib.sha256(b's3cret\0gw-1').hexdigest()[:32])"
        assert_eq!(
            derived_password("s3cret", "gw-1"),
            "66bf63a709d5b983a187571ca793932b"
        );
    }

    #[test]
    fn colours_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[33m WARN\u{1b}[0m \u{1b}[2mingest\u{1b}[0m: Full."),
            " WARN ingest: Full."
        );
    }

    #[test]
    fn the_secret_is_long_enough_for_the_server_to_keep_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = write_secret(dir.path(), 7).unwrap();
        // the server replaces a secret shorter than 32 characters
        assert_eq!(s.len(), 64);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("demo-secret")).unwrap(),
            s
        );
    }
}
