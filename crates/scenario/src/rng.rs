//! Seeded, portable random number generators.

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// The master generator of a run.
pub fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Forks an independent generator for one subsystem. Fork in a fixed order at
/// start-up, so adding a subsystem later does not reshuffle the others' draws.
pub fn fork(master: &mut ChaCha8Rng) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(master.random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let draw = |seed| {
            let mut m = seeded(seed);
            let mut a = fork(&mut m);
            (0..4).map(|_| a.random::<u32>()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
