//! Live state of one sensor: latest readings, status and data-quality flags.

use std::sync::Arc;

use domain::{Metric, QualityFlags, SensorSpec, Timestamp};
use h3o::CellIndex;

use crate::config::TwinConfig;

/// Whether a sensor is delivering data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SensorStatus {
    /// No data and no status message since the twin started.
    Unseen,
    /// Delivering data (or announced by a birth message) within the stale
    /// timeout.
    Online,
    /// No data within the stale timeout (judged on `Tick`).
    Stale,
    /// Its gateway (or the device) announced death or its last will fired.
    Offline,
}

impl SensorStatus {
    /// Every status.
    pub const ALL: [SensorStatus; 4] = [
        SensorStatus::Unseen,
        SensorStatus::Online,
        SensorStatus::Stale,
        SensorStatus::Offline,
    ];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SensorStatus::Unseen => "unseen",
            SensorStatus::Online => "online",
            SensorStatus::Stale => "stale",
            SensorStatus::Offline => "offline",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// One reading: a value and the time it was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The value in the metric's canonical unit.
    pub value: f64,
    /// When it was measured.
    pub ts: Timestamp,
}

/// A sensor's health as the twin judges it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    /// Current status.
    pub status: SensorStatus,
    /// When the status last changed (data time).
    pub since: Option<Timestamp>,
    /// Timestamp of the newest observation.
    pub last_seen: Option<Timestamp>,
    /// Data-quality flags: the union over its metrics, plus `STALE` while stale.
    pub flags: QualityFlags,
    /// Observations applied.
    pub observations: u64,
    /// Of which arrived out of time order.
    pub late: u64,
}

/// Per (sensor, metric): the latest reading and what quality checks need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricTrack {
    pub(crate) metric: Metric,
    pub(crate) latest: Reading,
    /// The expected range, looked up once.
    range: Option<(f64, f64)>,
    readings: u64,
    same_run: u32,
    mean_abs_delta: f64,
    pub(crate) flags: QualityFlags,
}

/// How a reading related to the sensor's previous ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Newer than the latest reading of its metric (or the first).
    InOrder,
    /// Older than the latest reading: aggregated, but not the latest.
    Late,
    /// The same time and value as the latest reading: a redelivery, ignored.
    Duplicate,
}

impl MetricTrack {
    fn new(metric: Metric, value: f64, ts: Timestamp, cfg: &TwinConfig) -> Self {
        Self {
            range: cfg.expected_ranges.get(&metric).copied(),
            metric,
            latest: Reading { value, ts },
            readings: 1,
            same_run: 1,
            mean_abs_delta: 0.0,
            flags: QualityFlags::NONE,
        }
    }

    fn update(&mut self, value: f64, ts: Timestamp, cfg: &TwinConfig) -> Arrival {
        if ts < self.latest.ts {
            self.flags.set(QualityFlags::LATE, true);
            return Arrival::Late;
        }
        if ts == self.latest.ts && value.to_bits() == self.latest.value.to_bits() {
            return Arrival::Duplicate;
        }
        self.flags.set(QualityFlags::LATE, false);
        let delta = (value - self.latest.value).abs();
        // flatline: identical consecutive readings
        self.same_run = if value == self.latest.value {
            self.same_run.saturating_add(1)
        } else {
            1
        };
        self.flags.set(
            QualityFlags::FLATLINE,
            self.same_run >= cfg.flatline_readings,
        );
        // spike: a change far above the running mean absolute change
        let limit = cfg.spike_factor * self.mean_abs_delta;
        let judged = self.readings >= u64::from(cfg.spike_warmup) && self.mean_abs_delta > 0.0;
        let spike = judged && delta > limit;
        self.flags.set(QualityFlags::SPIKE, spike);
        // update the running mean with the change, capped so a spike does
        // not mask the next one: a plain mean over the first 20 changes, then
        // an exponential mean with weight 1/20
        let capped = if judged { delta.min(limit) } else { delta };
        #[allow(clippy::cast_precision_loss)]
        let n = self.readings.min(20) as f64;
        self.mean_abs_delta += (capped - self.mean_abs_delta) / n;
        self.readings += 1;
        self.latest = Reading { value, ts };
        Arrival::InOrder
    }
}

/// The live state of one sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorState {
    pub(crate) spec: Arc<SensorSpec>,
    /// The sensor's cell at each roll-up resolution, coarse to fine, then
    /// the base cell last.
    pub(crate) cells: Arc<[CellIndex]>,
    pub(crate) tracks: Vec<MetricTrack>,
    pub(crate) status: SensorStatus,
    pub(crate) since: Option<Timestamp>,
    pub(crate) last_seen: Option<Timestamp>,
    pub(crate) observations: u64,
    pub(crate) late: u64,
}

impl SensorState {
    pub(crate) fn new(spec: Arc<SensorSpec>, cells: Arc<[CellIndex]>) -> Self {
        Self {
            spec,
            cells,
            tracks: Vec::new(),
            status: SensorStatus::Unseen,
            since: None,
            last_seen: None,
            observations: 0,
            late: 0,
        }
    }

