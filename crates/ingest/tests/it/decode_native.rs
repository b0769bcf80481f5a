use ingest::{Format, Reason};

use crate::common::{NOW, o, obs, reasons, run};

const T: &str = "citybrain/v1/gw-a/obs";

#[test]
fn a_single_record_is_converted_to_the_canonical_unit() {
    let d = run(
        T,
        br#"{"sensor":"aq-1","metric":"temperature","value":276.4,"unit":"K","ts":1767225600000}"#,
    );
    assert_eq!(d.format, Format::Native);
    assert!(d.dead_letters.is_empty(), "{:?}", d.dead_letters);
    let (s, m, ts, v) = obs(&d).remove(0);
    assert_eq!((s.as_str(), m.as_str(), ts), ("aq-1", "temperature", NOW.0));
    assert!((v - 3.25).abs() < 1e-9, "{v}");
}

#[test]
fn a_batch_keeps_good_records_and_dead_letters_each_bad_one() {
    let d = run(
        T,
        br#"{"ts":1767225600000,"obs":[
            {"sensor":"det-1","metric":"flow","value":840},
            {"sensor":"det-1","metric":"speed","value":-5},
            {"sensor":"m-1","metric":"power","value":1},
            {"sensor":"nobody","metric":"pm25","value":1},
            {"sensor":"aq-1","metric":"pm25","value":"12"},
            {"sensor":"aq-1","metric":"pm25","value":12,"unit":"kW"},
            {"sensor":"aq-1","metric":"pm25","value":12,"unit":"furlong"},
            {"sensor":"aq-1","metric":"PM25","value":12},
            {"sensor":"aq-1","metric":"pm25","value":12,"ts":1767229200000},
            {"sensor":"aq-1","metric":"pm25","value":12,"ts":1000},
            {"sensor":"aq-1","metric":"pm25"},
            {"sensor":"aq-1","metric":"pm25","value":1,"colour":"red"},
            {"sensor":"det-1","metric":"pm25","value":1},
            {"sensor":"a b","metric":"pm25","value":1},
            {"sensor":"aq-1","metric":"pm25","value":1,"ts":1.5},
            7,
            {"sensor":"aq-1","metric":"pm25","value":0.5,"unit":"mg/m3","ts":1767225540000}
        ]}"#,
    );
    assert_eq!(
        obs(&d),
        vec![
            o("det-1", "flow", NOW.0, 840.0),
            o("aq-1", "pm25", NOW.0 - 60_000, 500.0)
        ]
    );
    assert_eq!(
        reasons(&d),
        vec![
            Reason::OutOfRange,
            Reason::NotOwner,
            Reason::UnknownSensor,
            Reason::WrongType,
            Reason::WrongUnit,
            Reason::UnknownUnit,
            Reason::InvalidMetric,
            Reason::FromFuture,
            Reason::TooOld,
            Reason::MissingField,
            Reason::UnknownField,
            Reason::MetricNotRegistered,
            Reason::InvalidId,
            Reason::BadTimestamp,
            Reason::WrongType,
        ]
    );
    // a per-record dead letter keeps that record, not the whole batch
    assert!(d.dead_letters[0].payload.len() < 80);
    assert!(String::from_utf8_lossy(&d.dead_letters[0].payload).contains("\"speed\""));
    assert!(
        d.dead_letters
            .iter()
            .all(|dl| dl.format == "native" && dl.received == NOW)
    );
}

#[test]
fn a_bare_array_is_a_batch_and_missing_ts_means_receive_time() {
    let d = run(
        T,
        br#"[{"sensor":"det-1","metric":"count","value":3},{"sensor":"det-1","metric":"occupancy","value":0.5,"unit":"/"}]"#,
    );
    assert_eq!(
        obs(&d),
        vec![
            o("det-1", "count", NOW.0, 3.0),
            o("det-1", "occupancy", NOW.0, 50.0)
        ]
    );
}

#[test]
fn wholly_bad_messages_give_exactly_one_dead_letter() {
    let cases: &[(&str, &[u8], Reason)] = &[
        (T, b"not json", Reason::MalformedJson),
        (
            T,
            b"{\"sensor\":\"aq-1\",\"sensor\":\"det-1\",\"metric\":\"pm25\",\"value\":1}",
            Reason::DuplicateKey,
        ),
        (T, b"\xff\xfe", Reason::InvalidUtf8),
        (T, b"42", Reason::WrongType),
        (T, b"{\"obs\":{}}", Reason::WrongType),
        (T, b"{\"obs\":[],\"extra\":1}", Reason::UnknownField),
        (T, b"[[[[[[[[[[1]]]]]]]]]]", Reason::JsonTooDeep),
        ("citybrain/v1/gw-z/obs", b"[]", Reason::UnknownGateway),
        ("citybrain/v1/a+b/obs", b"[]", Reason::UnknownTopic),
        ("citybrain/v1/gw-a/obs/extra", b"[]", Reason::UnknownTopic),
        ("elsewhere/x", b"[]", Reason::UnknownTopic),
    ];
    for (topic, payload, reason) in cases {
        let d = run(topic, payload);
        assert_eq!(
            reasons(&d),
            vec![*reason],
            "{topic} {:?}",
            String::from_utf8_lossy(payload)
        );
        assert!(d.observations.is_empty());
        assert_eq!(d.dead_letters[0].payload, payload.to_vec());
    }
}

