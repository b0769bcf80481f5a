//! Roll-up arithmetic done in Rust, so both backends compute the same thing:
//! batch de-duplication on the natural key, matching the keys an insert
//! returned to the batch's rows, per-bucket aggregation of the rows a batch
//! actually inserted, and merging partial aggregates (the upsert rule and the
//! per-cell query use the same [`Agg::merge`]).

use std::collections::BTreeMap;

use domain::{Observation, Timestamp};

use crate::{Resolution, Rollup};

/// Running aggregate of one (sensor, metric, bucket).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Agg {
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub last_ts: i64,
    pub last: f64,
}

impl Agg {
    pub fn one(ts: i64, value: f64) -> Self {
        Self {
            count: 1,
            sum: value,
            min: value,
            max: value,
            last_ts: ts,
            last: value,
        }
    }

    /// Adds `other` into `self`. On equal `last_ts`, `other`'s last value wins,
    /// which is also what the SQL upsert does (`excluded` wins ties).
    pub fn merge(&mut self, other: &Agg) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if other.last_ts >= self.last_ts {
            self.last_ts = other.last_ts;
            self.last = other.last;
        }
    }

    pub fn into_rollup(self, bucket_ms: i64) -> Rollup {
        Rollup {
            bucket: Timestamp(bucket_ms),
            count: u64::try_from(self.count).unwrap_or(0),
            sum: self.sum,
            min: self.min,
            max: self.max,
            last_ts: Timestamp(self.last_ts),
            last: self.last,
        }
    }
}

/// Key of a roll-up row: sensor, metric, bucket start (ms).
pub(crate) type RollupKey<'a> = (&'a str, &'a str, i64);

/// The natural key of an observation, `(sensor, metric, ts_ms)`: the primary
/// key of the `observations` table and what makes two observations the same.
pub(crate) type NaturalKey<'a> = (&'a str, &'a str, i64);

/// The natural key of `o`.
pub(crate) fn natural_key(o: &Observation) -> NaturalKey<'_> {
    (o.sensor.as_str(), o.metric.as_str(), o.ts.0)
}

/// Drops repeated natural keys (the first occurrence wins) and sorts by key,
/// so that concurrent writers lock index entries in the same order and
/// [`position`] can binary-search the result.
pub(crate) fn dedup_sorted(observations: &[Observation]) -> Vec<&Observation> {
    let mut rows: Vec<&Observation> = observations.iter().collect();
    // A stable sort keeps equal keys in input order, so `dedup_by_key` keeps
    // the first copy.
    rows.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)));
    rows.dedup_by_key(|o| natural_key(o));
    rows
}

/// The index of the row of `sorted` (sorted and unique by natural key, as
/// [`dedup_sorted`] returns) whose natural key is `key`.
pub(crate) fn position(sorted: &[&Observation], key: NaturalKey<'_>) -> Option<usize> {
    sorted.binary_search_by(|o| natural_key(o).cmp(&key)).ok()
}

/// Aggregates observations into buckets of `res`, in key order.
pub(crate) fn aggregate<'a>(
    rows: impl IntoIterator<Item = &'a Observation>,
    res: Resolution,
) -> BTreeMap<RollupKey<'a>, Agg> {
    let mut out: BTreeMap<RollupKey<'a>, Agg> = BTreeMap::new();
    for o in rows {
        let bucket = o.ts.floor_to(res.width_ms()).0;
        let one = Agg::one(o.ts.0, o.value);
        out.entry((o.sensor.as_str(), o.metric.as_str(), bucket))
            .and_modify(|a| a.merge(&one))
            .or_insert(one);
    }
    out
}

/// Per-sensor activity of a batch: number of new rows and latest timestamp.
pub(crate) fn sensor_activity<'a>(
    rows: impl IntoIterator<Item = &'a Observation>,
) -> BTreeMap<&'a str, (i64, i64)> {
    let mut out: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for o in rows {
        let e = out.entry(o.sensor.as_str()).or_insert((0, i64::MIN));
        e.0 += 1;
        e.1 = e.1.max(o.ts.0);
    }
    out
}

