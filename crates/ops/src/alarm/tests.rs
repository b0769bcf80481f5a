use super::*;

fn pm25_rule(for_ms: u64) -> AlarmRule {
    AlarmRule {
        id: 1,
        name: "PM2.5 above 75 for 10 min".into(),
        scope: Scope::SensorKind {
            kind: SensorKind::AirQuality,
        },
        metric: Metric::new("pm25").unwrap(),
        condition: Condition::Above {
            threshold: 75.0,
            hysteresis: 5.0,
        },
        for_ms,
        severity: Severity::Warning,
        incident: None,
        enabled: true,
    }
}

fn sample(sensor: &str, value: f64, ts_min: i64) -> Sample {
    Sample {
        subject: Subject::Sensor {
            sensor: SensorId::new(sensor).unwrap(),
        },
        kind: Some(SensorKind::AirQuality),
        entity: None,
        entity_kind: None,
        metric: Metric::new("pm25").unwrap(),
        value,
        ts: Timestamp(ts_min * 60_000),
    }
}

fn raised(ev: &[AlarmEvent]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, AlarmEvent::Raised(_)))
        .count()
}

#[test]
fn raises_only_after_the_condition_held_for_the_duration() {
    let mut e = AlarmEngine::new([pm25_rule(600_000)], 0).unwrap();
    assert_eq!(raised(&e.evaluate(&sample("aq1", 80.0, 0))), 0);
    assert_eq!(raised(&e.evaluate(&sample("aq1", 90.0, 5))), 0);
    let ev = e.evaluate(&sample("aq1", 85.0, 10));
    assert_eq!(raised(&ev), 1);
    let AlarmEvent::Raised(a) = &ev[0] else {
        unreachable!()
    };
    assert_eq!(a.since, Timestamp(0));
    assert_eq!(a.opened_at, Timestamp(600_000));
    assert_eq!(a.id, 1);
    // still above: no second alarm, peak tracked
    assert!(e.evaluate(&sample("aq1", 120.0, 11)).is_empty());
    assert_eq!(e.active().next().unwrap().peak, 120.0);
}

#[test]
fn a_dip_below_the_threshold_restarts_the_duration() {
    let mut e = AlarmEngine::new([pm25_rule(600_000)], 0).unwrap();
    e.evaluate(&sample("aq1", 80.0, 0));
    e.evaluate(&sample("aq1", 70.0, 5));
    assert_eq!(raised(&e.evaluate(&sample("aq1", 80.0, 10))), 0);
    assert_eq!(raised(&e.evaluate(&sample("aq1", 80.0, 19))), 0);
    assert_eq!(raised(&e.evaluate(&sample("aq1", 80.0, 20))), 1);
}

#[test]
fn hysteresis_prevents_flapping() {
    let mut e = AlarmEngine::new([pm25_rule(0)], 0).unwrap();
    assert_eq!(raised(&e.evaluate(&sample("aq1", 76.0, 0))), 1);
    // inside the band: stays active
    assert!(e.evaluate(&sample("aq1", 72.0, 1)).is_empty());
    assert!(e.evaluate(&sample("aq1", 76.0, 2)).is_empty());
    // below threshold - hysteresis: clears
    let ev = e.evaluate(&sample("aq1", 69.9, 3));
    assert!(
        matches!(&ev[..], [AlarmEvent::Cleared(a)] if a.cleared_at == Some(Timestamp(180_000)))
    );
    assert_eq!(e.active().count(), 0);
    // a new excursion raises a new alarm with a new id
    let ev = e.evaluate(&sample("aq1", 80.0, 4));
    assert!(matches!(&ev[..], [AlarmEvent::Raised(a)] if a.id == 2));
}

#[test]
fn subjects_are_tracked_independently_and_scope_filters() {
    let mut e = AlarmEngine::new([pm25_rule(0)], 41).unwrap();
    assert_eq!(raised(&e.evaluate(&sample("aq1", 80.0, 0))), 1);
    assert_eq!(raised(&e.evaluate(&sample("aq2", 80.0, 0))), 1);
    let mut other = sample("w1", 80.0, 0);
    other.kind = Some(SensorKind::WaterLevel);
    assert!(e.evaluate(&other).is_empty());
    let ids: Vec<u64> = e.active().map(|a| a.id).collect();
    assert_eq!(ids, vec![42, 43]);
}

#[test]
fn late_samples_are_ignored() {
    let mut e = AlarmEngine::new([pm25_rule(0)], 0).unwrap();
    e.evaluate(&sample("aq1", 80.0, 10));
    assert!(e.evaluate(&sample("aq1", 10.0, 5)).is_empty());
    assert_eq!(e.active().count(), 1);
}

