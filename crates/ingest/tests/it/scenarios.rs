//! Broker scenarios run against the embedded broker and Mosquitto alike.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ingest::sparkplug::{Metric, MetricValue, Payload, datatype};
use ingest::{AckOutcome, Delivery, MqttConfig, Secret};
use prost::Message;

use crate::mqtt::{
    Publisher, Running, collect, context_for, ingest_config, observation_count, start_ingest,
    unique,
};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Publishes status probes until `n` deliveries of them arrived (the
/// subscription is then in place), acknowledging them.
async fn wait_subscribed(p: &Publisher, gw: &str, r: &mut Running) {
    for _ in 0..100 {
        p.publish(&format!("citybrain/v1/{gw}/status"), "online")
            .await;
        let got = collect(&mut r.rx, Duration::from_millis(200), |d| !d.is_empty()).await;
        if !got.is_empty() {
            for d in got {
                d.ack.ack().await.unwrap();
            }
            // drain probes still in flight
            for d in collect(&mut r.rx, Duration::from_millis(300), |_| false).await {
                d.ack.ack().await.unwrap();
            }
            return;
        }
    }
    panic!("subscription never became active");
}

/// Every format through the broker: decoded, nothing dead-lettered, all acked.
pub async fn round_trip(
    url: &str,
    host: &str,
    port: u16,
    publisher_login: Option<(&str, &str)>,
    ingest_login: Option<(&str, &str)>,
) {
    let gw = unique("gw");
    let mut cfg = ingest_config(url, &unique("ingest"), &gw);
    if let Some((u, p)) = ingest_login {
        cfg.username = Some(u.into());
        cfg.password = Some(Secret::new(p));
    }
    let mut ingest = start_ingest(cfg, context_for(&gw, 4));
    let p = Publisher::connect(host, port, publisher_login).await;
    wait_subscribed(&p, &gw, &mut ingest).await;

    let t = now_ms();
    let s = |i: usize| format!("{gw}-s{i}");
    p.publish(
        &format!("citybrain/v1/{gw}/obs"),
        format!(
            r#"{{"ts":{t},"obs":[{{"sensor":"{}","metric":"pm25","value":10}},{{"sensor":"{}","metric":"pm10","value":20}}]}}"#,
            s(0),
            s(0)
        ),
    )
    .await;
    p.publish(
        &format!("citybrain/v1/{gw}/senml"),
        format!(
            r#"[{{"bn":"{}/","bt":{},"n":"pm25","v":11}},{{"n":"pm10","v":21}}]"#,
            s(1),
            t as f64 / 1000.0
        ),
    )
    .await;
    p.publish(
        &format!("/json/{gw}-key/{}/attrs", s(2)),
        r#"{"pm25": 12, "t": 3.5}"#,
    )
    .await;
    let birth = Payload {
        timestamp: Some(t as u64),
        seq: Some(0),
        metrics: vec![
            Metric {
                name: Some("bdSeq".into()),
                datatype: Some(datatype::UINT64),
                value: Some(MetricValue::LongValue(0)),
                ..Metric::default()
            },
            Metric {
                name: Some(format!("{}/pm25", s(3))),
                alias: Some(1),
                datatype: Some(datatype::DOUBLE),
                value: Some(MetricValue::DoubleValue(13.0)),
                ..Metric::default()
            },
        ],
        ..Payload::default()
    };
    let data = Payload {
        timestamp: Some(t as u64 + 1),
        seq: Some(1),
        metrics: vec![Metric {
            alias: Some(1),
            value: Some(MetricValue::DoubleValue(14.0)),
            ..Metric::default()
        }],
        ..Payload::default()
    };
    let sp = format!("spBv1.0/{gw}-group");
    p.publish(&format!("{sp}/NBIRTH/{gw}"), birth.encode_to_vec())
        .await;
    p.publish(&format!("{sp}/NDATA/{gw}"), data.encode_to_vec())
        .await;
    p.publish(
        &format!("citybrain/v1/{gw}/event"),
        format!(
            r#"{{"id":"e1","reporter":"{}","channel":"iot_alarm","category":"flooding"}}"#,
            s(0)
        ),
    )
    .await;
    p.publish(
        &format!("citybrain/v1/{gw}/status"),
        r#"{"online":false,"will":true}"#,
    )
    .await;

    let got = collect(&mut ingest.rx, Duration::from_secs(15), |d| d.len() >= 7).await;
    let dead: Vec<_> = got.iter().flat_map(|d| &d.decoded.dead_letters).collect();
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(
        observation_count(&got),
        8,
        "{:?}",
        got.iter().map(|d| &d.topic).collect::<Vec<_>>()
    );
    let mut values: Vec<f64> = got
        .iter()
        .flat_map(|d| d.decoded.observations.iter().map(|o| o.value))
        .collect();
    values.sort_by(f64::total_cmp);
    assert_eq!(values, vec![3.5, 10.0, 11.0, 12.0, 13.0, 14.0, 20.0, 21.0]);
    assert_eq!(got.iter().map(|d| d.decoded.events.len()).sum::<usize>(), 1);
    let status: Vec<_> = got.iter().flat_map(|d| &d.decoded.status).collect();
    assert!(status.iter().any(|s| s.online && s.reason == "NBIRTH"));
    assert!(status.iter().any(|s| !s.online && s.reason == "last will"));
    for d in got {
        assert_eq!(d.ack.ack().await.unwrap(), AckOutcome::Sent);
    }
    ingest.shutdown().await;
}

fn obs_value(d: &Delivery) -> Option<i64> {
    d.decoded.observations.first().map(|o| o.value as i64)
}

/// Manual acks with a persistent session: after a reconnect with the same
/// client id, exactly the unacknowledged messages come back.
pub async fn unacked_messages_are_redelivered(url: &str, host: &str, port: u16) {
    let gw = unique("gw");
    let client_id = unique("ingest");
    let mut first = start_ingest(ingest_config(url, &client_id, &gw), context_for(&gw, 1));
    let p = Publisher::connect(host, port, None).await;
    wait_subscribed(&p, &gw, &mut first).await;
    let t = now_ms();
    for i in 0..10 {
        p.publish(
            &format!("citybrain/v1/{gw}/obs"),
            format!(
                r#"{{"sensor":"{gw}-s0","metric":"pm25","value":{i},"ts":{}}}"#,
                t + i
            ),
        )
        .await;
    }
    let got = collect(&mut first.rx, Duration::from_secs(10), |d| {
        d.iter().filter(|x| obs_value(x).is_some()).count() >= 10
    })
    .await;
    let mut kept = Vec::new();
    for d in got {
        match obs_value(&d) {
            Some(v) if v >= 5 => kept.push(d), // not acked: "crash before commit"
            _ => assert_eq!(d.ack.ack().await.unwrap(), AckOutcome::Sent),
        }
    }
    assert_eq!(kept.len(), 5);
    first.shutdown().await;
    // acks computed on the old connection are not sent on a new one
    for d in kept {
        assert_eq!(d.ack.ack().await.unwrap(), AckOutcome::Stale);
    }

    let mut second = start_ingest(ingest_config(url, &client_id, &gw), context_for(&gw, 1));
    let again = collect(&mut second.rx, Duration::from_secs(10), |d| {
        d.iter().filter(|x| obs_value(x).is_some()).count() >= 5
    })
    .await;
    // and nothing else arrives afterwards
    let late = collect(&mut second.rx, Duration::from_millis(1500), |_| false).await;
    let values: BTreeSet<i64> = again.iter().chain(&late).filter_map(obs_value).collect();
    assert_eq!(values, (5..10).collect::<BTreeSet<_>>());
    assert_eq!(
        again
            .iter()
            .chain(&late)
            .filter(|d| obs_value(d).is_some())
            .count(),
        5,
        "each unacked message exactly once"
    );
    for d in again.into_iter().chain(late) {
        d.ack.ack().await.unwrap();
    }
    second.shutdown().await;
}

/// Two ingest processes on one shared subscription split the load with
/// nothing lost and nothing duplicated.
pub async fn shared_subscription_splits_the_load(url: &str, host: &str, port: u16, n: i64) {
    let gw = unique("gw");
    let group = unique("grp");
    let cfg = |id: &str| MqttConfig {
        shared_group: Some(group.clone()),
        ..ingest_config(url, id, &gw)
    };
    let mut a = start_ingest(cfg(&unique("ia")), context_for(&gw, 1));
    let mut b = start_ingest(cfg(&unique("ib")), context_for(&gw, 1));
    let p = Publisher::connect(host, port, None).await;
    // both members subscribed: probes reach each of them
    let (mut seen_a, mut seen_b) = (false, false);
    for _ in 0..200 {
        p.publish(&format!("citybrain/v1/{gw}/status"), "online")
            .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Ok(d) = a.rx.try_recv() {
            seen_a = true;
            d.ack.ack().await.unwrap();
        }
        while let Ok(d) = b.rx.try_recv() {
            seen_b = true;
            d.ack.ack().await.unwrap();
        }
        if seen_a && seen_b {
            break;
        }
    }
    assert!(seen_a && seen_b, "both members must be subscribed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for r in [&mut a, &mut b] {
        while let Ok(d) = r.rx.try_recv() {
            d.ack.ack().await.unwrap();
        }
    }

    let t = now_ms();
    let topic = format!("citybrain/v1/{gw}/obs");
    let publish = async {
        for i in 0..n {
            p.publish(
                &topic,
                format!(
                    r#"{{"sensor":"{gw}-s0","metric":"pm25","value":{i},"ts":{}}}"#,
                    t - n + i
                ),
            )
            .await;
        }
    };
    let consume = async {
        let (mut va, mut vb) = (Vec::new(), Vec::new());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while (va.len() + vb.len()) < n as usize {
            tokio::select! {
                Some(d) = a.rx.recv() => { if let Some(v) = obs_value(&d) { va.push(v) } d.ack.ack().await.unwrap(); }
                Some(d) = b.rx.recv() => { if let Some(v) = obs_value(&d) { vb.push(v) } d.ack.ack().await.unwrap(); }
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        (va, vb)
    };
    let ((), (va, vb)) = tokio::join!(publish, consume);
    let all: BTreeSet<i64> = va.iter().chain(&vb).copied().collect();
    assert_eq!(
        va.len() + vb.len(),
        n as usize,
        "nothing lost or duplicated"
    );
    assert_eq!(all, (0..n).collect::<BTreeSet<_>>());
    let share = va.len() as f64 / n as f64;
    eprintln!(
        "shared subscription split: {} / {} ({:.1}% / {:.1}%)",
        va.len(),
        vb.len(),
        share * 100.0,
        (1.0 - share) * 100.0
    );
    assert!((0.3..=0.7).contains(&share), "share {share}");
    a.shutdown().await;
    b.shutdown().await;
}

/// The broker is killed and comes back without any session: ingest
/// reconnects (backoff) and re-subscribes on the new ConnAck, so messages
/// published afterwards arrive.
pub async fn survives_a_broker_restart(m: &mut crate::mqtt::Mosquitto) {
    let gw = unique("gw");
    let mut ingest = start_ingest(
        ingest_config(&m.url(), &unique("ingest"), &gw),
        context_for(&gw, 1),
    );
    // a message delivered before the restart and not yet acknowledged
    let held = {
        let p = Publisher::connect("127.0.0.1", m.port, None).await;
        wait_subscribed(&p, &gw, &mut ingest).await;
        p.publish(
            &format!("citybrain/v1/{gw}/obs"),
            format!(
                r#"{{"sensor":"{gw}-s0","metric":"pm25","value":1,"ts":{}}}"#,
                now_ms()
            ),
        )
        .await;
        let mut got = collect(&mut ingest.rx, Duration::from_secs(10), |d| !d.is_empty()).await;
        got.pop().expect("the message before the restart")
    };
    m.restart(true);
    let p = Publisher::connect("127.0.0.1", m.port, None).await;
    let t = now_ms();
    // publish until one arrives: the subscription is back
    let mut got = Vec::new();
    for i in 0..100 {
        p.publish(
            &format!("citybrain/v1/{gw}/obs"),
            format!(
                r#"{{"sensor":"{gw}-s0","metric":"pm25","value":{i},"ts":{}}}"#,
                t + i
            ),
        )
        .await;
        got = collect(&mut ingest.rx, Duration::from_millis(200), |d| {
            !d.is_empty()
        })
        .await;
        if !got.is_empty() {
            break;
        }
    }
    assert!(!got.is_empty(), "no message after the broker restart");
    assert_eq!(got[0].decoded.observations.len(), 1);
    for d in got {
        assert_eq!(d.ack.ack().await.unwrap(), AckOutcome::Sent);
    }
    // its acknowledgement belongs to the old connection and is not sent
    assert_eq!(held.ack.ack().await.unwrap(), AckOutcome::Stale);
    assert!(!ingest.task.is_finished());
    ingest.shutdown().await;
}
