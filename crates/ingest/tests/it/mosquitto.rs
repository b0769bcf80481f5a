//! The real Mosquitto: the shared one at `MQTT_URL`, and a private one
//! (`max_queued_messages 0`, persistence in a temp dir) for ack and
//! shared-subscription semantics.

use crate::mqtt::{Mosquitto, mqtt_url};
use crate::scenarios;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_round_trips_through_mosquitto_at_mqtt_url() {
    let Some((url, host, port)) = mqtt_url() else {
        return;
    };
    scenarios::round_trip(&url, &host, port, None, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_redelivers_only_unacked_messages_to_a_persistent_session() {
    let Some(m) = Mosquitto::start() else { return };
    scenarios::unacked_messages_are_redelivered(&m.url(), "127.0.0.1", m.port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingest_clients_split_a_shared_subscription_on_mosquitto() {
    let Some(m) = Mosquitto::start() else { return };
    scenarios::shared_subscription_splits_the_load(&m.url(), "127.0.0.1", m.port, 2_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_reconnects_and_resubscribes_after_the_broker_loses_its_sessions() {
    let Some(mut m) = Mosquitto::start() else {
        return;
    };
    scenarios::survives_a_broker_restart(&mut m).await;
}
