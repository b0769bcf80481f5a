use super::*;
use domain::{GatewaySpec, LatLon, Registry, SensorKind, SensorSpec};

fn ctx() -> DecodeContext {
    let gw = domain::GatewayId::new("gw").unwrap();
    DecodeContext::new(Registry::new(
        [GatewaySpec {
            id: gw.clone(),
            name: "gw".into(),
        }],
        [SensorSpec {
            id: SensorId::new("s1").unwrap(),
            kind: SensorKind::AirQuality,
            gateway: gw,
            location: LatLon { lat: 0.0, lon: 0.0 },
            observes: None,
            metrics: vec![],
        }],
    ))
}

#[test]
fn topics_imply_formats() {
    assert_eq!(Format::of_topic("citybrain/v1/gw/obs"), Format::Native);
    assert_eq!(Format::of_topic("citybrain/v1/gw/senml"), Format::Senml);
    assert_eq!(Format::of_topic("citybrain/v1/gw/event"), Format::Event);
    assert_eq!(Format::of_topic("citybrain/v1/gw/status"), Format::Status);
    assert_eq!(Format::of_topic("/json/k/d/attrs"), Format::Fiware);
    assert_eq!(Format::of_topic("spBv1.0/g/NDATA/e"), Format::Sparkplug);
    assert_eq!(Format::of_topic("citybrain/v2/gw/obs"), Format::Unknown);
    assert_eq!(Format::of_topic(""), Format::Unknown);
}

#[test]
fn reason_codes_round_trip_through_dead_letters() {
    for r in Reason::ALL {
        let dl = DeadLetter::new(
            "t",
            "native",
            b"",
            format!("{}: x", r.as_str()),
            Timestamp(0),
        );
        assert_eq!(Reason::of(&dl), Some(r));
    }
    let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), Reason::ALL.len());
}

#[test]
fn a_record_that_fails_late_does_not_leave_a_provisioned_sensor_behind_under_reject() {
    let c = ctx();
    let mut sp = SparkplugState::default();
    let d = decode(
        "citybrain/v1/gw/obs",
        br#"{"sensor":"s9","metric":"pm25","value":1}"#,
        Timestamp(0),
        &c,
        &mut sp,
    );
    assert!(d.provisioned.is_empty());
    assert_eq!(d.dead_letters.len(), 1);
    assert_eq!(Reason::of(&d.dead_letters[0]), Some(Reason::UnknownSensor));
}
