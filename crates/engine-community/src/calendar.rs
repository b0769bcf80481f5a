//! Civil time without a clock: naive local timestamps, hours of the week,
//! weekly arrival profiles and shift calendars.

use serde::{Deserialize, Serialize};

/// Milliseconds per hour.
pub const HOUR: u64 = 3_600_000;
/// Milliseconds per day.
pub const DAY: u64 = 24 * HOUR;
/// Hours in a week.
pub const WEEK_HOURS: usize = 168;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a naive local time `YYYY-MM-DDTHH:MM:SS` (a space instead of `T`,
/// and fractional seconds, are accepted) into milliseconds since
/// 1970-01-01T00:00:00 *of the same local clock*. Differences between two such
/// values are naive clock differences, as in the source data (no time zone or
/// daylight saving).
pub fn parse_local_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut ms = 0;
    if b.len() > 19 {
        if b[19] != b'.' {
            return None;
        }
        let frac = s.get(20..)?;
        if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let digits: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = digits.parse().ok()?;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Hour of the week of a local-clock millisecond count: 0 is Monday 00:00-01:00.
pub fn hour_of_week(local_ms: i64) -> usize {
    let hours = local_ms.div_euclid(3_600_000);
    // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0)
    let day = hours.div_euclid(24);
    let weekday = (day + 3).rem_euclid(7);
    usize::try_from(weekday * 24 + hours.rem_euclid(24)).expect("0..168")
}

/// A weekly profile: one value per hour of the week, Monday 00:00 first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeekProfile(pub Vec<f64>);

impl WeekProfile {
    /// The same value every hour.
    pub fn flat(v: f64) -> Self {
        Self(vec![v; WEEK_HOURS])
    }

    /// Learns hourly arrival rates (events per hour) for each hour of the week
    /// from event times on a local clock: the count in each hour-of-week
    /// divided by how many times that hour occurs between the first event's
    /// day start and the last event's day end. Empty input gives all zeros.
    pub fn learn(local_ms: &[i64]) -> Self {
        let (Some(&lo), Some(&hi)) = (local_ms.iter().min(), local_ms.iter().max()) else {
            return Self::flat(0.0);
        };
        Self::learn_over(local_ms, lo, hi)
    }

    /// [`WeekProfile::learn`] over a given observation window: the whole days
    /// from the one holding `from_ms` to the one holding `to_ms` (use the span
    /// of the whole data set when learning many sparse streams). Events outside
    /// the window are ignored.
    pub fn learn_over(local_ms: &[i64], from_ms: i64, to_ms: i64) -> Self {
        let day = 86_400_000;
        let first_day = from_ms.div_euclid(day);
        let last_day = to_ms.div_euclid(day);
        let mut counts = [0u64; WEEK_HOURS];
        for &t in local_ms {
            let d = t.div_euclid(day);
            if (first_day..=last_day).contains(&d) {
                counts[hour_of_week(t)] += 1;
            }
        }
        let mut occurs = [0u64; WEEK_HOURS];
        for d in first_day..=last_day {
            let how0 = hour_of_week(d * day);
            for h in 0..24 {
                occurs[how0 + h] += 1;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        Self(
            counts
                .iter()
                .zip(occurs)
                .map(|(&c, o)| if o == 0 { 0.0 } else { c as f64 / o as f64 })
                .collect(),
        )
    }

    /// Mean over the week.
    pub fn mean(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let n = self.0.len().max(1) as f64;
        self.0.iter().sum::<f64>() / n
    }

    /// Scaled so that the weekly mean is 1 (a shape); all-zero stays zero.
    pub fn normalised(&self) -> Self {
        let m = self.mean();
        if m > 0.0 {
            Self(self.0.iter().map(|v| v / m).collect())
        } else {
            self.clone()
        }
    }
}

/// One shift of a weekly shift calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Weekdays it runs, Monday = 0 .. Sunday = 6.
    pub days: Vec<u8>,
    /// First hour (0..24) of the shift on those days.
    pub from_h: u8,
    /// Hour it ends (exclusive, 1..=24; may be below `from_h` to run past midnight).
    pub to_h: u8,
    /// Workers on this shift.
    pub workers: u32,
}

/// Workers on duty per hour of the week. Overlapping shifts add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftCalendar {
    /// Always the same number of workers (24/7).
    Constant(u32),
    /// A list of weekly shifts.
    Weekly(Vec<Shift>),
}

impl ShiftCalendar {
    /// Workers on duty in each hour of the week. Invalid shift hours or days
    /// are reported by [`ShiftCalendar::validate`]; here they are clamped.
    pub fn hourly(&self) -> Vec<u32> {
        match self {
            Self::Constant(c) => vec![*c; WEEK_HOURS],
            Self::Weekly(shifts) => {
                let mut v = vec![0u32; WEEK_HOURS];
                for s in shifts {
                    let len = if s.to_h > s.from_h {
                        usize::from(s.to_h - s.from_h)
                    } else {
                        usize::from(24 - s.from_h.min(24) + s.to_h.min(24))
                    };
                    for &d in &s.days {
                        let start = usize::from(d % 7) * 24 + usize::from(s.from_h.min(23));
                        for k in 0..len {
                            let h = (start + k) % WEEK_HOURS;
                            v[h] = v[h].saturating_add(s.workers);
                        }
                    }
                }
                v
            }
        }
    }

    /// The first problem with the calendar, if any: a day above 6, an hour
    /// above 24, or an empty shift.
    pub fn validate(&self) -> Result<(), String> {
        if let Self::Weekly(shifts) = self {
            for (i, s) in shifts.iter().enumerate() {
                if s.days.iter().any(|&d| d > 6) {
                    return Err(format!("shift {i}: weekday above 6 in {:?}", s.days));
                }
                if s.from_h > 23 || s.to_h > 24 || s.to_h == s.from_h || s.to_h == 0 {
                    return Err(format!("shift {i}: hours {}..{}", s.from_h, s.to_h));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_naive_times_and_weekdays() {
        assert_eq!(parse_local_ms("1970-01-01T00:00:00"), Some(0));
        assert_eq!(
            parse_local_ms("2015-01-01T00:20:09"),
            Some(1_420_071_609_000)
        );
        assert_eq!(
            parse_local_ms("2015-01-01 00:20:09.5"),
            Some(1_420_071_609_500)
        );
        assert_eq!(parse_local_ms("2015-13-01T00:00:00"), None);
        assert_eq!(parse_local_ms(""), None);
        // 2015-01-05 was a Monday
        let mon = parse_local_ms("2015-01-05T00:30:00").unwrap();
        assert_eq!(hour_of_week(mon), 0);
        assert_eq!(hour_of_week(mon - 3_600_000), 167);
    }

    #[test]
    fn learned_rates_divide_by_occurrences() {
        let mon = parse_local_ms("2015-01-05T09:10:00").unwrap();
        let week = 7 * 86_400_000;
        // two Mondays 09:xx, three events; span covers 8 days -> Monday occurs twice
        let p = WeekProfile::learn(&[mon, mon + 60_000, mon + week]);
        assert_eq!(p.0[9], 1.5);
        assert_eq!(p.0.iter().sum::<f64>(), 1.5);
    }

    #[test]
    fn overnight_shifts_wrap_and_overlap_adds() {
        let cal = ShiftCalendar::Weekly(vec![
            Shift {
                days: vec![6],
                from_h: 22,
                to_h: 6,
                workers: 2,
            },
            Shift {
                days: vec![0],
                from_h: 0,
                to_h: 8,
                workers: 1,
            },
        ]);
        cal.validate().unwrap();
        let h = cal.hourly();
        assert_eq!(h[6 * 24 + 22], 2);
        assert_eq!(h[0], 3);
        assert_eq!(h[5], 3);
        assert_eq!(h[6], 1);
        assert_eq!(h[8], 0);
    }
}
