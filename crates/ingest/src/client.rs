//! The MQTT 5 client: persistent session, manual acknowledgements, capped
//! jittered reconnect backoff, re-subscription on every ConnAck.
//!
//! # Why acknowledgements are bound to a connection
//! A PUBACK names a packet identifier, and identifiers are reused once
//! acknowledged. After a reconnect the broker resends unacknowledged messages
//! (same identifiers), so a PUBACK computed on the old connection could, if it
//! slipped onto the new one, acknowledge a different, not yet stored message.
//! Each delivery therefore carries the connection generation it arrived on;
//! [`AckHandle::ack`] sends only while that connection is current, under a
//! lock that the event loop takes when it notices a disconnect (and it then
//! purges queued PUBACKs with `EventLoop::clean`). A skipped ack is harmless:
//! the broker redelivers the message and the writer stores it idempotently.
//!
//! # Back-pressure
//! The client announces `inflight` as its MQTT 5 receive maximum, so at most
//! that many unacknowledged QoS 1 messages are outstanding. With a delivery
//! channel of at least [`MqttIngest::channel_capacity`] the event loop never
//! waits on the channel for QoS 1 traffic; when the store is slow, the writer
//! stops acknowledging, the broker stops sending, and the messages wait in the
//! broker's session.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{DecodeContext, Decoded, Error, Secret, SparkplugState, decode, telemetry};
use domain::Timestamp;

/// Validated client settings (built by [`crate::MqttConfig::build`]).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub credentials: Option<(String, Secret)>,
    pub filters: Vec<String>,
    pub clean_start: bool,
    pub session_expiry_secs: u32,
    pub keep_alive_secs: u64,
    pub inflight: u16,
    pub max_payload_bytes: usize,
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
    pub connect_timeout_secs: u64,
}

/// The runtime MQTT ingest client. Build it with [`crate::MqttConfig::build`],
/// then [`run`](MqttIngest::run) it.
#[derive(Debug)]
pub struct MqttIngest {
    s: Settings,
}

/// One decoded MQTT message, handed to the writer with its acknowledgement.
#[derive(Debug)]
pub struct Delivery {
    /// The topic it arrived on.
    pub topic: String,
    /// When it was received (wall clock).
    pub received: Timestamp,
    /// Whether the broker marked it as a redelivery (MQTT DUP flag).
    pub redelivered: bool,
    /// Whether it is a retained message replayed on subscription (e.g. a
    /// gateway's last status).
    pub retained: bool,
    /// What it decoded to (including dead letters).
    pub decoded: Decoded,
    /// Acknowledge after the durable commit.
    pub ack: AckHandle,
}

/// Which connection is current; shared by the event loop and ack handles.
#[derive(Debug, Default)]
struct Conn {
    /// Bumped on every connect and every disconnect.
    generation: u64,
    connected: bool,
}

/// Acknowledges one message to the broker. Call [`ack`](AckHandle::ack) only
/// after everything decoded from the message is durably committed; dropping
/// the handle without acking means the broker redelivers the message after
/// the next reconnect.
#[derive(Debug)]
pub struct AckHandle {
    client: AsyncClient,
    conn: Arc<Mutex<Conn>>,
    generation: u64,
    /// The QoS 1/2 publish header to acknowledge (payload dropped); `None` for QoS 0.
    publish: Option<Publish>,
}

/// What [`AckHandle::ack`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// The PUBACK was queued for the broker.
    Sent,
    /// QoS 0: nothing to acknowledge.
    NotNeeded,
    /// The message came from an earlier connection; the broker redelivers it.
    Stale,
}

impl AckHandle {
    /// Sends the PUBACK, if the message's connection is still current.
    ///
    /// Errors only when the client's request queue is closed (the event loop
    /// stopped); the message is then redelivered after reconnect. (The queue
    /// holds 65,599 requests, more than the packet ids that can be unacked.)
    pub async fn ack(self) -> Result<AckOutcome, Error> {
        self.ack_now()
    }

    /// The synchronous form of [`ack`](AckHandle::ack).
    pub fn ack_now(self) -> Result<AckOutcome, Error> {
        let Some(publish) = &self.publish else {
            return Ok(AckOutcome::NotNeeded);
        };
        // Held only for a non-blocking enqueue: the event loop takes the same
        // lock when it notices a disconnect, so no PUBACK crosses connections.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if !conn.connected || conn.generation != self.generation {
            telemetry::stale_ack();
            return Ok(AckOutcome::Stale);
        }
        self.client
            .try_ack(publish)
            .map_err(|source| Error::Request {
                op: "ack",
                source: Box::new(source),
            })?;
        Ok(AckOutcome::Sent)
    }

    /// The MQTT packet identifier (0 for QoS 0).
    pub fn packet_id(&self) -> u16 {
        self.publish.as_ref().map_or(0, |p| p.pkid)
    }
}

