//! `citybrain energy` subcommands.

use clap::Subcommand;

/// `citybrain energy` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Prints what this engine offers.
    Info,
}

/// Runs one subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Info => {
            tracing::info!("No energy commands yet.");
            Ok(())
        }
    }
}
