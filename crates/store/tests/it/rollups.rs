//! Roll-ups against hand computations, the per-cell merge, the idempotent
//! rebuild, and retention.

use std::collections::BTreeMap;

use domain::{SensorKind, Timestamp};
use h3o::{LatLng, Resolution as H3Res};
use store::{Batch, Resolution, RetentionStats, Rollup, RollupTarget, Store};

use crate::support::*;

fn r(bucket: i64, count: u64, sum: f64, min: f64, max: f64, last_ts: i64, last: f64) -> Rollup {
    Rollup {
        bucket: Timestamp(bucket),
        count,
        sum,
        min,
        max,
        last_ts: Timestamp(last_ts),
        last,
    }
}

async fn sensor_rollups(
    store: &Store,
    s: &str,
    m: &str,
    res: Resolution,
    from: i64,
    to: i64,
) -> Vec<Rollup> {
    store
        .rollups(
            &RollupTarget::Sensor(sid(s)),
            &metric(m),
            res,
            Timestamp(from),
            Timestamp(to),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn rollups_equal_a_hand_computation_under_redelivery() {
    each_backend(|store| async move {
        register_default(&store).await;
        let first = vec![
            obs("s1", "flow", 60_000, 4.0),
            obs("s1", "flow", 90_000, 10.0),
            obs("s1", "flow", 119_999, 1.0),
        ];
        store
            .insert_batch(&Batch {
                observations: first,
                ..Batch::default()
            })
            .await
            .unwrap();
        // redelivers 90_000; adds a late reading into the first minute and two new buckets
        let second = vec![
            obs("s1", "flow", 90_000, 10.0),
            obs("s1", "flow", 61_000, 6.0),
            obs("s1", "flow", 120_000, 7.0),
            obs("s1", "flow", 3_600_000, 2.0),
            obs("s2", "flow", 60_000, 100.0),
        ];
        let s = store
            .insert_batch(&Batch {
                observations: second.clone(),
                ..Batch::default()
            })
            .await
            .unwrap();
        assert_eq!((s.observations_new, s.observations_duplicate), (4, 1));
        // the whole second batch again changes nothing
        store
            .insert_batch(&Batch {
                observations: second,
                ..Batch::default()
            })
            .await
            .unwrap();

        // minute 60_000 holds 4, 10, 1, 6; the latest reading is 1 at 119_999
        let minutes =
            sensor_rollups(&store, "s1", "flow", Resolution::Minute, 70_000, 3_600_000).await;
        assert_eq!(
            minutes,
            vec![
                r(60_000, 4, 21.0, 1.0, 10.0, 119_999, 1.0),
                r(120_000, 1, 7.0, 7.0, 7.0, 120_000, 7.0),
            ]
        );
        assert_eq!(minutes[0].mean(), 5.25);
        let hours = sensor_rollups(&store, "s1", "flow", Resolution::Hour, 0, 7_200_000).await;
        assert_eq!(
            hours,
            vec![
                r(0, 5, 28.0, 1.0, 10.0, 120_000, 7.0),
                r(3_600_000, 1, 2.0, 2.0, 2.0, 3_600_000, 2.0),
            ]
        );
        assert!(
            sensor_rollups(&store, "s1", "speed", Resolution::Hour, 0, 7_200_000)
                .await
                .is_empty()
        );

        // rebuilding from raw rows gives the same (all sums here are exact)
        let n = store.refresh_rollups(Timestamp(0)).await.unwrap();
        assert_eq!(n, 3 + 2 + 1 + 1); // s1: 3 minutes + 2 hours; s2: 1 + 1
        assert_eq!(
            sensor_rollups(&store, "s1", "flow", Resolution::Minute, 0, 3_600_001).await,
            vec![
                r(60_000, 4, 21.0, 1.0, 10.0, 119_999, 1.0),
                r(120_000, 1, 7.0, 7.0, 7.0, 120_000, 7.0),
                r(3_600_000, 1, 2.0, 2.0, 2.0, 3_600_000, 2.0),
            ]
        );
        assert_eq!(
            sensor_rollups(&store, "s1", "flow", Resolution::Hour, 0, 7_200_000).await,
            hours
        );
    })
    .await;
}

#[tokio::test]
async fn cell_rollups_merge_the_sensors_located_in_the_cell() {
    each_backend(|store| async move {
        register_default(&store).await;
        store
            .insert_batch(&Batch {
                observations: vec![
                    obs("s1", "flow", 60_000, 4.0),
                    obs("s1", "flow", 70_000, 6.0),
                    obs("s2", "flow", 65_000, 10.0),
                    obs("a1", "flow", 61_000, 1000.0),
                ],
                ..Batch::default()
            })
            .await
            .unwrap();
        let spec = sensor("s1", "gw1", SensorKind::TrafficDetector, 0.0);
        let at = LatLng::new(spec.location.lat, spec.location.lon).unwrap();
        let cell9 = u64::from(at.to_cell(H3Res::Nine));
        let got = store
            .rollups(
                &RollupTarget::Cell(cell9),
                &metric("flow"),
                Resolution::Minute,
                Timestamp(0),
                Timestamp(120_000),
            )
            .await
            .unwrap();
        // s1 and s2 (half a metre apart), not a1 (about 2.8 km east)
        assert_eq!(got, vec![r(60_000, 3, 20.0, 4.0, 10.0, 70_000, 6.0)]);
        let far = LatLng::new(spec.location.lat, spec.location.lon + 0.05).unwrap();
        let got = store
            .rollups(
                &RollupTarget::Cell(u64::from(far.to_cell(H3Res::Nine))),
                &metric("flow"),
                Resolution::Hour,
                Timestamp(0),
                Timestamp(120_000),
            )
            .await
            .unwrap();
        assert_eq!(got, vec![r(0, 1, 1000.0, 1000.0, 1000.0, 61_000, 1000.0)]);
        // resolution 15: only the sensor standing in that tiny cell
        let fine = u64::from(at.to_cell(H3Res::Fifteen));
        let got = store
            .rollups(
                &RollupTarget::Cell(fine),
                &metric("flow"),
                Resolution::Minute,
                Timestamp(0),
                Timestamp(120_000),
            )
            .await
            .unwrap();
        assert_eq!(got, vec![r(60_000, 2, 10.0, 4.0, 6.0, 70_000, 6.0)]);
        assert!(matches!(
            store
                .rollups(
                    &RollupTarget::Cell(42),
                    &metric("flow"),
                    Resolution::Hour,
                    Timestamp(0),
                    Timestamp(1)
                )
                .await,
            Err(store::Error::InvalidCell(42))
        ));
    })
    .await;
}

/// Brute-force roll-ups of de-duplicated observations.
fn expected(
    rows: &[domain::Observation],
    res: Resolution,
) -> BTreeMap<(String, String, i64), Rollup> {
    let mut out: BTreeMap<(String, String, i64), Vec<&domain::Observation>> = BTreeMap::new();
    for o in rows {
        let b = o.ts.0.div_euclid(res.width_ms()) * res.width_ms();
        out.entry((o.sensor.to_string(), o.metric.to_string(), b))
            .or_default()
            .push(o);
    }
    out.into_iter()
        .map(|(k, v)| {
            let last = v.iter().max_by_key(|o| o.ts).unwrap();
            let b = k.2;
            (
                k,
                r(
                    b,
                    v.len() as u64,
                    v.iter().map(|o| o.value).sum(),
                    v.iter().map(|o| o.value).fold(f64::INFINITY, f64::min),
                    v.iter().map(|o| o.value).fold(f64::NEG_INFINITY, f64::max),
                    last.ts.0,
                    last.value,
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn incremental_rollups_match_brute_force_and_the_rebuild_over_many_batches() {
    each_backend_with(
        |c| c.batch_size = 50,
        |store| async move {
            register_default(&store).await;
            let mut rng = Lcg(7);
            let sensors = ["s1", "s2", "a1"];
            let metrics = ["flow", "speed"];
            let mut all = Vec::new();
            let mut distinct = BTreeMap::new();
            for _ in 0..12 {
                let mut batch = Vec::new();
                for _ in 0..120 {
                    let o = obs(
                        sensors[rng.next_below(3) as usize],
                        metrics[rng.next_below(2) as usize],
                        // 3 hours at 1 s steps, so keys repeat (redeliveries)
                        (rng.next_below(3 * 3600) * 1000) as i64,
                        // quarter units keep every sum exact in f64
                        rng.next_below(4000) as f64 / 4.0,
                    );
                    distinct
                        .entry((o.sensor.clone(), o.metric.clone(), o.ts))
                        .or_insert_with(|| o.clone());
                    batch.push(o);
                }
                all.extend(batch.clone());
                store
                    .insert_batch(&Batch {
                        observations: batch,
                        ..Batch::default()
                    })
                    .await
                    .unwrap();
            }
            let rows: Vec<_> = distinct.into_values().collect();
            assert_eq!(store.count_observations().await.unwrap(), rows.len() as u64);
            assert_eq!(
                store.count_observations_exact().await.unwrap(),
                rows.len() as u64
            );
            assert!(
                rows.len() < all.len(),
                "the data set must hold redeliveries"
            );
            for res in Resolution::ALL {
                let want = expected(&rows, res);
                let check = |label: &'static str| {
                    let store = store.clone();
                    let want = want.clone();
                    async move {
                        for s in sensors {
                            for m in metrics {
                                let got = sensor_rollups(&store, s, m, res, 0, 4 * 3_600_000).await;
                                let exp: Vec<Rollup> = want
                                    .iter()
                                    .filter(|((ks, km, _), _)| ks == s && km == m)
                                    .map(|(_, v)| *v)
                                    .collect();
                                assert_eq!(got, exp, "{label} {s} {m} {res:?}");
                            }
                        }
                    }
                };
                check("incremental").await;
                store.refresh_rollups(Timestamp(0)).await.unwrap();
                check("rebuilt").await;
            }
        },
    )
    .await;
}

#[tokio::test]
async fn retention_deletes_only_what_is_older_than_each_horizon() {
    const DAY: i64 = 86_400_000;
    each_backend_with(
        |c| {
            c.retention.raw_days = 2;
            c.retention.minute_rollup_days = 5;
            c.retention.hour_rollup_days = 0; // forever
            c.retention.dead_letter_days = 1;
        },
        |store| async move {
            register_default(&store).await;
            let now = 10 * DAY;
            store
                .insert_batch(&Batch {
                    observations: vec![
                        obs("s1", "flow", now - 7 * DAY, 1.0),
                        obs("s1", "flow", now - 3 * DAY, 2.0),
                        obs("s1", "flow", now - 2 * DAY - 1, 3.0),
                        obs("s1", "flow", now - 2 * DAY, 4.0),
                        obs("s1", "flow", now - 1, 5.0),
                    ],
                    dead_letters: vec![
                        dead("old", b"x", now - DAY - 1),
                        dead("new", b"y", now - DAY),
                    ],
                    ..Batch::default()
                })
                .await
                .unwrap();
            let stats = store.apply_retention(Timestamp(now)).await.unwrap();
            assert_eq!(
                stats,
                RetentionStats {
                    observations: 3,
                    // only the bucket of now - 7 days lies wholly before now - 5 days
                    minute_rollups: 1,
                    hour_rollups: 0,
                    dead_letters: 1,
                }
            );
            let left = store
                .observations(
                    &sid("s1"),
                    &metric("flow"),
                    Timestamp(0),
                    Timestamp(now),
                    100,
                )
                .await
                .unwrap();
            assert_eq!(left.iter().map(|o| o.value).collect::<Vec<_>>(), [4.0, 5.0]);
            // the running total follows retention; the row count agrees
            assert_eq!(store.count_observations().await.unwrap(), 2);
            assert_eq!(store.count_observations_exact().await.unwrap(), 2);
            assert_eq!(store.dead_letter_count().await.unwrap(), 1);
            assert_eq!(
                store.dead_letters(1, 0).await.unwrap()[0].letter.reason,
                "new"
            );
            let minutes = sensor_rollups(&store, "s1", "flow", Resolution::Minute, 0, now).await;
            assert_eq!(minutes.len(), 4);
            let hours = sensor_rollups(&store, "s1", "flow", Resolution::Hour, 0, now).await;
            assert_eq!(hours.iter().map(|r| r.count).sum::<u64>(), 5);
            // the counters are monotonic: retention does not lower them
            assert_eq!(
                store.count_by_sensor_kind().await.unwrap()[&SensorKind::TrafficDetector],
                5
            );
            // applying again deletes nothing more
            assert_eq!(
                store.apply_retention(Timestamp(now)).await.unwrap(),
                RetentionStats::default()
            );
        },
    )
    .await;
}
