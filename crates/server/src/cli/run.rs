//! `citybrain demo`, `citybrain serve`, `citybrain check-config`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::app::{self, Mode};
use crate::config::Config;

/// Options of `citybrain demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// HTTP port of the API and dashboard.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind the HTTP server to.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Folder for the SQLite database, the demo secret and the demo tokens.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Optional config file layered over the demo defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Do not start the gateway simulators.
    #[arg(long)]
    pub no_simulators: bool,
    /// Extra simulated load, observations per second.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Write `{"http": ..., "mqtt_port": ..., "mqtt_v4_port": ...}` here once up
    /// (for scripts and tests).
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
}

/// Options of `citybrain serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); `CITYBRAIN__SECTION__KEY` variables override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Write `{"http": ..., "mqtt_port": ...}` here once up (for scripts and tests).
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
}

/// Options of `citybrain check-config`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file (TOML).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

fn env_vars() -> Vec<(String, String)> {
    std::env::vars().collect()
}

/// Runs the demo until Ctrl-C.
pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut env = vec![
        ("CITYBRAIN__HTTP__PORT".to_owned(), args.port.to_string()),
        ("CITYBRAIN__HTTP__BIND".to_owned(), args.bind.clone()),
        (
            "CITYBRAIN__DB__DATA_DIR".to_owned(),
            args.data_dir.display().to_string(),
        ),
    ];
    if args.no_simulators {
        env.push((
            "CITYBRAIN__SIMULATORS__ENABLED".to_owned(),
            "false".to_owned(),
        ));
    }
    if let Some(r) = args.rate {
        env.push((
            "CITYBRAIN__SIMULATORS__RATE_OBS_PER_S".to_owned(),
            r.to_string(),
        ));
    }
    // the user's environment wins over the flags' defaults
    env.extend(env_vars());
    let cfg = Config::load(args.config.as_deref(), env)?;
    run(cfg, Mode::Demo, args.ready_file)
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = Config::load(args.config.as_deref(), env_vars())?;
    cfg.simulators.enabled = cfg.simulators.enabled && cfg.broker.enabled == Some(true);
    run(cfg, Mode::Serve, args.ready_file)
}

/// Loads and validates a configuration without starting anything.
pub fn check(args: CheckArgs) -> anyhow::Result<()> {
    let cfg = Config::load(args.config.as_deref(), env_vars())?;
    cfg.twin.to_twin()?;
    cfg.mqtt.clone().build().context("[mqtt]")?;
    cfg.db.validate().context("[db]")?;
    eprintln!("configuration is valid");
    Ok(())
}

fn run(cfg: Config, mode: Mode, ready_file: Option<PathBuf>) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let mut running = app::start(cfg, mode).await?;
        announce(&running, mode);
        if let Some(path) = &ready_file {
            let info = serde_json::json!({
                "http": running.http.to_string(),
                "mqtt_port": running.broker_port,
                "mqtt_v4_port": running.broker_v4_port,
                "pid": std::process::id(),
            });
            std::fs::write(path, info.to_string())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let token = running.shutdown_token();
        tokio::select! {
            () = shutdown_signal() => tracing::info!("Shutting down."),
            () = running.wait_any() => tracing::error!("A core task stopped; shutting down."),
            () = token.cancelled() => {}
        }
        running.stop(Duration::from_secs(10)).await;
        Ok(())
    })
}

fn announce(r: &app::Running, mode: Mode) {
    let url = format!("http://{}", r.http);
    if mode == Mode::Demo {
        eprintln!("\nCityBrain demo is running: {url}");
        if let Some(p) = r.broker_port {
            eprintln!(
                "  MQTT broker: mqtt://127.0.0.1:{p} (MQTT 5), v3.1.1 on {:?}",
                r.broker_v4_port
            );
        }
        if let Some(tokens) = &r.bootstrap_tokens {
            eprintln!("  API tokens (also in the data folder, demo-tokens.json):");
            for (role, t) in tokens {
                eprintln!("    {role:<9} {t}");
            }
        }
        eprintln!("  Press Ctrl-C to stop.\n");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