    /// Records a reading's effect on the latest value and quality flags.
    pub(crate) fn record(
        &mut self,
        metric: &Metric,
        value: f64,
        ts: Timestamp,
        cfg: &TwinConfig,
    ) -> Arrival {
        let (arrival, t) = match self.tracks.iter().position(|t| &t.metric == metric) {
            Some(i) => (self.tracks[i].update(value, ts, cfg), i),
            None => {
                self.tracks
                    .push(MetricTrack::new(metric.clone(), value, ts, cfg));
                self.tracks.sort_by(|a, b| a.metric.cmp(&b.metric));
                let i = self
                    .tracks
                    .iter()
                    .position(|t| &t.metric == metric)
                    .expect("just pushed");
                (Arrival::InOrder, i)
            }
        };
        match arrival {
            Arrival::Duplicate => return arrival,
            Arrival::InOrder => {
                let t = &mut self.tracks[t];
                let out = t
                    .range
                    .is_some_and(|(min, max)| !(min..=max).contains(&value));
                t.flags.set(QualityFlags::OUT_OF_RANGE, out);
            }
            Arrival::Late => self.late += 1,
        }
        self.observations += 1;
        self.last_seen = Some(self.last_seen.map_or(ts, |s| s.max(ts)));
        arrival
    }

    /// The registered spec.
    pub fn spec(&self) -> &SensorSpec {
        &self.spec
    }

    /// The sensor's cell at the base resolution.
    pub fn cell(&self) -> CellIndex {
        *self
            .cells
            .last()
            .expect("a sensor has at least its base cell")
    }

    /// The latest reading of a metric.
    pub fn latest(&self, metric: &str) -> Option<Reading> {
        self.tracks
            .iter()
            .find(|t| t.metric.as_str() == metric)
            .map(|t| t.latest)
    }

    /// Every metric's latest reading and flags, in metric order.
    pub fn readings(&self) -> impl Iterator<Item = (&Metric, Reading, QualityFlags)> {
        self.tracks.iter().map(|t| (&t.metric, t.latest, t.flags))
    }

    /// Status, last seen and quality flags.
    pub fn health(&self) -> Health {
        let mut flags = self
            .tracks
            .iter()
            .fold(QualityFlags::NONE, |acc, t| acc | t.flags);
        flags.set(QualityFlags::STALE, self.status == SensorStatus::Stale);
        Health {
            status: self.status,
            since: self.since,
            last_seen: self.last_seen,
            flags,
            observations: self.observations,
            late: self.late,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{GatewayId, LatLon, SensorId, SensorKind};

    fn state() -> SensorState {
        let spec = SensorSpec {
            id: SensorId::new("s").unwrap(),
            kind: SensorKind::AirQuality,
            gateway: GatewayId::new("g").unwrap(),
            location: LatLon {
                lat: 60.0,
                lon: 24.0,
            },
            observes: None,
            metrics: vec![],
        };
        let cell = h3o::LatLng::new(60.0, 24.0)
            .unwrap()
            .to_cell(h3o::Resolution::Ten);
        SensorState::new(Arc::new(spec), Arc::from(vec![cell]))
    }

    fn m(s: &str) -> Metric {
        Metric::new(s).unwrap()
    }

    #[test]
    fn flatline_is_flagged_after_n_identical_readings_and_cleared_by_a_change() {
        let cfg = TwinConfig::default();
        let mut s = state();
        for i in 0..cfg.flatline_readings {
            s.record(&m("pm25"), 7.0, Timestamp(i64::from(i) * 1000), &cfg);
            let flat = s.health().flags.contains(QualityFlags::FLATLINE);
            assert_eq!(
                flat,
                i + 1 >= cfg.flatline_readings,
                "after {} readings",
                i + 1
            );
        }
        s.record(&m("pm25"), 8.0, Timestamp(100_000), &cfg);
        assert!(!s.health().flags.contains(QualityFlags::FLATLINE));
    }

    #[test]
    fn spikes_are_judged_against_the_running_mean_change() {
        let cfg = TwinConfig::default();
        let mut s = state();
        // a gentle zig-zag: mean absolute change 1.0
        for i in 0..30 {
            let v = if i % 2 == 0 { 10.0 } else { 11.0 };
            s.record(&m("pm25"), v, Timestamp(i * 1000), &cfg);
            assert!(!s.health().flags.contains(QualityFlags::SPIKE));
        }
        s.record(&m("pm25"), 60.0, Timestamp(31_000), &cfg);
        assert!(s.health().flags.contains(QualityFlags::SPIKE));
        s.record(&m("pm25"), 60.5, Timestamp(32_000), &cfg);
        assert!(!s.health().flags.contains(QualityFlags::SPIKE));
    }

    #[test]
    fn out_of_range_late_and_duplicate_readings_are_told_apart() {
        let cfg = TwinConfig::default();
        let mut s = state();
        assert_eq!(
            s.record(&m("pm25"), 600.0, Timestamp(10), &cfg),
            Arrival::InOrder
        );
        assert!(s.health().flags.contains(QualityFlags::OUT_OF_RANGE));
        assert_eq!(
            s.record(&m("pm25"), 600.0, Timestamp(10), &cfg),
            Arrival::Duplicate
        );
        assert_eq!(s.record(&m("pm25"), 5.0, Timestamp(5), &cfg), Arrival::Late);
        let h = s.health();
        assert!(h.flags.contains(QualityFlags::LATE));
        // the late reading is not the latest, and did not clear the range flag
        assert_eq!(
            s.latest("pm25"),
            Some(Reading {
                value: 600.0,
                ts: Timestamp(10)
            })
        );
        assert!(h.flags.contains(QualityFlags::OUT_OF_RANGE));
        assert_eq!((h.observations, h.late), (2, 1));
        assert_eq!(
            s.record(&m("pm25"), 5.0, Timestamp(20), &cfg),
            Arrival::InOrder
        );
        assert!(s.health().flags.is_empty());
        // custom metrics have no expected range
        s.record(&m("noise_db"), -5.0, Timestamp(20), &cfg);
        assert!(s.health().flags.is_empty());
        assert_eq!(s.readings().count(), 2);
    }
}
