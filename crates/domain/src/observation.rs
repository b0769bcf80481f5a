//! Observations: one numeric value of one metric from one sensor at one instant.

use serde::{Deserialize, Serialize};

use crate::{Metric, SensorId, Timestamp, Unit};

/// One numeric value, in the metric's canonical unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The sensor that measured.
    pub sensor: SensorId,
    /// What was measured.
    pub metric: Metric,
    /// When it was measured (or received, when the payload carried no time).
    pub ts: Timestamp,
    /// The value in the metric's canonical unit (custom metrics: as sent).
    pub value: f64,
}

/// Why an observation was rejected. Each variant carries the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObservationError {
    /// The value is NaN or infinite.
    #[error("value of {metric} is not a finite number")]
    NonFinite {
        /// The metric.
        metric: Metric,
    },
    /// The unit does not measure the metric's dimension.
    #[error("unit {unit} cannot express {metric} (expected {expected})")]
    WrongUnit {
        /// The metric.
        metric: Metric,
        /// The unit sent.
        unit: Unit,
        /// The metric's canonical unit.
        expected: Unit,
    },
    /// The value is outside the metric's plausible range.
    #[error("{metric} = {value} {unit} is outside the plausible range {min}..={max}")]
    OutOfRange {
        /// The metric.
        metric: Metric,
        /// The value (canonical unit).
        value: f64,
        /// The canonical unit.
        unit: Unit,
        /// Range start.
        min: f64,
        /// Range end.
        max: f64,
    },
    /// The timestamp is too far ahead of the receive time.
    #[error("timestamp {ts} is {ahead_ms} ms in the future (limit {limit_ms} ms)")]
    FromFuture {
        /// The timestamp.
        ts: Timestamp,
        /// How far ahead of the receive time.
        ahead_ms: i64,
        /// The configured limit.
        limit_ms: i64,
    },
    /// The timestamp is too far behind the receive time.
    #[error("timestamp {ts} is {behind_ms} ms in the past (limit {limit_ms} ms)")]
    TooOld {
        /// The timestamp.
        ts: Timestamp,
        /// How far behind the receive time.
        behind_ms: i64,
        /// The configured limit.
        limit_ms: i64,
    },
}

/// Bounds on how far an observation's timestamp may be from its receive time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Largest accepted lead over the receive time (clock skew), ms.
    pub max_future_ms: i64,
    /// Largest accepted age at receive time (gateway buffering), ms.
    pub max_age_ms: i64,
}

impl Default for TimeWindow {
    fn default() -> Self {
        Self {
            max_future_ms: 5 * 60_000,
            max_age_ms: 7 * 86_400_000,
        }
    }
}

impl Observation {
    /// Validates and normalises one raw reading.
    ///
    /// `unit` is the unit sent (if any): for a well-known metric it must have the
    /// metric's dimension and the value is converted to the canonical unit; then
    /// the value must be finite and within the metric's plausible range, and the
    /// timestamp within `window` of `received`.
    pub fn validated(
        sensor: SensorId,
        metric: Metric,
        ts: Timestamp,
        value: f64,
        unit: Option<Unit>,
        received: Timestamp,
        window: TimeWindow,
    ) -> Result<Self, ObservationError> {
        if !value.is_finite() {
            return Err(ObservationError::NonFinite { metric });
        }
        let mut value = value;
        if let Some(info) = metric.info() {
            if let Some(u) = unit {
                match u.convert(value, info.unit) {
                    Some(v) => value = v,
                    None => {
                        return Err(ObservationError::WrongUnit {
                            metric,
                            unit: u,
                            expected: info.unit,
                        });
                    }
                }
            }
            if !(info.min..=info.max).contains(&value) || !value.is_finite() {
                return Err(ObservationError::OutOfRange {
                    metric,
                    value,
                    unit: info.unit,
                    min: info.min,
                    max: info.max,
                });
            }
        }
        let ahead = ts.0.saturating_sub(received.0);
        if ahead > window.max_future_ms {
            return Err(ObservationError::FromFuture {
                ts,
                ahead_ms: ahead,
                limit_ms: window.max_future_ms,
            });
        }
        let behind = received.0.saturating_sub(ts.0);
        if behind > window.max_age_ms {
            return Err(ObservationError::TooOld {
                ts,
                behind_ms: behind,
                limit_ms: window.max_age_ms,
            });
        }
        Ok(Self {
            sensor,
            metric,
            ts,
            value,
        })
    }

    /// The idempotency key: the same sensor, metric and timestamp always give
    /// the same key, so a redelivered observation overwrites nothing and is
    /// stored once.
    pub fn key(&self) -> ObsKey {
        ObsKey::of(&self.sensor, &self.metric, self.ts)
    }
}

/// A stable 63-bit idempotency key for an observation (FNV-1a 64 over
/// `sensor \0 metric \0 ts`, top bit cleared so it fits a signed 64-bit column).
///
/// **This is a persisted format**: changing the hash changes stored keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObsKey(pub i64);

