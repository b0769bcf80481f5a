//! Load run (ignored in CI): how fast the ingest client drains a backlog of
//! QoS 1 messages (receive, decode, deliver, manual ack), next to a bare
//! rumqttc subscriber that only acknowledges, on the same broker in the same
//! run. The backlog is queued in a persistent session while the consumer is
//! offline, so the publisher's speed does not matter.
//!
//! ```sh
//! cargo test -p ingest --release --test it -- --ignored load --nocapture
//! ```
//! Sizes: `LOAD_MESSAGES` (default 2,000) messages of `LOAD_BATCH` (default
//! 100) observations each.

use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};

use crate::mqtt::{Mosquitto, Publisher, context_for, ingest_config, start_ingest, unique};
use crate::scenarios::now_ms;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Connects `client_id` once with a persistent session and subscribes, so the
/// broker queues what is published while it is away.
async fn register_session(port: u16, client_id: &str, filter: &str) {
    let mut o = MqttOptions::new(client_id, "127.0.0.1", port);
    o.set_clean_start(false);
    o.set_session_expiry_interval(Some(3_600));
    let (c, mut el) = AsyncClient::new(o, 10);
    c.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    loop {
        if let Ok(Event::Incoming(Packet::SubAck(_))) = el.poll().await {
            break;
        }
    }
    c.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while el.poll().await.is_ok() {}
    })
    .await;
}

async fn backlog(port: u16, gw: &str, messages: usize, batch: usize) -> usize {
    let p = Publisher::connect("127.0.0.1", port, None).await;
    let t = now_ms();
    for m in 0..messages {
        let recs: Vec<String> = (0..batch)
            .map(|i| {
                format!(
                    r#"{{"sensor":"{gw}-s{}","metric":"pm25","value":{}.5,"ts":{}}}"#,
                    i % 10,
                    i % 500,
                    t - (m * batch + i) as i64
                )
            })
            .collect();
        p.publish(
            &format!("citybrain/v1/{gw}/obs"),
            format!(r#"{{"obs":[{}]}}"#, recs.join(",")),
        )
        .await;
    }
    // let the broker take the last publishes
    tokio::time::sleep(Duration::from_secs(1)).await;
    messages
}

/// Bare subscriber: receive and acknowledge, nothing else. Messages/s.
async fn bare_drain(port: u16, client_id: &str, messages: usize) -> f64 {
    let mut o = MqttOptions::new(client_id, "127.0.0.1", port);
    o.set_clean_start(false);
    o.set_session_expiry_interval(Some(3_600));
    o.set_manual_acks(true);
    o.set_receive_maximum(Some(256));
    o.set_max_packet_size(Some(1 << 20));
    let mut net = rumqttc::NetworkOptions::new();
    net.set_tcp_nodelay(true);
    o.set_network_options(net);
    let (c, mut el) = AsyncClient::new(o, 1_024);
    let mut n = 0;
    let start = Instant::now();
    while n < messages {
        match el.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                n += 1;
                c.try_ack(&p).unwrap();
            }
            Ok(_) => {}
            Err(e) => panic!("bare subscriber: {e}"),
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = c.try_disconnect();
    let _ = tokio::time::timeout(Duration::from_millis(300), async {
        while el.poll().await.is_ok() {}
    })
    .await;
    rate
}

/// The ingest client, with a consumer that acknowledges at once. Messages/s.
async fn ingest_drain(url: &str, client_id: &str, gw: &str, messages: usize) -> (f64, usize) {
    let mut r = start_ingest(ingest_config(url, client_id, gw), context_for(gw, 10));
    let mut n = 0;
    let mut obs = 0;
    let mut start = None;
    while n < messages {
        let d = r.rx.recv().await.unwrap();
        start.get_or_insert_with(Instant::now);
        if d.topic.ends_with("/obs") {
            n += 1;
            obs += d.decoded.observations.len();
            assert!(d.decoded.dead_letters.is_empty());
        }
        d.ack.ack().await.unwrap();
    }
    // the clock starts at the first delivery (after connect and subscribe)
    let rate = n as f64 / start.unwrap().elapsed().as_secs_f64();
    r.shutdown().await;
    (rate, obs)
}

async fn run(label: &str, url: &str, port: u16) {
    let messages = env("LOAD_MESSAGES", 2_000);
    let batch = env("LOAD_BATCH", 100);
    let gw = unique("gw");
    let filter = format!("citybrain/v1/{gw}/+");
    let bare_id = unique("bare");
    let ingest_id = unique("ingest");
    register_session(port, &bare_id, &filter).await;
    let mut cfg = ingest_config(url, &ingest_id, &gw);
    cfg.topics = vec![filter.clone()];
    // register the ingest session the same way the client subscribes
    register_session(port, &ingest_id, &filter).await;
    backlog(port, &gw, messages, batch).await;
    let bare = bare_drain(port, &bare_id, messages).await;
    let (ingest, obs) = ingest_drain(url, &ingest_id, &gw, messages).await;
    assert_eq!(obs, messages * batch);
    eprintln!(
        "LOAD {label}: {messages} msgs x {batch} obs: bare subscriber {bare:.0} msg/s; \
         ingest client {ingest:.0} msg/s = {:.0} obs/s; ratio {:.2}",
        ingest * batch as f64,
        ingest / bare
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load run: cargo test -p ingest --release --test it -- --ignored load --nocapture"]
async fn load_ingest_drain_next_to_a_bare_subscriber() {
    let b = ingest::broker::EmbeddedBroker::start(ingest::broker::EmbeddedBrokerConfig {
        port: 0,
        max_payload_bytes: 1 << 20,
        ..Default::default()
    })
    .unwrap();
    run("embedded rumqttd", &b.url(), b.port()).await;
    if let Some(m) = Mosquitto::start() {
        run("mosquitto (private)", &m.url(), m.port).await;
    }
}
