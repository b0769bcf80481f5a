//! Demo credentials: gateway passwords derived from a per-installation secret
//! kept in the data directory, so the embedded broker, the store and the
//! simulators agree without passwords in any file of the repository.

use std::path::Path;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

/// The installation secret: read from `<dir>/demo-secret`, created (32 random
/// bytes, hex, mode 0600) when missing.
pub fn installation_secret(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("demo-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_owned();
        if s.len() >= 32 {
            return Ok(s);
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let s: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &s)?;
    Ok(s)
}

/// The MQTT password of a principal (`gateway id` or `citybrain-ingest`).
pub fn derived_password(secret: &str, who: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update([0]);
    h.update(who.as_bytes());
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a file readable only by this user.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_differ_per_principal_and_secret() {
        assert_eq!(derived_password("s", "gw-1"), derived_password("s", "gw-1"));
        assert_ne!(derived_password("s", "gw-1"), derived_password("s", "gw-2"));
        assert_ne!(derived_password("s", "gw-1"), derived_password("t", "gw-1"));
        assert_eq!(derived_password("s", "gw-1").len(), 32);
    }

    #[test]
    fn the_secret_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = installation_secret(dir.path()).unwrap();
        let b = installation_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
    }
}
