//! Test support shared by the workspace's test suites (dev-dependency only).
//!
//! - [`shared_data`]: locate a reference data set that is read in place and not
//!   copied into the repository (licence or size), skipping clearly when absent.
//! - `twin` (feature `twin`): the demo city extract, small synthetic cities
//!   and deterministic observation streams.

use std::path::PathBuf;

#[cfg(feature = "services")]
pub mod services;
#[cfg(feature = "twin")]
pub mod twin;

/// The folder of shared reference data: `$CITYBRAIN_SHARED_DATA` if set, else
/// `../shared/data` next to the workspace root.
pub fn shared_data_root() -> PathBuf {
    if let Some(p) = std::env::var_os("CITYBRAIN_SHARED_DATA") {
        return PathBuf::from(p);
    }
    workspace_root().join("..").join("shared").join("data")
}

/// The workspace root (the folder holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // crates/testkit -> workspace root
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
}

/// A path inside the shared reference data, or `None` (with a message on
/// stderr naming what is missing) when it is absent, so the caller can skip.
///
/// ```no_run
/// let Some(net) = testkit::shared_data("traffic/hangzhou_4x4/sumo") else { return };
/// ```
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let p = shared_data_root().join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: reference data {rel} not found under {} (set CITYBRAIN_SHARED_DATA)",
            shared_data_root().display()
        );
        None
    }
}
