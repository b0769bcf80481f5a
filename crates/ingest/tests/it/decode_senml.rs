use ingest::{Format, Reason};

use crate::common::{NOW, o, obs, reasons, run};

const T: &str = "citybrain/v1/gw-a/senml";
const BT: i64 = 1_767_225_600; // NOW in seconds

#[test]
fn base_fields_resolve_names_times_units_and_values() {
    let payload = format!(
        r#"[{{"bn":"aq-1/","bt":{BT},"bu":"ug/m3","n":"pm25","v":12.5}},
            {{"n":"pm10","v":20,"t":-60}},
            {{"n":"temperature","u":"Cel","v":3.25,"t":-0.5}},
            {{"bn":"det-1/","bv":100,"n":"flow","u":"veh/h","v":40}}]"#
    );
    let d = run(T, payload.as_bytes());
    assert_eq!(d.format, Format::Senml);
    assert!(d.dead_letters.is_empty(), "{:?}", d.dead_letters);
    assert_eq!(
        obs(&d),
        vec![
            o("aq-1", "pm25", NOW.0, 12.5),
            o("aq-1", "pm10", NOW.0 - 60_000, 20.0),
            o("aq-1", "temperature", NOW.0 - 500, 3.25),
            o("det-1", "flow", NOW.0, 140.0),
        ]
    );
}

#[test]
fn small_times_are_relative_to_the_receive_time() {
    // RFC 8428 §4.5.3: t < 2^28 means "seconds relative to now"
    let d = run(
        T,
        br#"[{"n":"aq-1/pm25","v":1,"t":-30},{"n":"aq-1/pm10","v":2}]"#,
    );
    assert_eq!(
        obs(&d),
        vec![
            o("aq-1", "pm25", NOW.0 - 30_000, 1.0),
            o("aq-1", "pm10", NOW.0, 2.0)
        ]
    );
}

#[test]
fn bad_records_are_dead_lettered_one_by_one() {
    let payload = format!(
        r#"[{{"bn":"aq-1/","bt":{BT}}},
            {{"n":"pm25","vs":"high"}},
            {{"n":"pm25","vb":true}},
            {{"n":"pm25","v":"12"}},
            {{"n":"pm25"}},
            {{"n":"pm25","v":1,"x_":1}},
            {{"bn":"nosplit","n":"","v":1}},
            {{"bn":"aq-1/","n":"pm25","v":1,"u":"kW"}},
            {{"n":"pm25","v":1,"t":7200}},
            5,
            {{"n":"pm10","v":3,"lat":60.1}}]"#
    );
    let d = run(T, payload.as_bytes());
    assert_eq!(obs(&d), vec![o("aq-1", "pm10", NOW.0, 3.0)]);
    assert_eq!(
        reasons(&d),
        vec![
            Reason::UnsupportedValue,
            Reason::UnsupportedValue,
            Reason::WrongType,
            Reason::MissingField,
            Reason::UnknownField,
            Reason::InvalidMetric,
            Reason::WrongUnit,
            Reason::FromFuture,
            Reason::WrongType,
        ]
    );
}

#[test]
fn a_pack_must_be_an_array() {
    assert_eq!(
        reasons(&run(T, br#"{"n":"aq-1/pm25","v":1}"#)),
        vec![Reason::WrongType]
    );
    assert_eq!(reasons(&run(T, b"[")), vec![Reason::MalformedJson]);
    // a newer SenML version anywhere rejects the whole pack (RFC 8428 §4.4)
    let d = run(
        T,
        br#"[{"n":"aq-1/pm25","v":1},{"bver":11,"n":"aq-1/pm10","v":1}]"#,
    );
    assert_eq!(reasons(&d), vec![Reason::UnsupportedVersion]);
    assert!(d.observations.is_empty());
}
