//! The hot path: observations and event reports into per-cell aggregates.

use std::collections::HashMap;
use std::sync::Arc;

use domain::{EventReport, Metric, Observation, Timestamp};
use h3o::CellIndex;

use super::{ApplyStats, Twin};
use crate::aggregate::CellAgg;
use crate::geom;
use crate::sensor::{Arrival, SensorStatus};
use crate::state::{CellKey, kind_index};

/// The metric under which event reports are counted per cell (one reading
/// of value 1 per report).
pub const EVENT_METRIC: &str = "event_reports";

/// The interned index of a metric, interning it on first sight.
fn intern(ix: &mut HashMap<Metric, u32>, metrics: &mut Arc<Vec<Metric>>, metric: &Metric) -> u32 {
    if let Some(&i) = ix.get(metric) {
        return i;
    }
    let i = u32::try_from(metrics.len()).expect("fewer than 2^32 metrics");
    Arc::make_mut(metrics).push(metric.clone());
    ix.insert(metric.clone(), i);
    i
}

impl Twin {
    pub(super) fn observe_batch(&mut self, observations: &[Observation]) -> ApplyStats {
        let mut stats = ApplyStats::default();
        let Twin {
            state: st,
            metric_ix,
            sensor_lookup,
        } = self;
        let cfg = Arc::clone(&st.config);
        // batches usually carry few metrics: skip the hash for repeats
        let mut last: Option<(&Metric, u32)> = None;
        for o in observations {
            let Some(&slot) = sensor_lookup.get(&o.sensor) else {
                stats.unknown_sensor += 1;
                st.totals.unknown_sensor += 1;
                continue;
            };
            if !o.value.is_finite() {
                stats.invalid += 1;
                st.totals.invalid += 1;
                continue;
            }
            let metric = match last {
                Some((m, i)) if *m == o.metric => i,
                _ => {
                    let i = intern(metric_ix, &mut st.metrics, &o.metric);
                    last = Some((&o.metric, i));
                    i
                }
            };
            if !st.clocked && o.ts > st.as_of {
                st.as_of = o.ts;
            }
            let as_of = st.as_of;
            let s = Arc::make_mut(
                st.sensor_slots
                    .get_mut(slot as usize)
                    .and_then(Option::as_mut)
                    .expect("the lookup names live slots only"),
            );
            let arrival = s.record(&o.metric, o.value, o.ts, &cfg);
            if arrival == Arrival::Duplicate {
                stats.duplicates += 1;
                st.totals.duplicates += 1;
                continue;
            }
            if let Some(to) = revived(s.status, s.since, o.ts, as_of, cfg.stale_after_ms) {
                st.totals.by_status[s.status.index()] -= 1;
                st.totals.by_status[to.index()] += 1;
                s.status = to;
                s.since = Some(o.ts);
            }
            stats.applied += 1;
            st.totals.observations += 1;
            st.totals.by_kind[kind_index(s.spec.kind)] += 1;
            if arrival == Arrival::Late {
                stats.late += 1;
                st.totals.late += 1;
            }
            let n = s.cells.len() - 1; // the last one is the base cell
            for &cell in &s.cells[..n] {
                add_to_cell(&mut st.cells, metric, cell, o.value, o.ts, cfg.window_ms);
            }
        }
        stats
    }

    pub(super) fn event(&mut self, report: EventReport) -> ApplyStats {
        let metric = intern(
            &mut self.metric_ix,
            &mut self.state.metrics,
            &Metric::new(EVENT_METRIC).expect("a valid metric name"),
        );
        self.advance(report.ts);
        let cfg = Arc::clone(&self.state.config);
        let as_of = self.state.as_of;
        let st = &mut self.state;
        let mut location = report.location;
        let slot = self.sensor_lookup.get(&report.reporter).copied();
        if let Some(slot) = slot
            .and_then(|i| st.sensor_slots.get_mut(i as usize))
            .and_then(Option::as_mut)
        {
            let s = Arc::make_mut(slot);
            s.last_seen = Some(s.last_seen.map_or(report.ts, |t| t.max(report.ts)));
            if let Some(to) = revived(s.status, s.since, report.ts, as_of, cfg.stale_after_ms) {
                st.totals.by_status[s.status.index()] -= 1;
                st.totals.by_status[to.index()] += 1;
                s.status = to;
                s.since = Some(report.ts);
            }
            location = location.or(Some(s.spec.location));
        }
        if let Some(loc) = location
            && let Some(base) =
                geom::cell_of(geo::Point::new(loc.lon, loc.lat), cfg.base_resolution)
        {
            for &r in &cfg.rollup_resolutions {
                let cell = base
                    .parent(r)
                    .expect("roll-up resolutions are no finer than the base");
                add_to_cell(&mut st.cells, metric, cell, 1.0, report.ts, cfg.window_ms);
            }
        }
        st.events.push_back(Arc::new(report));
        while st.events.len() > cfg.recent_events {
            st.events.pop_front();
        }
        st.totals.events += 1;
        ApplyStats {
            events: 1,
            ..ApplyStats::default()
        }
    }
}

fn add_to_cell(
    cells: &mut imbl::OrdMap<CellKey, CellAgg>,
    metric: u32,
    cell: CellIndex,
    value: f64,
    ts: Timestamp,
    window_ms: i64,
) {
    let key = CellKey {
        metric,
        res: u8::from(cell.resolution()),
        cell: u64::from(cell),
    };
    if let Some(agg) = cells.get_mut(&key) {
        agg.add(value, ts, window_ms);
    } else {
        let mut agg = CellAgg::new(ts, window_ms);
        agg.add(value, ts, window_ms);
        cells.insert(key, agg);
    }
}

/// The status data at `ts` brings a sensor to, if it changes: fresh data
/// (within the stale timeout of `as_of`) brings never-seen and stale sensors
/// online, and offline ones too when it is newer than their death; old data
/// makes a never-seen sensor stale.
pub(super) fn revived(
    status: SensorStatus,
    since: Option<Timestamp>,
    ts: Timestamp,
    as_of: Timestamp,
    stale_after_ms: i64,
) -> Option<SensorStatus> {
    let fresh = as_of.0.saturating_sub(ts.0) <= stale_after_ms;
    let after_change = since.is_none_or(|s| ts > s);
    match status {
        SensorStatus::Online => None,
        SensorStatus::Unseen if fresh => Some(SensorStatus::Online),
        SensorStatus::Unseen => Some(SensorStatus::Stale),
        SensorStatus::Stale if fresh => Some(SensorStatus::Online),
        SensorStatus::Offline if fresh && after_change => Some(SensorStatus::Online),
        _ => None,
    }
}
