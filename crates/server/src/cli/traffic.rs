//! `citybrain traffic` subcommands.

use clap::Subcommand;

/// `citybrain traffic` subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Prints what this engine offers.
    Info,
}

/// Runs one subcommand.
pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Info => {
            tracing::info!("No traffic commands yet.");
            Ok(())
        }
    }
}
