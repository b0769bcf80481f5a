//! Gateway passwords: argon2id PHC strings, hashed and checked off the async
//! runtime (one hash takes tens of milliseconds by design).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::Error;

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes) and
/// a random salt, returning the PHC string.
pub(crate) fn hash(gateway: &str, password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash {
            gateway: gateway.to_owned(),
            reason: e.to_string(),
        })
}

/// Whether `password` matches the PHC string `phc`. A malformed stored hash
/// never matches.
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash to verify against when the gateway is unknown or has no password,
/// so that the answer takes as long as for a known gateway.
pub(crate) fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash("decoy", "decoy password that is never accepted").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password_and_are_salted() {
        let a = hash("gw", "correct horse").unwrap();
        let b = hash("gw", "correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salt must differ");
        assert!(verify("correct horse", &a));
        assert!(!verify("correct horsE", &a));
        assert!(!verify("correct horse", "not a phc string"));
    }
}
