//! `citybrain simulate`: run the gateway simulators of the demo city against
//! an external broker (for deployments and load tests).

use anyhow::Context as _;
use clap::Args;

/// Options of `citybrain simulate`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Broker URL, `mqtt://host:port` (MQTT 3.1.1, as most field gateways speak).
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    pub broker: String,
    /// Extra load, observations per second across all gateways.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Share of malformed messages (0-1).
    #[arg(long, default_value_t = 0.01)]
    pub malformed: f64,
    /// Seed of the city deployment and the value models.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Password of every gateway (brokers without authentication ignore it);
    /// default: `CITYBRAIN_SIM_PASSWORD`, else none.
    #[arg(long, env = "CITYBRAIN_SIM_PASSWORD", default_value = "")]
    pub password: String,
    /// Stop after this many seconds (0 = run until Ctrl-C).
    #[arg(long, default_value_t = 0)]
    pub seconds: u64,
}

/// Runs the simulators.
pub fn run(a: SimArgs) -> anyhow::Result<()> {
    let (host, port) = parse_broker(&a.broker)?;
    let city = twin::demo::helsinki(crate::city::HELSINKI_PBF, a.seed)
        .context("building the demo city")?;
    let cfg = simulators::SimConfig {
        seed: a.seed,
        rate_obs_per_s: a.rate,
        malformed_share: a.malformed,
        ..Default::default()
    };
    let password = a.password.clone();
    let fleet = simulators::Fleet::from_registry(&city.registry, &cfg, |_| password.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let token = tokio_util::sync::CancellationToken::new();
        let (stats, mut set) = fleet.spawn(simulators::Broker { host, port }, cfg, token.clone());
        let stop = async {
            if a.seconds > 0 {
                tokio::time::sleep(std::time::Duration::from_secs(a.seconds)).await;
            } else {
                let _ = tokio::signal::ctrl_c().await;
            }
        };
        stop.await;
        token.cancel();
        while set.join_next().await.is_some() {}
        eprintln!(
            "published {} messages ({} observations, {} events, {} malformed), {} acknowledged",
            stats.messages.load(std::sync::atomic::Ordering::Relaxed),
            stats.observations(),
            stats.events.load(std::sync::atomic::Ordering::Relaxed),
            stats.malformed.load(std::sync::atomic::Ordering::Relaxed),
            stats.pubacks.load(std::sync::atomic::Ordering::Relaxed),
        );
        anyhow::Ok(())
    })
}

fn parse_broker(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .context("broker must be mqtt://host:port")?;
    let (h, p) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
    Ok((
        h.to_owned(),
        p.trim_end_matches('/').parse().context("bad broker port")?,
    ))
}
