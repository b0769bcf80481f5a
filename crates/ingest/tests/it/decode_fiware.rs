use ingest::{Format, Reason};

use crate::common::{NOW, o, obs, reasons, run};

#[test]
fn attributes_map_to_metrics_with_units_and_time_instant() {
    let d = run(
        "/json/key-a/aq-1/attrs",
        br#"{"pm25": 12.5, "pm10": "20.5", "t": 3.5, "relativeHumidity": 0.81,
             "TimeInstant": "2025-12-31T23:59:00.000Z"}"#,
    );
    assert_eq!(d.format, Format::Fiware);
    assert!(d.dead_letters.is_empty(), "{:?}", d.dead_letters);
    let mut got = obs(&d);
    got.sort_by(|a, b| a.1.cmp(&b.1));
    let t = NOW.0 - 60_000;
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].1, "humidity");
    assert!((got[0].3 - 81.0).abs() < 1e-9);
    assert_eq!(
        &got[1..],
        &[
            o("aq-1", "pm10", t, 20.5),
            o("aq-1", "pm25", t, 12.5),
            o("aq-1", "temperature", t, 3.5)
        ]
    );
}

#[test]
fn traffic_attributes_of_smart_data_models_are_understood() {
    let d = run(
        "/json/key-a/det-1/attrs",
        br#"{"intensity": 840, "averageVehicleSpeed": 42.5, "occupancy": 0.25}"#,
    );
    let mut got = obs(&d);
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got,
        vec![
            o("det-1", "flow", NOW.0, 840.0),
            o("det-1", "occupancy", NOW.0, 25.0),
            o("det-1", "speed", NOW.0, 42.5)
        ]
    );
}

#[test]
fn single_attribute_topics_and_multi_measure_arrays_work() {
    let d = run("/json/key-a/aq-1/attrs/pm25", b"17.5");
    assert_eq!(obs(&d), vec![o("aq-1", "pm25", NOW.0, 17.5)]);
    let d = run("/json/key-a/aq-1/attrs/pm25", b"\"18\"");
    assert_eq!(obs(&d), vec![o("aq-1", "pm25", NOW.0, 18.0)]);
    let d = run(
        "/json/key-a/aq-1/attrs",
        br#"[{"pm25": 1, "TimeInstant": "2025-12-31T23:58:00Z"}, {"pm25": 2}]"#,
    );
    assert_eq!(
        obs(&d),
        vec![
            o("aq-1", "pm25", NOW.0 - 120_000, 1.0),
            o("aq-1", "pm25", NOW.0, 2.0)
        ]
    );
}

#[test]
fn bad_attributes_are_dead_lettered_and_good_ones_kept() {
    let d = run(
        "/json/key-a/aq-1/attrs",
        br#"{"pm25": 1, "windSpeed": 3, "pm10": "high", "no2": true, "o3": "NaN", "aqi": -4}"#,
    );
    assert_eq!(obs(&d), vec![o("aq-1", "pm25", NOW.0, 1.0)]);
    let mut r = reasons(&d);
    r.sort();
    let mut want = vec![
        Reason::InvalidMetric,
        Reason::WrongType,
        Reason::WrongType,
        Reason::NonFinite,
        Reason::OutOfRange,
    ];
    want.sort();
    assert_eq!(r, want);
    // each attribute's dead letter holds just that attribute
    assert!(d.dead_letters.iter().all(|dl| dl.payload.len() < 30));
}

#[test]
fn apikeys_devices_and_time_instants_are_checked() {
    assert_eq!(
        reasons(&run("/json/nokey/aq-1/attrs", b"{}")),
        vec![Reason::UnknownApikey]
    );
    assert_eq!(
        reasons(&run("/json/key-a/m-1/attrs", br#"{"power": 1}"#)),
        vec![Reason::NotOwner]
    );
    assert_eq!(
        reasons(&run("/json/key-a/aq-1/cmd", b"{}")),
        vec![Reason::UnknownTopic]
    );
    assert_eq!(
        reasons(&run(
            "/json/key-a/aq-1/attrs",
            br#"{"pm25": 1, "TimeInstant": "yesterday"}"#
        )),
        vec![Reason::BadTimestamp]
    );
    assert_eq!(
        reasons(&run(
            "/json/key-a/aq-1/attrs",
            br#"{"pm25": 1, "TimeInstant": "2025-01-01T00:00:00Z"}"#
        )),
        vec![Reason::TooOld]
    );
    assert_eq!(
        reasons(&run("/json/key-a/aq-1/attrs/TimeInstant", b"x")),
        vec![Reason::InvalidMetric]
    );
    assert_eq!(
        reasons(&run("/json/key-a/aq-1/attrs", b"\"x\"")),
        vec![Reason::WrongType]
    );
}