impl MqttIngest {
    pub(crate) fn new(s: Settings) -> Self {
        Self { s }
    }

    /// The smallest delivery channel that never makes the event loop wait on
    /// QoS 1 traffic: the receive maximum plus room for QoS 0 bursts and
    /// redeliveries.
    pub fn channel_capacity(&self) -> usize {
        usize::from(self.s.inflight) + 64
    }

    /// The configured payload limit: set `DecodeContext::limits.max_payload_bytes`
    /// to this so the client and the decoder agree.
    pub fn max_payload_bytes(&self) -> usize {
        self.s.max_payload_bytes
    }

    /// The subscription filters, after applying the shared group.
    pub fn filters(&self) -> &[String] {
        &self.s.filters
    }

    /// `host:port` of the broker.
    pub fn broker(&self) -> String {
        format!("{}:{}", self.s.host, self.s.port)
    }

    /// The client id (names the persistent session).
    pub fn client_id(&self) -> &str {
        &self.s.client_id
    }

    /// Username and password, if configured.
    pub fn credentials(&self) -> Option<(&str, &Secret)> {
        self.s.credentials.as_ref().map(|(u, p)| (u.as_str(), p))
    }

    fn options(&self) -> MqttOptions {
        let s = &self.s;
        let mut o = MqttOptions::new(s.client_id.clone(), s.host.clone(), s.port);
        o.set_keep_alive(Duration::from_secs(s.keep_alive_secs));
        o.set_clean_start(s.clean_start);
        o.set_session_expiry_interval(Some(s.session_expiry_secs));
        o.set_manual_acks(true);
        o.set_receive_maximum(Some(s.inflight));
        // Up to 2x the decode limit arrives (and is dead-lettered as too
        // large); the broker drops anything bigger instead of sending it.
        let max_packet = (s.max_payload_bytes.saturating_mul(2)).saturating_add(64 * 1024);
        o.set_max_packet_size(Some(u32::try_from(max_packet).unwrap_or(u32::MAX)));
        o.set_connection_timeout(s.connect_timeout_secs);
        // PUBACKs are tiny writes: without TCP_NODELAY, Nagle holds each one
        // until the broker's delayed ACK, which throttled draining Mosquitto
        // to a few thousand messages per second in the load run.
        let mut net = rumqttc::NetworkOptions::new();
        net.set_tcp_nodelay(true);
        net.set_connection_timeout(s.connect_timeout_secs);
        o.set_network_options(net);
        if let Some((u, p)) = &s.credentials {
            o.set_credentials(u.clone(), p.expose().to_owned());
        }
        o
    }

