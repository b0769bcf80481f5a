//! Operations-centre persistence: rules, alarms, incidents, tokens, audit log,
//! NGSI-LD entities and subscriptions, indicator inputs and history.

use domain::Timestamp;
use serde_json::json;
use store::{
    AlarmRecord, AuditRecord, IncidentFilter, IncidentRecord, IndicatorInputRecord,
    IndicatorSample, NgsiEntityRecord, RuleRecord, SubscriptionRecord, TokenRow,
};

use crate::support::each_backend;

fn incident(id: u64, state: &str, community: Option<&str>, created: i64) -> IncidentRecord {
    IncidentRecord {
        id,
        state: state.into(),
        community: community.map(str::to_owned),
        cell: Some(0x0891_1269_24ff_ffff),
        created_at: Timestamp(created),
        sla_due: Timestamp(created + 7_200_000),
        updated_at: Timestamp(created),
        doc: json!({"id": id, "state": state, "audit": [{"action": "create"}]}),
    }
}

fn alarm(id: u64, state: &str, opened: i64, incident_id: Option<u64>) -> AlarmRecord {
    AlarmRecord {
        id,
        rule_id: 1,
        state: state.into(),
        opened_at: Timestamp(opened),
        cleared_at: None,
        incident_id,
        doc: json!({"id": id, "value": 80.5}),
    }
}

