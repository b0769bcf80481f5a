//! Property tests: roll-up consistency, snapshot isolation, determinism.

use std::collections::BTreeMap;

use domain::{Observation, Timestamp};
use h3o::{CellIndex, Resolution};
use proptest::prelude::*;
use testkit::twin::{sensor_metrics, small_city};
use twin::{Change, Twin, TwinConfig, TwinSnapshot};

const RES: [Resolution; 4] = [
    Resolution::Seven,
    Resolution::Eight,
    Resolution::Nine,
    Resolution::Ten,
];

/// (pair index, time in seconds, value) -> observations on the small city.
fn observations(raw: &[(usize, i64, f64)]) -> Vec<Observation> {
    let pairs = sensor_metrics(&small_city(1));
    raw.iter()
        .map(|&(i, t, v)| {
            let (sensor, metric) = &pairs[i % pairs.len()];
            Observation {
                sensor: sensor.clone(),
                metric: metric.clone(),
                ts: Timestamp(t * 1000),
                value: v,
            }
        })
        .collect()
}

fn raw_obs() -> impl Strategy<Value = Vec<(usize, i64, f64)>> {
    prop::collection::vec((0usize..1000, 0i64..600, 0.0f64..100.0), 1..300)
}

/// Every aggregate of the snapshot, keyed by (metric, cell).
fn all_cells(
    s: &TwinSnapshot,
    res: Resolution,
) -> BTreeMap<(String, CellIndex), twin::CellAggregate> {
    s.metrics()
        .iter()
        .flat_map(|m| s.cells(res, m.as_str(), None).unwrap())
        .map(|c| ((c.metric.to_string(), c.cell), c))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A coarser cell's counts equal the sum of its children's: in total and
    /// in every window the parent still holds.
    #[test]
    fn parent_counts_equal_the_sum_of_their_children(raw in raw_obs()) {
        let mut t = Twin::new(small_city(1), TwinConfig::default()).unwrap();
        t.apply_observations(&observations(&raw));
        let s = t.snapshot();
        for pair in RES.windows(2) {
            let (coarse, fine) = (all_cells(&s, pair[0]), all_cells(&s, pair[1]));
            for ((metric, cell), parent) in &coarse {
                let children: Vec<_> = fine
                    .iter()
                    .filter(|((m, c), _)| m == metric && c.parent(pair[0]) == Some(*cell))
                    .map(|(_, a)| a)
                    .collect();
                let total: u64 = children.iter().map(|c| c.total.count()).sum();
                prop_assert_eq!(parent.total.count(), total);
                let sum: f64 = children.iter().map(|c| c.total.sum()).sum();
                prop_assert!((parent.total.sum() - sum).abs() <= 1e-9 * sum.abs().max(1.0));
                for w in [parent.current, parent.previous] {
                    let n: u64 = children
                        .iter()
                        .flat_map(|c| [c.current, c.previous])
                        .filter(|x| x.start == w.start)
                        .map(|x| x.stats.count())
                        .sum();
                    prop_assert_eq!(w.stats.count(), n, "window {:?} of {}", w.start, cell);
                }
                let max = children.iter().filter_map(|c| c.total.max()).fold(f64::NEG_INFINITY, f64::max);
                prop_assert_eq!(parent.total.max(), Some(max));
            }
        }
    }

    /// A snapshot taken after a prefix of the changes shows exactly what a
    /// twin fed only that prefix shows, whatever the writer does next.
    #[test]
    fn a_snapshot_is_isolated_from_later_changes(raw in raw_obs(), cut in 0usize..300, tick in 0i64..3_600) {
        let obs = observations(&raw);
        let cut = cut.min(obs.len());
        let mut t = Twin::new(small_city(1), TwinConfig::default()).unwrap();
        t.apply_observations(&obs[..cut]);
        let snap = t.snapshot();
        t.apply_observations(&obs[cut..]);
        t.apply(Change::Tick(Timestamp(tick * 1000))).unwrap();
        let mut fresh = Twin::new(small_city(1), TwinConfig::default()).unwrap();
        fresh.apply_observations(&obs[..cut]);
        let want = fresh.snapshot();
        prop_assert_eq!(snap.totals(), want.totals());
        prop_assert_eq!(snap.as_of(), want.as_of());
        for res in RES {
            prop_assert_eq!(all_cells(&snap, res), all_cells(&want, res));
        }
        for (a, b) in snap.sensors().zip(want.sensors()) {
            prop_assert_eq!(a, b);
        }
    }

    /// Batches and single changes give the same twin.
    #[test]
    fn batching_does_not_change_the_result(raw in raw_obs()) {
        let obs = observations(&raw);
        let mut a = Twin::new(small_city(1), TwinConfig::default()).unwrap();
        a.apply_observations(&obs);
        let mut b = Twin::new(small_city(1), TwinConfig::default()).unwrap();
        for o in &obs {
            b.apply(Change::Observe(o.clone())).unwrap();
        }
        let (sa, sb) = (a.snapshot(), b.snapshot());
        prop_assert_eq!(sa.totals(), sb.totals());
        prop_assert_eq!(all_cells(&sa, Resolution::Nine), all_cells(&sb, Resolution::Nine));
    }
}