#[test]
fn size_and_count_limits_hold() {
    let mut c = crate::common::ctx();
    c.limits.max_records = 2;
    c.limits.max_payload_bytes = 100;
    let mut sp = ingest::SparkplugState::default();
    let three = br#"[{"sensor":"det-1","metric":"count","value":1},{"sensor":"det-1","metric":"count","value":2},{"sensor":"det-1","metric":"count","value":3}]"#;
    let d = ingest::decode(T, &three[..], NOW, &c, &mut sp);
    assert_eq!(reasons(&d), vec![Reason::PayloadTooLarge]);
    c.limits.max_payload_bytes = 1_000;
    let d = ingest::decode(T, &three[..], NOW, &c, &mut sp);
    assert_eq!(reasons(&d), vec![Reason::TooManyRecords]);
    // oversized payloads are kept bounded in the dead letter
    let big = vec![b' '; 10_000];
    let d = ingest::decode(T, &big, NOW, &c, &mut sp);
    assert!(d.dead_letters[0].truncated);
    assert_eq!(
        d.dead_letters[0].payload.len(),
        domain::DEAD_LETTER_MAX_BYTES
    );
}

#[test]
fn auto_provision_creates_each_unknown_sensor_once_with_the_metrics_seen() {
    let mut c = crate::common::ctx();
    c.unknown_sensors = ingest::UnknownSensorPolicy::AutoProvision {
        location: domain::LatLon {
            lat: 60.0,
            lon: 25.0,
        },
    };
    let d = ingest::decode(
        T,
        br#"[{"sensor":"new-1","metric":"pm25","value":1},{"sensor":"new-1","metric":"pm10","value":2},
             {"sensor":"det-1","metric":"pm25","value":3},{"sensor":"m-1","metric":"power","value":1}]"#,
        NOW,
        &c,
        &mut ingest::SparkplugState::default(),
    );
    assert_eq!(d.observations.len(), 3);
    assert_eq!(reasons(&d), vec![Reason::NotOwner]);
    let specs: Vec<_> = d
        .provisioned
        .iter()
        .map(|s| {
            (
                s.id.to_string(),
                s.kind,
                s.metrics
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        specs,
        vec![
            (
                "new-1".into(),
                domain::SensorKind::AirQuality,
                vec!["pm25".into(), "pm10".into()]
            ),
            (
                "det-1".into(),
                domain::SensorKind::TrafficDetector,
                vec![
                    "flow".into(),
                    "speed".into(),
                    "count".into(),
                    "occupancy".into(),
                    "pm25".into()
                ]
            ),
        ]
    );
    assert!(d.provisioned.iter().all(|s| s.gateway.as_str() == "gw-a"));
}

mod prop {
    use proptest::prelude::*;

    use crate::common::{NOW, run};

    fn record() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["aq-1", "det-1", "m-1", "ghost", "a b", ""]),
            prop::sample::select(vec!["pm25", "flow", "speed", "PM25", "power", "noise_db"]),
            prop::num::f64::NORMAL | prop::num::f64::ZERO,
            prop::option::of(prop::sample::select(vec![
                "ug/m3", "kW", "K", "km/h", "m/s", "zz",
            ])),
            prop::option::of(-10 * 86_400_000i64..10 * 86_400_000),
        )
            .prop_map(|(s, m, v, u, dt)| {
                let mut r = format!(r#"{{"sensor":"{s}","metric":"{m}","value":{v:e}"#);
                if let Some(u) = u {
                    r.push_str(&format!(r#","unit":"{u}""#));
                }
                if let Some(dt) = dt {
                    r.push_str(&format!(r#","ts":{}"#, NOW.0 + dt));
                }
                r.push('}');
                r
            })
    }

    proptest! {
        /// In a readable batch every record has exactly one outcome: an
        /// observation or a dead letter; kept values obey the metric's range.
        #[test]
        fn every_record_is_either_kept_or_dead_lettered(recs in prop::collection::vec(record(), 0..40)) {
            let payload = format!("[{}]", recs.join(","));
            let d = run("citybrain/v1/gw-a/obs", payload.as_bytes());
            prop_assert_eq!(d.observations.len() + d.dead_letters.len(), recs.len());
            for o in &d.observations {
                prop_assert!(o.value.is_finite());
                if let Some(info) = o.metric.info() {
                    prop_assert!((info.min..=info.max).contains(&o.value));
                }
                prop_assert!(o.sensor.as_str() == "aq-1" || o.sensor.as_str() == "det-1");
            }
        }
    }
}
