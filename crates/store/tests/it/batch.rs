//! insert_batch: idempotency, atomicity, events, dead letters, status.

use domain::{SensorKind, Timestamp};
use store::{Batch, BatchStats};

use crate::support::*;

#[tokio::test]
async fn duplicates_are_stored_once_and_counted_as_duplicates() {
    // batch_size 7 splits 40 rows over several statements of one transaction
    each_backend_with(
        |c| c.batch_size = 7,
        |store| async move {
            register_default(&store).await;
            let first: Vec<_> = (0..40)
                .map(|i| obs("s1", "flow", i * 1000, i as f64))
                .collect();
            let stats = store
                .insert_batch(&Batch {
                    observations: first.clone(),
                    ..Batch::default()
                })
                .await
                .unwrap();
            assert_eq!(stats.observations_new, 40);
            assert_eq!(stats.observations_duplicate, 0);

            // redelivery of 20 old rows (one of them twice), plus 5 new ones
            let mut again: Vec<_> = first[10..30].to_vec();
            again.push(first[12].clone());
            again.extend((40..45).map(|i| obs("s1", "flow", i * 1000, i as f64)));
            let stats = store
                .insert_batch(&Batch {
                    observations: again,
                    ..Batch::default()
                })
                .await
                .unwrap();
            assert_eq!(stats.observations_new, 5);
            assert_eq!(stats.observations_duplicate, 21);
            assert_eq!(store.count_observations().await.unwrap(), 45);

            // the stored value is the first one, not a redelivered variant
            let mut changed = first[0].clone();
            changed.value = 999.0;
            let stats = store
                .insert_batch(&Batch {
                    observations: vec![changed],
                    ..Batch::default()
                })
                .await
                .unwrap();
            assert_eq!(stats.observations_duplicate, 1);
            let got = store
                .observations(&sid("s1"), &metric("flow"), Timestamp(0), Timestamp(1), 10)
                .await
                .unwrap();
            assert_eq!(got, vec![first[0].clone()]);
        },
    )
    .await;
}

#[tokio::test]
async fn a_batch_with_a_failing_statement_writes_nothing() {
    each_backend(|store| async move {
        register_default(&store).await;
        store
            .insert_batch(&Batch {
                observations: vec![obs("s1", "flow", 60_000, 5.0)],
                ..Batch::default()
            })
            .await
            .unwrap();
        let before_status = store.sensor_status().await.unwrap();
        let before_rollups = store
            .rollups(
                &store::RollupTarget::Sensor(sid("s1")),
                &metric("flow"),
                store::Resolution::Minute,
                Timestamp(0),
                Timestamp(600_000),
            )
            .await
            .unwrap();

        // good rows of every table, and one observation of an unregistered sensor
        let bad = Batch {
            observations: vec![
                obs("s1", "flow", 61_000, 7.0),
                obs("s2", "flow", 61_000, 8.0),
                obs("ghost", "flow", 61_000, 9.0),
            ],
            dead_letters: vec![dead("bad json", b"{", 1)],
            events: vec![event("s1", "e1", 1)],
            status: vec![status("gw1", None, true, 5, "NBIRTH")],
            provisioned_sensors: vec![sensor("p1", "gw3", SensorKind::Other, 0.0)],
        };
        let err = store.insert_batch(&bad).await.unwrap_err();
        assert!(!err.is_retryable(), "{err:?}");
        assert!(matches!(
            err,
            store::Error::Query {
                op: "insert_batch",
                ..
            }
        ));

        assert_eq!(store.count_observations().await.unwrap(), 1);
        assert_eq!(store.dead_letter_count().await.unwrap(), 0);
        assert_eq!(store.event_count().await.unwrap(), 0);
        assert_eq!(store.sensor_status().await.unwrap(), before_status);
        assert!(store.load_registry().await.unwrap().sensor("p1").is_none());
        let after_rollups = store
            .rollups(
                &store::RollupTarget::Sensor(sid("s1")),
                &metric("flow"),
                store::Resolution::Minute,
                Timestamp(0),
                Timestamp(600_000),
            )
            .await
            .unwrap();
        assert_eq!(after_rollups, before_rollups);

        // without the offending row the same batch goes through, whole
        let mut good = bad.clone();
        good.observations.pop();
        let stats = store.insert_batch(&good).await.unwrap();
        assert_eq!(
            stats,
            BatchStats {
                observations_new: 2,
                observations_duplicate: 0,
                events_new: 1,
                events_duplicate: 0,
                dead_letters: 1,
                status_applied: 1,
                status_ignored: 0,
                sensors_provisioned: 1,
            }
        );
        assert_eq!(store.count_observations().await.unwrap(), 3);
    })
    .await;
}

