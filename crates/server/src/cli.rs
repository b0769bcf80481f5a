//! Command-line interface: one subcommand per area.

mod community;
mod energy;
mod import;
mod indicators;
mod progress;
mod run;
mod simulate;
mod traffic;

use clap::{Parser, Subcommand};

pub use progress::ProgressBar;

/// CityBrain: a city operations platform.
#[derive(Debug, Parser)]
#[command(name = "citybrain", version, about)]
pub struct Cli {
    /// Log as JSON lines (for deployments) instead of human-readable text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo: embedded broker, SQLite, the Helsinki demo city,
    /// simulators and the dashboard on http://localhost:8080.
    Demo(run::DemoArgs),
    /// Run the server as configured (`--config FILE`, `CITYBRAIN__*` variables).
    Serve(run::ServeArgs),
    /// Check a configuration file without starting anything.
    CheckConfig(run::CheckArgs),
    /// Import a city (OpenStreetMap, GeoJSON).
    #[command(subcommand)]
    Import(import::Cmd),
    /// Run the demo city's gateway simulators against a broker.
    Simulate(simulate::SimArgs),
    /// Traffic engine: run scenarios on SUMO, CityFlow or twin networks.
    #[command(subcommand)]
    Traffic(traffic::Cmd),
    /// Community engine: event-handling queues, staffing, accessibility, SEIR.
    #[command(subcommand)]
    Community(community::Cmd),
    /// Energy engine: power flow, feeder time series, PV, EV, storage.
    #[command(subcommand)]
    Energy(energy::Cmd),
    /// Governance indicators: profiles, scoring and the evaluation report.
    #[command(subcommand)]
    Indicators(indicators::Cmd),
}

/// Installs the tracing subscriber (`RUST_LOG` filter, default `info`).
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(a) => run::demo(a),
        Command::Serve(a) => run::serve(a),
        Command::CheckConfig(a) => run::check(a),
        Command::Import(cmd) => import::run(cmd),
        Command::Simulate(a) => simulate::run(a),
        Command::Traffic(cmd) => traffic::run(cmd),
        Command::Community(cmd) => community::run(cmd),
        Command::Energy(cmd) => energy::run(cmd),
        Command::Indicators(cmd) => indicators::run(cmd),
    }
}
