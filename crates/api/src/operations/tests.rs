use domain::{EntityId, LatLon, Priority, Timestamp};
use ops::{Action, Incident, IncidentSource, NewIncident, SlaPolicy};

use super::*;

fn incident() -> Incident {
    let p = LatLon {
        lat: 60.1699,
        lon: 24.9384,
    };
    Incident::open(
        7,
        NewIncident {
            kind: "pothole".into(),
            title: "Deep pothole".into(),
            priority: Priority::P3,
            community: Some(EntityId::new("kallio").unwrap()),
            location: Some(p),
            cell: cell9(p),
            team: Some("roads".into()),
            source: IncidentSource::Operator,
        },
        Timestamp(1_000),
        &SlaPolicy::default(),
        "op",
    )
}

#[test]
fn incidents_round_trip_through_their_stored_form() {
    let mut i = incident();
    i.transition(Action::Dispatch, "op", Timestamp(2_000), None, None)
        .unwrap();
    let rec = record_of_incident(&i);
    assert_eq!(rec.state, "DISPATCHED");
    assert_eq!(rec.community.as_deref(), Some("kallio"));
    assert_eq!(rec.updated_at, Timestamp(2_000));
    assert_eq!(incident_of(&rec).unwrap(), i);
}

#[test]
fn the_wire_form_names_ids_states_and_allowed_actions() {
    let i = incident();
    let d = dto::incident_dto(&i, Timestamp(1_000));
    assert_eq!(d.id, "INC-000007");
    assert_eq!(d.kind, "pothole");
    assert_eq!(d.state, "REPORTED");
    assert_eq!(d.source, "api");
    assert_eq!(d.allowed_actions, ["dispatch", "escalate"]);
    assert_eq!(d.cell.as_deref().map(str::len), Some(15));
    assert!(!d.overdue);
    let late = dto::incident_dto(&i, Timestamp(i.sla_due.0 + 1));
    assert!(late.overdue);
    assert_eq!(
        dto::parse_id("incident", dto::INCIDENT_PREFIX, "INC-000007").unwrap(),
        7
    );
    assert_eq!(
        dto::parse_id("incident", dto::INCIDENT_PREFIX, "7").unwrap(),
        7
    );
    assert!(dto::parse_id("incident", dto::INCIDENT_PREFIX, "INC-x").is_err());
    assert!(dto::parse_id("incident", dto::INCIDENT_PREFIX, "0").is_err());
}

#[test]
fn metrics_dto_says_null_where_nothing_is_known() {
    let m = ops::incident_metrics([], Timestamp(0));
    let d = dto::IncidentMetricsDto::of(&m, 30);
    assert_eq!(d.closure_rate, None);
    assert_eq!(d.on_time_closure_rate, None);
    assert_eq!(d.response_time_s.mean, None);
    let i = incident();
    let m = ops::incident_metrics([&i], Timestamp(i.sla_due.0 + 1));
    let d = dto::IncidentMetricsDto::of(&m, 30);
    assert_eq!(d.closure_rate, Some(0.0));
    // overdue and not done: on-time closure is 0 of 1
    assert_eq!(d.on_time_closure_rate, Some(0.0));
    assert_eq!(d.overdue, 1);
}