#[tokio::test]
async fn alarm_rules_are_upserted_listed_and_deleted() {
    each_backend(|s| async move {
        assert!(s.alarm_rules().await.unwrap().is_empty());
        let mut r = RuleRecord {
            id: 2,
            enabled: true,
            updated_at: Timestamp(5),
            doc: json!({"name": "PM2.5 high", "threshold": 75.0}),
        };
        s.upsert_alarm_rule(&r).await.unwrap();
        s.upsert_alarm_rule(&RuleRecord { id: 1, ..r.clone() })
            .await
            .unwrap();
        r.enabled = false;
        r.doc = json!({"name": "PM2.5 very high"});
        s.upsert_alarm_rule(&r).await.unwrap();
        let rules = s.alarm_rules().await.unwrap();
        assert_eq!(rules.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(rules[1], r);
        assert!(s.delete_alarm_rule(1).await.unwrap());
        assert!(!s.delete_alarm_rule(1).await.unwrap());
        assert_eq!(s.alarm_rules().await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn alarms_and_incidents_are_saved_together_and_filtered() {
    each_backend(|s| async move {
        assert_eq!(s.max_alarm_id().await.unwrap(), 0);
        assert_eq!(s.max_incident_id().await.unwrap(), 0);
        s.save_ops(
            &[
                alarm(1, "open", 1_000, Some(10)),
                alarm(2, "cleared", 2_000, None),
            ],
            &[
                incident(10, "REPORTED", Some("kallio"), 1_000),
                incident(11, "CLOSED", Some("kallio"), 3_000),
                incident(12, "DISPATCHED", Some("kamppi"), 2_000),
            ],
        )
        .await
        .unwrap();
        // an update replaces by id
        let mut a1 = alarm(1, "acknowledged", 1_000, Some(10));
        a1.doc = json!({"id": 1, "acked_by": "op"});
        s.save_ops(&[a1.clone()], &[]).await.unwrap();
        assert_eq!(s.alarm(1).await.unwrap(), Some(a1.clone()));
        assert_eq!(s.alarm(99).await.unwrap(), None);
        assert_eq!(s.max_alarm_id().await.unwrap(), 2);
        assert_eq!(s.max_incident_id().await.unwrap(), 12);
        let ids = |v: Vec<AlarmRecord>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(s.alarms(None, 0, 0).await.unwrap()), [2, 1]);
        assert_eq!(ids(s.alarms(Some("active"), 10, 0).await.unwrap()), [1]);
        assert_eq!(ids(s.alarms(Some("cleared"), 10, 0).await.unwrap()), [2]);
        assert_eq!(ids(s.alarms(None, 1, 1).await.unwrap()), [1]);

        let got = s.incident(12).await.unwrap().unwrap();
        assert_eq!(got, incident(12, "DISPATCHED", Some("kamppi"), 2_000));
        let list = |f: IncidentFilter| {
            let s = s.clone();
            async move {
                s.incidents(&f)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|i| i.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(list(IncidentFilter::default()).await, [11, 12, 10]);
        let open = IncidentFilter {
            open_only: true,
            ..IncidentFilter::default()
        };
        assert_eq!(list(open.clone()).await, [12, 10]);
        assert_eq!(s.incident_count(&open).await.unwrap(), 2);
        let kallio = IncidentFilter {
            community: Some("kallio".into()),
            ..IncidentFilter::default()
        };
        assert_eq!(list(kallio).await, [11, 10]);
        let states = IncidentFilter {
            states: vec!["REPORTED".into(), "CLOSED".into()],
            created_from: Some(Timestamp(2_000)),
            ..IncidentFilter::default()
        };
        assert_eq!(list(states).await, [11]);
        let page = IncidentFilter {
            limit: 1,
            offset: 1,
            ..IncidentFilter::default()
        };
        assert_eq!(list(page).await, [12]);
    })
    .await;
}

#[tokio::test]
async fn tokens_keep_hashes_and_revocation() {
    each_backend(|s| async move {
        let t = TokenRow {
            id: "00112233aabbccdd".into(),
            name: "ops-kallio".into(),
            role: "operator".into(),
            scope: json!({"communities": ["kallio"], "cells": []}),
            hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            revoked: false,
            created_at: Timestamp(42),
        };
        s.upsert_api_tokens(std::slice::from_ref(&t)).await.unwrap();
        assert_eq!(s.api_tokens().await.unwrap(), vec![t.clone()]);
        assert!(s.revoke_api_token(&t.id).await.unwrap());
        assert!(!s.revoke_api_token("nope").await.unwrap());
        assert!(s.api_tokens().await.unwrap()[0].revoked);
    })
    .await;
}

#[tokio::test]
async fn audit_lines_come_back_newest_first() {
    each_backend(|s| async move {
        for (i, status) in [201u16, 403, 409].into_iter().enumerate() {
            s.append_audit(&AuditRecord {
                id: 0,
                at: Timestamp(i as i64),
                principal: "op (00112233aabbccdd)".into(),
                method: "POST".into(),
                path: "/api/v1/incidents/INC-000001/transition".into(),
                status,
                entity: Some("INC-000001".into()),
                request_id: Some(format!("req-{i}")),
            })
            .await
            .unwrap();
        }
        let log = s.audit_log(2, 0).await.unwrap();
        assert_eq!(log.iter().map(|a| a.status).collect::<Vec<_>>(), [409, 403]);
        assert!(log[0].id > log[1].id);
        assert_eq!(log[0].request_id.as_deref(), Some("req-2"));
        assert_eq!(s.audit_log(10, 2).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn ngsi_entities_insert_once_upsert_keep_creation_and_filter_by_type() {
    each_backend(|s| async move {
        let rec = |id: &str, ty: &str, t: i64| NgsiEntityRecord {
            id: id.into(),
            entity_type: ty.into(),
            location: Some(r#"{"type":"Point","coordinates":[24.94,60.17]}"#.into()),
            created_at: Timestamp(t),
            modified_at: Timestamp(t),
            doc: json!({"id": id, "type": ty, "name": {"type": "Property", "value": "x"}}),
        };
        assert!(
            s.insert_ngsi_entity(&rec("urn:a", "Bench", 1))
                .await
                .unwrap()
        );
        assert!(
            !s.insert_ngsi_entity(&rec("urn:a", "Bench", 2))
                .await
                .unwrap()
        );
        s.upsert_ngsi_entities(&[rec("urn:a", "Bench", 5), rec("urn:b", "Kiosk", 6)])
            .await
            .unwrap();
        let a = s.ngsi_entity("urn:a").await.unwrap().unwrap();
        assert_eq!((a.created_at, a.modified_at), (Timestamp(1), Timestamp(5)));
        assert_eq!(s.ngsi_entities(&[]).await.unwrap().len(), 2);
        let kiosks = s.ngsi_entities(&["Kiosk".into()]).await.unwrap();
        assert_eq!(kiosks.len(), 1);
        assert_eq!(kiosks[0].id, "urn:b");
        assert!(s.delete_ngsi_entity("urn:a").await.unwrap());
        assert!(!s.delete_ngsi_entity("urn:a").await.unwrap());
        assert_eq!(s.ngsi_entity("urn:a").await.unwrap(), None);

        let sub = SubscriptionRecord {
            id: "urn:ngsi-ld:Subscription:1".into(),
            created_at: Timestamp(1),
            modified_at: Timestamp(2),
            doc: json!({"type": "Subscription", "entities": [{"type": "Sensor"}]}),
        };
        s.upsert_subscription(&sub).await.unwrap();
        assert_eq!(s.subscriptions().await.unwrap(), vec![sub.clone()]);
        assert!(s.delete_subscription(&sub.id).await.unwrap());
        assert!(s.subscriptions().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn indicator_inputs_and_history_round_trip() {
    each_backend(|s| async move {
        let input = |ind: &str, year: i32, v: f64| IndicatorInputRecord {
            indicator: ind.into(),
            year,
            value: v,
            numerator: Some(v * 100.0),
            denominator: Some(100.0),
            quality: 0.9,
            updated_at: Timestamp(7),
            updated_by: "planner".into(),
        };
        s.upsert_indicator_inputs(&[input("b", 2024, 0.5), input("a", 2025, 0.25)])
            .await
            .unwrap();
        s.upsert_indicator_inputs(&[input("b", 2024, 0.75)])
            .await
            .unwrap();
        let all = s.indicator_inputs().await.unwrap();
        assert_eq!(all, vec![input("a", 2025, 0.25), input("b", 2024, 0.75)]);
        assert!(s.delete_indicator_input("a", 2025).await.unwrap());
        assert!(!s.delete_indicator_input("a", 2025).await.unwrap());

        for i in 0..5 {
            s.append_indicator_sample(&IndicatorSample {
                at: Timestamp(i * 60_000),
                composite: (i != 2).then_some(0.5 + i as f64 / 100.0),
                doc: json!({"smart_governance": 0.6}),
            })
            .await
            .unwrap();
        }
        let last3 = s.indicator_samples(3).await.unwrap();
        assert_eq!(
            last3.iter().map(|x| x.at.0).collect::<Vec<_>>(),
            [120_000, 180_000, 240_000]
        );
        assert_eq!(last3[0].composite, None);
        assert_eq!(
            s.prune_indicator_samples(Timestamp(120_000)).await.unwrap(),
            2
        );
        assert_eq!(s.indicator_samples(0).await.unwrap().len(), 3);
    })
    .await;
}
