//! A gateway-like MQTT publisher with exact accounting: QoS 1, a persistent
//! session, and a count of the PUBACKs the broker returned. It keeps
//! reconnecting through broker restarts; rumqttc resends what was not
//! acknowledged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

/// A connected publisher.
pub struct Publisher {
    client: AsyncClient,
    acked: Arc<AtomicU64>,
    sent: u64,
    poller: tokio::task::JoinHandle<()>,
}

impl Publisher {
    /// Connects (MQTT 3.1.1) as `client_id`, optionally with credentials.
    pub fn connect(
        host: &str,
        port: u16,
        client_id: &str,
        credentials: Option<(&str, &str)>,
    ) -> Self {
        let mut o = MqttOptions::new(client_id, host, port);
        o.set_clean_session(false);
        o.set_keep_alive(Duration::from_secs(10));
        o.set_inflight(100);
        o.set_max_packet_size(1 << 20, 1 << 20);
        if let Some((u, p)) = credentials {
            o.set_credentials(u, p);
        }
        let (client, mut eventloop) = AsyncClient::new(o, 1000);
        let acked = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&acked);
        let poller = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        Self {
            client,
            acked,
            sent: 0,
            poller,
        }
    }

    /// Publishes one QoS 1 message (waits for room in the request queue).
    pub async fn publish(&mut self, topic: &str, payload: Vec<u8>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish request queued");
        self.sent += 1;
    }

    /// Messages handed to the client.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// PUBACKs received.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Waits until every sent message is acknowledged; false on timeout.
    pub async fn wait_acked(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.acked() < self.sent {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }

    /// Disconnects cleanly.
    pub async fn close(self) {
        let _ = self.client.disconnect().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.poller.abort();
    }
}