/// Merges per-sensor roll-up rows `(bucket, agg)` (ordered by bucket, then
/// sensor) into one roll-up per bucket.
pub(crate) fn merge_buckets(rows: impl IntoIterator<Item = (i64, Agg)>) -> Vec<Rollup> {
    let mut out: BTreeMap<i64, Agg> = BTreeMap::new();
    for (bucket, agg) in rows {
        out.entry(bucket)
            .and_modify(|a| a.merge(&agg))
            .or_insert(agg);
    }
    out.into_iter().map(|(b, a)| a.into_rollup(b)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use domain::{Metric, SensorId};
    use proptest::prelude::*;

    use super::*;

    fn obs(sensor: &str, ts: i64, value: f64) -> Observation {
        Observation {
            sensor: SensorId::new(sensor).unwrap(),
            metric: Metric::new("flow").unwrap(),
            ts: Timestamp(ts),
            value,
        }
    }

    #[test]
    fn buckets_hold_count_sum_min_max_and_last() {
        let rows = [
            obs("a", 60_000, 4.0),
            obs("a", 119_999, 1.0),
            obs("a", 61_000, 9.0),
            obs("a", 120_000, 7.0),
        ];
        let m = aggregate(&rows, Resolution::Minute);
        assert_eq!(m.len(), 2);
        let first = m[&("a", "flow", 60_000)];
        assert_eq!(
            first,
            Agg {
                count: 3,
                sum: 14.0,
                min: 1.0,
                max: 9.0,
                last_ts: 119_999,
                last: 1.0
            }
        );
        assert_eq!(m[&("a", "flow", 120_000)], Agg::one(120_000, 7.0));
        let h = aggregate(&rows, Resolution::Hour);
        assert_eq!(h[&("a", "flow", 0)].count, 4);
    }

    #[test]
    fn repeated_keys_in_a_batch_are_kept_once_first_wins() {
        let rows = [
            obs("b", 1, 2.0),
            obs("a", 1, 1.0),
            obs("a", 2, 4.0),
            obs("a", 1, 3.0),
            obs("b", 1, 5.0),
        ];
        let d = dedup_sorted(&rows);
        let got: Vec<(&str, i64, f64)> = d
            .iter()
            .map(|o| (o.sensor.as_str(), o.ts.0, o.value))
            .collect();
        assert_eq!(got, [("a", 1, 1.0), ("a", 2, 4.0), ("b", 1, 2.0)]);
        assert_eq!(position(&d, ("a", "flow", 2)), Some(1));
        assert_eq!(position(&d, ("b", "flow", 1)), Some(2));
        assert_eq!(position(&d, ("a", "flow", 3)), None);
        assert_eq!(position(&d, ("a", "speed", 1)), None);
    }

    /// Two different observations with the same `domain::ObsKey` (the pair
    /// of `tests/it/support.rs`, found by a collision search).
    fn colliding_pair() -> (Observation, Observation) {
        (
            obs("det-7nNkTyL4cTG", 1_767_225_600_000, 10.0),
            obs("det-cHeHGYidgmB", 1_767_225_600_000, 20.0),
        )
    }

    #[test]
    fn observations_whose_hashes_collide_are_both_kept() {
        // Two different observations with the same domain::ObsKey (a 63-bit
        // FNV-1a collision): the natural key tells them apart.
        let (a, b) = colliding_pair();
        assert_eq!(a.key(), b.key());
        let rows = [a.clone(), b.clone(), a.clone()];
        let d = dedup_sorted(&rows);
        assert_eq!(d.len(), 2);
        for o in [&a, &b] {
            let i = position(&d, natural_key(o)).unwrap();
            assert_eq!(d[i], o);
        }
    }

    #[test]
    fn activity_counts_rows_and_takes_the_latest_time() {
        let rows = [obs("a", 5, 1.0), obs("a", 3, 1.0), obs("b", 1, 1.0)];
        let act = sensor_activity(&rows);
        assert_eq!(act["a"], (2, 5));
        assert_eq!(act["b"], (1, 1));
    }

    proptest! {
        /// Aggregating a stream in arbitrary chunks and merging the partial
        /// aggregates (what the SQL upsert does batch after batch) gives the
        /// one-shot aggregate. Values are small integers so sums are exact.
        #[test]
        fn chunked_aggregation_equals_one_shot(
            vals in prop::collection::vec((0i64..600_000, 0i32..1000), 1..200),
            cut in prop::collection::vec(1usize..50, 1..10),
        ) {
            // distinct timestamps per series, as distinct keys imply
            let mut seen = HashSet::new();
            let rows: Vec<Observation> = vals
                .iter()
                .filter(|(ts, _)| seen.insert(*ts))
                .map(|(ts, v)| obs("s", *ts, f64::from(*v)))
                .collect();
            let whole = aggregate(&rows, Resolution::Minute);
            let mut merged: BTreeMap<i64, Agg> = BTreeMap::new();
            let mut rest = &rows[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = cut[i % cut.len()].min(rest.len());
                for ((_, _, b), a) in aggregate(&rest[..n], Resolution::Minute) {
                    merged.entry(b).and_modify(|m| m.merge(&a)).or_insert(a);
                }
                rest = &rest[n..];
                i += 1;
            }
            let whole: BTreeMap<i64, Agg> = whole.into_iter().map(|((_, _, b), a)| (b, a)).collect();
            prop_assert_eq!(whole, merged);
        }
    }
}