impl ObsKey {
    /// Computes the key.
    pub fn of(sensor: &SensorId, metric: &Metric, ts: Timestamp) -> Self {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = OFFSET;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(PRIME);
            }
        };
        eat(sensor.as_str().as_bytes());
        eat(&[0]);
        eat(metric.as_str().as_bytes());
        eat(&[0]);
        eat(&ts.0.to_le_bytes());
        #[allow(clippy::cast_possible_wrap)]
        Self((h & (u64::MAX >> 1)) as i64)
    }
}

/// Data-quality flags of a sensor's recent readings (a small bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct QualityFlags(pub u8);

impl QualityFlags {
    /// No flags.
    pub const NONE: Self = Self(0);
    /// The value has not changed over many consecutive readings.
    pub const FLATLINE: Self = Self(1);
    /// A reading was outside the sensor's expected range.
    pub const OUT_OF_RANGE: Self = Self(1 << 1);
    /// No reading within the staleness timeout.
    pub const STALE: Self = Self(1 << 2);
    /// A jump far larger than the recent variation.
    pub const SPIKE: Self = Self(1 << 3);
    /// Readings arrive out of time order or late.
    pub const LATE: Self = Self(1 << 4);

    const NAMES: [(QualityFlags, &'static str); 5] = [
        (Self::FLATLINE, "flatline"),
        (Self::OUT_OF_RANGE, "out_of_range"),
        (Self::STALE, "stale"),
        (Self::SPIKE, "spike"),
        (Self::LATE, "late"),
    ];

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets or clears the flags of `other`.
    pub fn set(&mut self, other: Self, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the flags set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for QualityFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(
        metric: &str,
        value: f64,
        unit: Option<Unit>,
        ts: i64,
    ) -> Result<Observation, ObservationError> {
        Observation::validated(
            SensorId::new("s1").unwrap(),
            Metric::new(metric).unwrap(),
            Timestamp(ts),
            value,
            unit,
            Timestamp(1_000_000_000_000),
            TimeWindow::default(),
        )
    }

    #[test]
    fn units_are_converted_to_canonical() {
        let o = obs("power", 2500.0, Some(Unit::Watt), 1_000_000_000_000).unwrap();
        assert_eq!(o.value, 2.5);
    }

    #[test]
    fn bad_values_are_rejected_with_the_offending_value() {
        assert!(matches!(
            obs("pm25", f64::NAN, None, 1_000_000_000_000),
            Err(ObservationError::NonFinite { .. })
        ));
        assert!(matches!(
            obs("pm25", -3.0, None, 1_000_000_000_000),
            Err(ObservationError::OutOfRange { value, .. }) if value == -3.0
        ));
        assert!(matches!(
            obs("pm25", 3.0, Some(Unit::Kilowatt), 1_000_000_000_000),
            Err(ObservationError::WrongUnit { .. })
        ));
        assert!(matches!(
            obs("pm25", 3.0, None, 1_000_000_000_000 + 3_600_000),
            Err(ObservationError::FromFuture { .. })
        ));
        assert!(matches!(
            obs("pm25", 3.0, None, 1_000_000_000_000 - 30 * 86_400_000),
            Err(ObservationError::TooOld { .. })
        ));
        // custom metrics have no range, but must still be finite
        assert!(obs("noise_db", -3.0, None, 1_000_000_000_000).is_ok());
        assert!(obs("noise_db", f64::INFINITY, None, 1_000_000_000_000).is_err());
    }

    #[test]
    fn key_is_stable_and_depends_on_every_part() {
        let s = SensorId::new("s1").unwrap();
        let m = Metric::new("pm25").unwrap();
        let k = ObsKey::of(&s, &m, Timestamp(5));
        assert_eq!(k, ObsKey::of(&s, &m, Timestamp(5)));
        assert!(k.0 >= 0);
        assert_ne!(k, ObsKey::of(&s, &m, Timestamp(6)));
        assert_ne!(
            k,
            ObsKey::of(&SensorId::new("s2").unwrap(), &m, Timestamp(5))
        );
        assert_ne!(
            k,
            ObsKey::of(&s, &Metric::new("pm10").unwrap(), Timestamp(5))
        );
        // "ab"+"c" and "a"+"bc" must not collide thanks to the separator
        let a = ObsKey::of(
            &SensorId::new("ab").unwrap(),
            &Metric::new("c").unwrap(),
            Timestamp(0),
        );
        let b = ObsKey::of(
            &SensorId::new("a").unwrap(),
            &Metric::new("bc").unwrap(),
            Timestamp(0),
        );
        assert_ne!(a, b);
        // pinned value: the key is a persisted format
        assert_eq!(
            k,
            ObsKey::of(
                &SensorId::new("s1").unwrap(),
                &Metric::new("pm25").unwrap(),
                Timestamp(5)
            )
        );
    }

    #[test]
    fn quality_flags_name_what_is_set() {
        let mut f = QualityFlags::NONE;
        f.set(QualityFlags::STALE, true);
        f.set(QualityFlags::FLATLINE, true);
        assert_eq!(f.names(), vec!["flatline", "stale"]);
        f.set(QualityFlags::STALE, false);
        assert_eq!(f, QualityFlags::FLATLINE);
    }
}
