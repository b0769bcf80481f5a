//! The `citybrain` binary: one process that wires the adapters around the twin,
//! and the command-line entry points of the engines.

mod app;
mod city;
mod cli;
mod clock;
mod config;
mod layered;
mod secrets;
mod telemetry;
mod twin_task;
mod writer;

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    cli::init_tracing(args.log_json);
    cli::run(args)
}