#[tokio::test]
async fn provisioned_sensors_are_inserted_once_and_never_replace_registered_ones() {
    each_backend(|store| async move {
        register_default(&store).await;
        let mut moved = sensor("s1", "gw9", SensorKind::Other, 1.0);
        moved.metrics.clear();
        let fresh = sensor("p1", "gw3", SensorKind::WaterLevel, 0.2);
        let batch = Batch {
            observations: vec![obs("p1", "water_level", 1_000, 1.5)],
            provisioned_sensors: vec![moved, fresh.clone()],
            ..Batch::default()
        };
        let stats = store.insert_batch(&batch).await.unwrap();
        assert_eq!(stats.sensors_provisioned, 1);
        assert_eq!(stats.observations_new, 1);
        let reg = store.load_registry().await.unwrap();
        assert_eq!(reg.sensor("p1"), Some(&fresh));
        assert_eq!(reg.sensor("s1").unwrap().gateway.as_str(), "gw1");
        assert!(reg.gateway("gw3").is_some());
        assert!(reg.gateway("gw9").is_none() || reg.sensors_of(&gid("gw9")).count() == 0);
        let again = store.insert_batch(&batch).await.unwrap();
        assert_eq!(again.sensors_provisioned, 0);
        assert_eq!(again.observations_duplicate, 1);
    })
    .await;
}

#[tokio::test]
async fn events_are_idempotent_per_reporter_and_id() {
    each_backend(|store| async move {
        register_default(&store).await;
        let mut e3 = event("a1", "e1", 3_000);
        e3.location = None;
        e3.text = "nul \0 inside".into();
        let batch = Batch {
            events: vec![event("s1", "e1", 1_000), event("s1", "e2", 2_000), e3],
            ..Batch::default()
        };
        let s = store.insert_batch(&batch).await.unwrap();
        assert_eq!((s.events_new, s.events_duplicate), (3, 0));
        let s = store.insert_batch(&batch).await.unwrap();
        assert_eq!((s.events_new, s.events_duplicate), (0, 3));
        assert_eq!(store.event_count().await.unwrap(), 3);
        let got = store.events(10, 0).await.unwrap();
        assert_eq!(got.len(), 3);
        // newest first; NUL stored as U+FFFD on both backends
        assert_eq!(got[0].reporter.as_str(), "a1");
        assert_eq!(got[0].text, "nul \u{FFFD} inside");
        assert_eq!(got[0].location, None);
        assert_eq!(got[1], batch.events[1]);
        assert_eq!(got[2], batch.events[0]);
        assert_eq!(
            store.events(1, 2).await.unwrap(),
            vec![batch.events[0].clone()]
        );
    })
    .await;
}

#[tokio::test]
async fn dead_letters_keep_bytes_and_reason_and_page_newest_first() {
    each_backend(|store| async move {
        let binary: Vec<u8> = (0..=255u8).collect();
        let big = vec![b'x'; domain::DEAD_LETTER_MAX_BYTES + 100];
        let letters = vec![
            dead("invalid UTF-8", &binary, 10),
            dead("payload too large", &big, 20),
            dead("reason with \0 NUL", b"\0\0", 30),
        ];
        let s = store
            .insert_batch(&Batch {
                dead_letters: letters.clone(),
                ..Batch::default()
            })
            .await
            .unwrap();
        assert_eq!(s.dead_letters, 3);
        // dead letters are at-least-once: a redelivered bad message is kept again
        store
            .insert_batch(&Batch {
                dead_letters: letters[..1].to_vec(),
                ..Batch::default()
            })
            .await
            .unwrap();
        assert_eq!(store.dead_letter_count().await.unwrap(), 4);
        let page = store.dead_letters(2, 0).await.unwrap();
        assert_eq!(page.len(), 2);
        assert!(page[0].id > page[1].id);
        assert_eq!(page[0].letter, letters[0]);
        assert_eq!(page[1].letter.reason, "reason with \u{FFFD} NUL");
        assert_eq!(page[1].letter.payload, b"\0\0");
        let rest = store.dead_letters(10, 2).await.unwrap();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0].letter, letters[1]);
        assert!(rest[0].letter.truncated);
        assert_eq!(rest[0].letter.payload.len(), domain::DEAD_LETTER_MAX_BYTES);
        assert_eq!(rest[1].letter.payload, binary);
    })
    .await;
}

