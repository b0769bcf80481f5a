//! The embedded broker (rumqttd): round trip, authentication, persistent
//! sessions with manual acks, shared subscriptions.

use std::collections::BTreeMap;
use std::time::Duration;

use ingest::Secret;
use ingest::broker::{EmbeddedBroker, EmbeddedBrokerConfig};
use rumqttc::v5::{AsyncClient, MqttOptions};

use crate::scenarios;

fn start(users: &[(&str, &str)]) -> EmbeddedBroker {
    EmbeddedBroker::start(EmbeddedBrokerConfig {
        port: 0,
        users: users
            .iter()
            .map(|(u, p)| ((*u).to_owned(), Secret::new(*p)))
            .collect::<BTreeMap<_, _>>(),
        ..EmbeddedBrokerConfig::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_round_trips_through_the_embedded_broker_with_passwords() {
    let b = start(&[("gateway", "pw-gw"), ("ingest", "pw-in")]);
    scenarios::round_trip(
        &b.url(),
        "127.0.0.1",
        b.port(),
        Some(("gateway", "pw-gw")),
        Some(("ingest", "pw-in")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_refuses_a_wrong_password() {
    let b = start(&[("gateway", "pw-gw")]);
    for login in [Some(("gateway", "wrong")), Some(("nobody", "pw-gw")), None] {
        let mut o = MqttOptions::new(crate::mqtt::unique("c"), "127.0.0.1", b.port());
        if let Some((u, p)) = login {
            o.set_credentials(u, p);
        }
        let (_c, mut el) = AsyncClient::new(o, 10);
        let first = tokio::time::timeout(Duration::from_secs(5), el.poll())
            .await
            .unwrap();
        assert!(first.is_err(), "{login:?} must be refused, got {first:?}");
    }
    let mut o = MqttOptions::new(crate::mqtt::unique("c"), "127.0.0.1", b.port());
    o.set_credentials("gateway", "pw-gw");
    let (_c, mut el) = AsyncClient::new(o, 10);
    let first = tokio::time::timeout(Duration::from_secs(5), el.poll())
        .await
        .unwrap();
    assert!(first.is_ok(), "{first:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_redelivers_only_unacked_messages_to_a_persistent_session() {
    let b = start(&[]);
    scenarios::unacked_messages_are_redelivered(&b.url(), "127.0.0.1", b.port()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_splits_a_shared_subscription() {
    let b = start(&[]);
    scenarios::shared_subscription_splits_the_load(&b.url(), "127.0.0.1", b.port(), 400).await;
}

#[test]
fn a_taken_port_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let e = EmbeddedBroker::start(EmbeddedBrokerConfig {
        port,
        ..EmbeddedBrokerConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains(&port.to_string()), "{e}");
    assert!(!e.is_retryable());
}
