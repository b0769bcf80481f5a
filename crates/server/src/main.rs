//! The `citybrain` binary: one process that wires the adapters around the twin,
//! and the command-line entry points of the engines.

mod cli;

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    cli::init_tracing(args.log_json);
    cli::run(args)
}
