//! Seeded, portable random number generators (the same scheme as the
//! `scenario` crate's `seeded`/`fork`, which `twin` cannot depend on because
//! `scenario` depends on `twin`).

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// The master generator for a seed.
pub(crate) fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// An independent generator for one subsystem; fork in a fixed order.
pub(crate) fn fork(master: &mut ChaCha8Rng) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(master.random::<u64>())
}