    /// Connects, subscribes and decodes until `shutdown` is cancelled (then
    /// returns `Ok`) or the delivery receiver is dropped
    /// ([`Error::ConsumerGone`]). Connection failures are retried forever
    /// with capped jittered backoff.
    ///
    /// `ctx` is read once per message, so the server can swap in a new
    /// registry (after provisioning) without restarting ingest.
    #[tracing::instrument(name = "mqtt_ingest", skip_all, fields(broker = %self.broker(), client_id = %self.s.client_id))]
    pub async fn run(
        self,
        ctx: Arc<ArcSwap<DecodeContext>>,
        tx: mpsc::Sender<Delivery>,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let broker = self.broker();
        // Request queue: every queued ack is for a distinct message still
        // unacknowledged on the current connection, and 16-bit packet ids cap
        // those at 65,535 whatever the broker does with the receive maximum
        // (seen with Mosquitto in the load run). With this
        // capacity `try_ack` never finds the queue full. Memory grows only
        // with what is actually queued.
        let cap = usize::from(u16::MAX) + 64;
        let (client, mut eventloop) = AsyncClient::new(self.options(), cap);
        let conn = Arc::new(Mutex::new(Conn::default()));
        let mut sparkplug = SparkplugState::default();
        let mut backoff = Backoff::new(self.s.reconnect_min_ms, self.s.reconnect_max_ms);
        loop {
            let event = tokio::select! {
                () = shutdown.cancelled() => break,
                ev = eventloop.poll() => ev,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    {
                        let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
                        c.generation += 1;
                        c.connected = true;
                    }
                    backoff.reset();
                    telemetry::connected(&broker, ack.session_present);
                    let subs = self.s.filters.iter().map(|f| {
                        rumqttc::v5::mqttbytes::v5::Filter::new(f.clone(), QoS::AtLeastOnce)
                    });
                    match client.try_subscribe_many(subs) {
                        Ok(()) => telemetry::subscribed(&self.s.filters),
                        Err(source) => {
                            let e = Error::Request {
                                op: "subscribe",
                                source: Box::new(source),
                            };
                            telemetry::subscription_refused(&e.to_string());
                        }
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    for code in &ack.return_codes {
                        if !matches!(code, SubscribeReasonCode::Success(_)) {
                            telemetry::subscription_refused(&format!("{code:?}"));
                        }
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let generation = conn.lock().unwrap_or_else(|p| p.into_inner()).generation;
                    let delivery =
                        self.deliver(&p, &ctx, &mut sparkplug, &client, &conn, generation);
                    match tx.try_send(delivery) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(d)) => {
                            telemetry::channel_full(tx.max_capacity());
                            tokio::select! {
                                () = shutdown.cancelled() => break,
                                r = tx.send(d) => if r.is_err() {
                                    telemetry::stopped("delivery channel closed");
                                    return Err(Error::ConsumerGone);
                                },
                            }
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            telemetry::stopped("delivery channel closed");
                            return Err(Error::ConsumerGone);
                        }
                    }
                }
                Ok(_) => {}
                Err(source) => {
                    {
                        let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
                        c.generation += 1;
                        c.connected = false;
                        // drop PUBACKs queued before we marked the connection gone
                        eventloop.clean();
                    }
                    let wait = backoff.next_delay();
                    let e = Error::Connect {
                        addr: broker.clone(),
                        source,
                    };
                    telemetry::disconnected(&broker, &e.source_text(), wait);
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        {
            // acks from now on are stale: the broker redelivers those messages
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            c.generation += 1;
            c.connected = false;
        }
        // best effort: a clean DISCONNECT keeps the session (clean_start=false)
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(ev) = eventloop.poll().await {
                if matches!(ev, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
        telemetry::stopped("shutdown");
        Ok(())
    }

    fn deliver(
        &self,
        p: &Publish,
        ctx: &ArcSwap<DecodeContext>,
        sparkplug: &mut SparkplugState,
        client: &AsyncClient,
        conn: &Arc<Mutex<Conn>>,
        generation: u64,
    ) -> Delivery {
        let topic = String::from_utf8_lossy(&p.topic).into_owned();
        let received = now();
        let started = Instant::now();
        let decoded = decode(&topic, &p.payload, received, &ctx.load(), sparkplug);
        telemetry::decoded(&topic, &decoded, started.elapsed());
        let header = (p.qos != QoS::AtMostOnce).then(|| Publish {
            dup: p.dup,
            qos: p.qos,
            retain: p.retain,
            topic: bytes::Bytes::new(),
            pkid: p.pkid,
            payload: bytes::Bytes::new(),
            properties: None,
        });
        Delivery {
            topic,
            received,
            redelivered: p.dup,
            retained: p.retain,
            decoded,
            ack: AckHandle {
                client: client.clone(),
                conn: Arc::clone(conn),
                generation,
                publish: header,
            },
        }
    }
}

impl Error {
    fn source_text(&self) -> String {
        match self {
            Error::Connect { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }
}

/// Wall-clock now as a [`Timestamp`].
pub(crate) fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp(ms)
}

/// Exponential backoff with "equal jitter": each delay is drawn from 50-100%
/// of `min * 2^attempt`, capped at `max`.
#[derive(Debug)]
pub(crate) struct Backoff {
    min_ms: u64,
    max_ms: u64,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub fn new(min_ms: u64, max_ms: u64) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Self::with_seed(min_ms, max_ms, seed)
    }

    pub fn with_seed(min_ms: u64, max_ms: u64, seed: u64) -> Self {
        Self {
            min_ms,
            max_ms,
            attempt: 0,
            rng: seed | 1,
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self
            .min_ms
            .saturating_mul(1u64 << self.attempt.min(32))
            .min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1);
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let half = base / 2;
        Duration::from_millis(half + r % (base - half + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered_within_half_to_full() {
        let mut b = Backoff::with_seed(100, 5_000, 42);
        let mut prev_cap = 0;
        for i in 0..20u32 {
            let cap = (100u64 << i.min(32)).min(5_000);
            let d = b.next_delay().as_millis() as u64;
            assert!(
                d >= cap / 2 && d <= cap,
                "attempt {i}: {d} not in {}..={cap}",
                cap / 2
            );
            assert!(cap >= prev_cap);
            prev_cap = cap;
        }
        b.reset();
        assert!(b.next_delay().as_millis() <= 100);
        // jitter: two seeds disagree somewhere
        let mut a = Backoff::with_seed(100, 60_000, 1);
        let mut c = Backoff::with_seed(100, 60_000, 2);
        assert!((0..10).any(|_| a.next_delay() != c.next_delay()));
    }
}