#[test]
fn stale_rules_raise_on_silence_and_clear_on_data() {
    let mut rule = pm25_rule(15 * 60_000);
    rule.condition = Condition::Stale;
    let mut e = AlarmEngine::new([rule], 0).unwrap();
    let s = SensorId::new("aq1").unwrap();
    let seen = Some(Timestamp(0));
    assert!(
        e.tick(
            Timestamp(15 * 60_000),
            [(&s, SensorKind::AirQuality, None, seen)]
        )
        .is_empty()
    );
    let ev = e.tick(
        Timestamp(16 * 60_000),
        [(&s, SensorKind::AirQuality, None, seen)],
    );
    assert!(matches!(&ev[..], [AlarmEvent::Raised(a)] if a.value == 960.0));
    let ev = e.tick(
        Timestamp(17 * 60_000),
        [(
            &s,
            SensorKind::AirQuality,
            None,
            Some(Timestamp(17 * 60_000)),
        )],
    );
    assert!(matches!(&ev[..], [AlarmEvent::Cleared(_)]));
}

#[test]
fn invalid_rules_are_rejected_with_the_offending_value() {
    let mut r = pm25_rule(0);
    r.condition = Condition::Above {
        threshold: f64::NAN,
        hysteresis: 1.0,
    };
    assert!(matches!(
        r.validate(),
        Err(RuleError::BadThreshold { id: 1, .. })
    ));
    let mut r = pm25_rule(0);
    r.condition = Condition::Below {
        threshold: 1.0,
        hysteresis: -1.0,
    };
    assert!(r.validate().is_err());
    let mut r = pm25_rule(0);
    r.scope = Scope::Cells { res: 16 };
    assert_eq!(
        r.validate(),
        Err(RuleError::BadResolution { id: 1, res: 16 })
    );
    let mut r = pm25_rule(0);
    r.condition = Condition::Stale;
    assert_eq!(r.validate(), Err(RuleError::BadStale { id: 1 }));
}

#[test]
fn removing_a_rule_clears_its_alarms() {
    let mut e = AlarmEngine::new([pm25_rule(0)], 0).unwrap();
    e.evaluate(&sample("aq1", 80.0, 0));
    let ev = e.remove_rule(1, Timestamp(5));
    assert!(matches!(&ev[..], [AlarmEvent::Cleared(a)] if a.cleared_at == Some(Timestamp(5))));
    assert_eq!(e.active().count(), 0);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the values, at most one alarm per subject is active, raised
        /// and cleared events alternate, and every raise saw a value over the threshold.
        #[test]
        fn raise_and_clear_alternate(values in proptest::collection::vec(0.0f64..150.0, 1..200)) {
            let mut e = AlarmEngine::new([pm25_rule(120_000)], 0).unwrap();
            let mut active = false;
            for (i, v) in values.iter().enumerate() {
                for ev in e.evaluate(&sample("aq1", *v, i64::try_from(i).unwrap())) {
                    match ev {
                        AlarmEvent::Raised(a) => { prop_assert!(!active); prop_assert!(a.value > 75.0); active = true; }
                        AlarmEvent::Cleared(_) => { prop_assert!(active); prop_assert!(*v < 70.0); active = false; }
                    }
                }
                prop_assert!(e.active().count() <= 1);
            }
        }
    }
}

#[test]
fn entity_kind_rules_watch_derived_entity_values_only() {
    let feeder = EntityId::new("feeder:a-1").unwrap();
    let mut r = pm25_rule(15 * 60_000);
    r.scope = Scope::EntityKind {
        kind: EntityKind::Feeder,
    };
    r.metric = Metric::new("feeder_loading").unwrap();
    r.condition = Condition::Above {
        threshold: 100.0,
        hysteresis: 5.0,
    };
    let mut e = AlarmEngine::new([r], 0).unwrap();
    let at = |value: f64, min: i64, kind: EntityKind| Sample {
        subject: Subject::Entity {
            entity: feeder.clone(),
        },
        kind: None,
        entity: Some(feeder.clone()),
        entity_kind: Some(kind),
        metric: Metric::new("feeder_loading").unwrap(),
        value,
        ts: Timestamp(min * 60_000),
    };
    // another kind of entity is not watched
    assert!(e.evaluate(&at(130.0, 0, EntityKind::Building)).is_empty());
    assert!(e.evaluate(&at(120.0, 0, EntityKind::Feeder)).is_empty());
    assert!(e.evaluate(&at(110.0, 10, EntityKind::Feeder)).is_empty());
    let ev = e.evaluate(&at(115.0, 15, EntityKind::Feeder));
    assert_eq!(raised(&ev), 1);
    let AlarmEvent::Raised(a) = &ev[0] else {
        unreachable!()
    };
    assert_eq!(
        a.subject,
        Subject::Entity {
            entity: feeder.clone()
        }
    );
    assert_eq!(a.peak, 115.0);
    // a stale rule cannot watch derived values
    let mut stale = pm25_rule(15 * 60_000);
    stale.scope = Scope::EntityKind {
        kind: EntityKind::Feeder,
    };
    stale.condition = Condition::Stale;
    assert!(stale.validate().is_err());
}
