//! Running statistics and tumbling windows per (cell, metric).

use domain::Timestamp;

/// Count, sum, minimum, maximum and latest value of a stream of readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    last: f64,
    last_ts: Timestamp,
}

impl Default for Stats {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl Stats {
    /// No readings.
    pub const EMPTY: Stats = Stats {
        count: 0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        last: 0.0,
        last_ts: Timestamp(i64::MIN),
    };

    /// Adds one reading. The latest value is the one with the greatest
    /// timestamp (the later arrival wins a tie).
    pub fn add(&mut self, value: f64, ts: Timestamp) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if ts >= self.last_ts {
            self.last = value;
            self.last_ts = ts;
        }
    }

    /// Number of readings.
    pub const fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the readings (summed in arrival order).
    pub const fn sum(&self) -> f64 {
        self.sum
    }

    /// Mean, if there are readings.
    #[allow(clippy::cast_precision_loss)]
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// Smallest reading.
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest reading.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The latest reading (greatest timestamp) and its time.
    pub fn last(&self) -> Option<(f64, Timestamp)> {
        (self.count > 0).then_some((self.last, self.last_ts))
    }

    /// Whether there are no readings.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The statistics of one tumbling window `[start, start + width)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowStats {
    /// Start of the window (a multiple of the window width since the epoch).
    pub start: Timestamp,
    /// The readings whose timestamp falls in the window.
    pub stats: Stats,
}

impl WindowStats {
    pub(crate) const fn empty(start: Timestamp) -> Self {
        Self {
            start,
            stats: Stats::EMPTY,
        }
    }
}

/// Where an added reading landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Landed {
    /// In the current window (possibly after advancing it).
    Current,
    /// In the previous window.
    Previous,
    /// Older than the previous window: counted in the totals only.
    TooOld,
}

/// What the twin keeps per (cell, metric): the current and previous
/// tumbling windows and the totals since the twin started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CellAgg {
    pub(crate) current: WindowStats,
    pub(crate) previous: WindowStats,
    pub(crate) total: Stats,
}

impl CellAgg {
    pub(crate) fn new(ts: Timestamp, width_ms: i64) -> Self {
        let w = ts.floor_to(width_ms);
        Self {
            current: WindowStats::empty(w),
            previous: WindowStats::empty(Timestamp(w.0 - width_ms)),
            total: Stats::EMPTY,
        }
    }

    /// Adds a reading. A reading in a later window advances the windows: the
    /// current one becomes the previous one if adjacent, else both restart.
    pub(crate) fn add(&mut self, value: f64, ts: Timestamp, width_ms: i64) -> Landed {
        self.total.add(value, ts);
        let w = ts.floor_to(width_ms);
        if w == self.current.start {
            self.current.stats.add(value, ts);
            Landed::Current
        } else if w > self.current.start {
            self.previous = if w.0 - width_ms == self.current.start.0 {
                self.current
            } else {
                WindowStats::empty(Timestamp(w.0 - width_ms))
            };
            self.current = WindowStats::empty(w);
            self.current.stats.add(value, ts);
            Landed::Current
        } else if w == self.previous.start {
            self.previous.stats.add(value, ts);
            Landed::Previous
        } else {
            Landed::TooOld
        }
    }

    /// The window holding `now` and the one before it, as seen at `now`:
    /// windows the cell has not reached are empty.
    pub(crate) fn aligned(&self, now: Timestamp, width_ms: i64) -> (WindowStats, WindowStats) {
        let cur = now.floor_to(width_ms);
        let prev = Timestamp(cur.0 - width_ms);
        let pick = |start: Timestamp| {
            [self.current, self.previous]
                .into_iter()
                .find(|w| w.start == start)
                .unwrap_or(WindowStats::empty(start))
        };
        (pick(cur), pick(prev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 60_000;

    #[test]
    fn stats_track_count_mean_min_max_and_latest_by_time() {
        let mut s = Stats::EMPTY;
        assert_eq!(s.mean(), None);
        s.add(3.0, Timestamp(20));
        s.add(1.0, Timestamp(10)); // older: not the latest
        s.add(5.0, Timestamp(30));
        assert_eq!(s.count(), 3);
        assert_eq!(s.mean(), Some(3.0));
        assert_eq!((s.min(), s.max()), (Some(1.0), Some(5.0)));
        assert_eq!(s.last(), Some((5.0, Timestamp(30))));
    }

    #[test]
    fn windows_advance_and_keep_the_previous_complete_one() {
        let mut a = CellAgg::new(Timestamp(5_000), W);
        assert_eq!(a.add(1.0, Timestamp(5_000), W), Landed::Current);
        assert_eq!(a.add(2.0, Timestamp(65_000), W), Landed::Current); // next window
        assert_eq!(a.previous.start, Timestamp(0));
        assert_eq!(a.previous.stats.count(), 1);
        assert_eq!(a.current.start, Timestamp(60_000));
        // a late reading for the previous window still counts there
        assert_eq!(a.add(4.0, Timestamp(59_999), W), Landed::Previous);
        assert_eq!(a.previous.stats.count(), 2);
        // a gap of several windows restarts both
        assert_eq!(a.add(7.0, Timestamp(600_000), W), Landed::Current);
        assert_eq!(a.previous.start, Timestamp(540_000));
        assert!(a.previous.stats.is_empty());
        // too old for any window, but in the totals
        assert_eq!(a.add(9.0, Timestamp(1_000), W), Landed::TooOld);
        assert_eq!(a.total.count(), 5);
        assert_eq!(a.total.last(), Some((7.0, Timestamp(600_000))));
    }

    #[test]
    fn aligned_windows_are_relative_to_now() {
        let mut a = CellAgg::new(Timestamp(0), W);
        a.add(1.0, Timestamp(0), W);
        let (cur, prev) = a.aligned(Timestamp(30_000), W);
        assert_eq!((cur.stats.count(), prev.stats.count()), (1, 0));
        let (cur, prev) = a.aligned(Timestamp(70_000), W);
        assert_eq!((cur.stats.count(), prev.stats.count()), (0, 1));
        assert_eq!(cur.start, Timestamp(60_000));
        let (cur, prev) = a.aligned(Timestamp(200_000), W);
        assert!(cur.stats.is_empty() && prev.stats.is_empty());
    }

    #[test]
    fn negative_times_floor_correctly() {
        let mut a = CellAgg::new(Timestamp(-1), W);
        a.add(1.0, Timestamp(-1), W);
        assert_eq!(a.current.start, Timestamp(-60_000));
    }
}