#[tokio::test]
async fn status_follows_births_deaths_and_last_seen() {
    each_backend(|store| async move {
        register_default(&store).await;
        let s = store
            .insert_batch(&Batch {
                observations: vec![
                    obs("s1", "flow", 5_000, 1.0),
                    obs("s1", "speed", 9_000, 40.0),
                    obs("a1", "pm25", 7_000, 12.0),
                ],
                status: vec![
                    status("gw1", None, true, 100, "NBIRTH"),
                    status("gw1", Some("s2"), false, 200, "DDEATH"),
                    // older than the stored status: ignored
                    status("gw1", Some("s2"), true, 150, "DBIRTH"),
                    // a1 belongs to gw2, not gw1: ignored
                    status("gw1", Some("a1"), false, 300, "DDEATH"),
                    // unknown gateway and sensor: ignored
                    status("gw7", None, false, 300, "last will"),
                    status("gw1", Some("nope"), false, 300, "DDEATH"),
                ],
                ..Batch::default()
            })
            .await
            .unwrap();
        assert_eq!((s.status_applied, s.status_ignored), (2, 4));
        let st = store.sensor_status().await.unwrap();
        let ids: Vec<_> = st.iter().map(|s| s.sensor.as_str()).collect();
        assert_eq!(ids, ["a1", "s1", "s2"]);
        let (a1, s1, s2) = (&st[0], &st[1], &st[2]);
        assert_eq!(a1.online, None);
        assert_eq!(a1.last_seen, Some(Timestamp(7_000)));
        assert_eq!(a1.kind, SensorKind::AirQuality);
        assert_eq!(s1.online, Some(true));
        assert_eq!(s1.status_reason.as_deref(), Some("NBIRTH"));
        assert_eq!(s1.last_seen, Some(Timestamp(9_000)));
        assert_eq!(s1.observations_total, 2);
        assert_eq!(s2.online, Some(false));
        assert_eq!(s2.status_ts, Some(Timestamp(200)));
        assert_eq!(s2.last_seen, None);
        assert_eq!(s2.observations_total, 0);

        // an older observation arriving late does not move last_seen back
        store
            .insert_batch(&Batch {
                observations: vec![obs("s1", "flow", 1_000, 1.0)],
                status: vec![status("gw1", None, false, 400, "NDEATH")],
                ..Batch::default()
            })
            .await
            .unwrap();
        let st = store.sensor_status().await.unwrap();
        assert_eq!(st[1].last_seen, Some(Timestamp(9_000)));
        assert_eq!(st[1].observations_total, 3);
        assert_eq!(st[1].online, Some(false));
        assert_eq!(st[2].online, Some(false));
        assert_eq!(st[2].status_reason.as_deref(), Some("NDEATH"));
    })
    .await;
}

#[tokio::test]
async fn counts_by_sensor_kind_include_every_kind_and_ignore_duplicates() {
    each_backend(|store| async move {
        register_default(&store).await;
        let batch = Batch {
            observations: vec![
                obs("s1", "flow", 1, 1.0),
                obs("s2", "flow", 1, 1.0),
                obs("s2", "flow", 2, 1.0),
                obs("a1", "pm25", 1, 1.0),
            ],
            ..Batch::default()
        };
        store.insert_batch(&batch).await.unwrap();
        store.insert_batch(&batch).await.unwrap();
        let counts = store.count_by_sensor_kind().await.unwrap();
        assert_eq!(counts.len(), SensorKind::ALL.len());
        assert_eq!(counts[&SensorKind::TrafficDetector], 3);
        assert_eq!(counts[&SensorKind::AirQuality], 1);
        assert_eq!(counts[&SensorKind::WaterLevel], 0);
        assert_eq!(store.count_observations().await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn observation_queries_filter_by_series_and_half_open_range() {
    each_backend(|store| async move {
        register_default(&store).await;
        let rows: Vec<_> = (0..10)
            .map(|i| obs("s1", "flow", i * 10, i as f64))
            .chain([obs("s1", "speed", 20, 50.0), obs("s2", "flow", 20, 3.0)])
            .collect();
        store
            .insert_batch(&Batch {
                observations: rows.clone(),
                ..Batch::default()
            })
            .await
            .unwrap();
        let got = store
            .observations(
                &sid("s1"),
                &metric("flow"),
                Timestamp(20),
                Timestamp(60),
                100,
            )
            .await
            .unwrap();
        assert_eq!(got, rows[2..6].to_vec());
        let limited = store
            .observations(
                &sid("s1"),
                &metric("flow"),
                Timestamp(0),
                Timestamp(1000),
                3,
            )
            .await
            .unwrap();
        assert_eq!(limited, rows[0..3].to_vec());
        let none = store
            .observations(
                &sid("s9"),
                &metric("flow"),
                Timestamp(0),
                Timestamp(1000),
                3,
            )
            .await
            .unwrap();
        assert!(none.is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_empty_batch_is_a_no_op() {
    each_backend(|store| async move {
        assert_eq!(
            store.insert_batch(&Batch::default()).await.unwrap(),
            BatchStats::default()
        );
        store.ping().await.unwrap();
    })
    .await;
}
