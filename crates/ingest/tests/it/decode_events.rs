use domain::{EventChannel, Priority};
use ingest::{Format, Reason, Warning};

use crate::common::{NOW, ctx, reasons, run};

const T: &str = "citybrain/v1/gw-a/event";

#[test]
fn an_event_report_is_decoded_with_defaults() {
    let d = run(
        T,
        br#"{"id":"r-1","reporter":"app-1","channel":"app","category":"pothole",
             "location":{"lat":60.1699,"lon":24.9384},"text":"Deep pothole"}"#,
    );
    assert_eq!(d.format, Format::Event);
    assert!(d.dead_letters.is_empty(), "{:?}", d.dead_letters);
    let e = &d.events[0];
    assert_eq!((e.id.as_str(), e.reporter.as_str()), ("r-1", "app-1"));
    assert_eq!(
        (e.channel, e.priority, e.ts),
        (EventChannel::App, Priority::P3, NOW)
    );
    assert_eq!(e.location.map(|l| l.lat), Some(60.1699));
    assert_eq!(e.text, "Deep pothole");
}

#[test]
fn bad_event_fields_are_named() {
    let d = run(
        T,
        br#"[{"id":"r-1","reporter":"app-1","channel":"fax","category":"pothole"},
             {"id":"r-2","reporter":"app-1","channel":"app","category":"Pot Hole"},
             {"id":"r-3","reporter":"app-1","channel":"app","category":"x","priority":"P9"},
             {"id":"r-4","reporter":"app-1","channel":"app","category":"x","location":{"lat":91,"lon":0}},
             {"id":"r 5","reporter":"app-1","channel":"app","category":"x"},
             {"id":"r-6","reporter":"m-1","channel":"app","category":"x"},
             {"id":"r-7","reporter":"app-1","channel":"app","category":"x","ts":1},
             {"id":"r-8","reporter":"app-1","channel":"patrol","category":"x","priority":"P1"}]"#,
    );
    assert_eq!(d.events.len(), 1);
    assert_eq!(d.events[0].priority, Priority::P1);
    assert_eq!(
        reasons(&d),
        vec![
            Reason::InvalidEvent,
            Reason::InvalidEvent,
            Reason::InvalidEvent,
            Reason::InvalidEvent,
            Reason::InvalidId,
            Reason::NotOwner,
            Reason::TooOld,
        ]
    );
}

#[test]
fn long_text_is_cut_on_a_character_boundary_with_a_warning() {
    let mut c = ctx();
    c.limits.max_text_bytes = 5;
    let d = ingest::decode(
        T,
        r#"{"id":"r-1","reporter":"app-1","channel":"app","category":"x","text":"ääää"}"#
            .as_bytes(),
        NOW,
        &c,
        &mut ingest::SparkplugState::default(),
    );
    assert_eq!(d.events[0].text, "ää");
    assert_eq!(
        d.warnings,
        vec![Warning::TextTruncated {
            id: "r-1".into(),
            len: 8
        }]
    );
}

#[test]
fn status_messages_and_last_wills_become_status_changes() {
    let d = run("citybrain/v1/gw-a/status", b"online");
    assert!(d.status[0].online && d.status[0].reason == "status message");
    let d = run(
        "citybrain/v1/gw-a/status",
        br#"{"online":false,"will":true}"#,
    );
    assert!(!d.status[0].online && d.status[0].reason == "last will");
    assert_eq!(d.status[0].gateway.as_str(), "gw-a");
    assert_eq!(
        reasons(&run("citybrain/v1/gw-x/status", b"online")),
        vec![Reason::UnknownGateway]
    );
    assert_eq!(
        reasons(&run("citybrain/v1/gw-a/status", b"{\"online\":1}")),
        vec![Reason::WrongType]
    );
    assert_eq!(
        reasons(&run("citybrain/v1/gw-a/status", b"{}")),
        vec![Reason::MissingField]
    );
    assert_eq!(
        reasons(&run("citybrain/v1/gw-a/status", b"maybe")),
        vec![Reason::MalformedJson]
    );
}
