//! Token buckets per caller: a token id, or the client address for calls
//! without a token. A bucket holds at most `burst` requests and refills at
//! `per_sec`; an empty bucket answers 429 with the seconds until the next
//! request would pass.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets above this count are swept of full (idle) ones.
const SWEEP_ABOVE: usize = 10_000;

/// Per-caller token buckets. `per_sec = 0` disables limiting.
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    // lookup only; keyed by `token:<id>` or `ip:<address>`
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter refilling `per_sec` requests per second up to `burst`
    /// (at least one).
    pub fn new(per_sec: u32, burst: u32) -> Self {
        Self {
            per_sec: f64::from(per_sec),
            burst: f64::from(burst.max(per_sec).max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket; `Err(seconds)` to wait when empty.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    /// [`check`](Self::check) at a given instant (for tests).
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        if self.per_sec <= 0.0 {
            return Ok(());
        }
        let Ok(mut m) = self.buckets.lock() else {
            return Ok(());
        };
        if m.len() > SWEEP_ABOVE {
            let (rate, burst) = (self.per_sec, self.burst);
            m.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = m.entry(key.to_owned()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.per_sec;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let wait = ((1.0 - *tokens) / self.per_sec).ceil().max(1.0) as u64;
            Err(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let l = RateLimiter::new(2, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at("a", t0), Ok(()));
        }
        assert_eq!(l.check_at("a", t0), Err(1));
        // other callers have their own bucket
        assert_eq!(l.check_at("b", t0), Ok(()));
        // half a second refills one request at 2/s
        assert_eq!(l.check_at("a", t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.check_at("a", t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn zero_rate_means_unlimited() {
        let l = RateLimiter::new(0, 0);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert!(l.check_at("x", t0).is_ok());
        }
    }
}
