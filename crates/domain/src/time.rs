//! Wall-clock timestamps carried by data, and simulated time.

use std::fmt;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC), as carried by observations.
///
/// Pure crates never read the clock; a `Timestamp` is always data that was
/// passed in (the time a sensor measured, or the time an adapter received).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Builds a timestamp from (possibly fractional) seconds since the epoch,
    /// rounding to the nearest millisecond. `None` if not finite or out of range.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        let ms = (secs * 1000.0).round();
        if ms.is_finite() && ms.abs() < 9.0e15 {
            // the bound keeps the cast exact: |ms| < 2^53
            #[allow(clippy::cast_possible_truncation)]
            Some(Self(ms as i64))
        } else {
            None
        }
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Start of the bucket of `width_ms` that holds this instant.
    pub fn floor_to(self, width_ms: i64) -> Self {
        Self(self.0.div_euclid(width_ms) * width_ms)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}ms)", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// Simulated time: milliseconds since the start of a run. Never wall-clock.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of a run.
    pub const ZERO: Self = Self(0);

    /// Builds a time from milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Builds a time from whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        Self(s * 1000)
    }

    /// Milliseconds since the start of the run.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Seconds since the start of the run.
    #[allow(clippy::cast_precision_loss)]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimTime({}ms)", self.0)
    }
}

impl Add<u64> for SimTime {
    type Output = SimTime;
    fn add(self, ms: u64) -> SimTime {
        SimTime(self.0 + ms)
    }
}

impl Sub for SimTime {
    type Output = u64;
    /// Milliseconds between two times.
    ///
    /// # Panics
    /// If `rhs` is later than `self` (time never runs backwards in a run).
    fn sub(self, rhs: SimTime) -> u64 {
        self.0
            .checked_sub(rhs.0)
            .expect("SimTime subtraction went negative")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_to_handles_negative_instants() {
        assert_eq!(Timestamp(61_500).floor_to(60_000), Timestamp(60_000));
        assert_eq!(Timestamp(-1).floor_to(60_000), Timestamp(-60_000));
    }

    #[test]
    fn from_secs_rounds_and_rejects_non_finite() {
        assert_eq!(Timestamp::from_secs_f64(1.2345), Some(Timestamp(1235)));
        assert_eq!(Timestamp::from_secs_f64(f64::NAN), None);
        assert_eq!(Timestamp::from_secs_f64(1e300), None);
    }
}
