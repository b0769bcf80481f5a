//! The MQTT side of the load run: gateway publishers and the bare subscriber.
//!
//! **Publishers** (MQTT 3.1.1, QoS 1, 100 in flight, as the simulators) each
//! own one gateway and publish its batched messages, stamped when built.
//! They run flat out, or paced to a total rate, and never further ahead of
//! the consumer than the **lead window**: published minus consumed
//! observations. The window keeps the broker's backlog, and so memory and
//! queueing, bounded when the consumer is slower than the publishers.
//!
//! The **bare subscriber** is the physical limit the ingest path is
//! compared with: a plain rumqttc MQTT 5 client that subscribes to the same
//! filters with QoS 1, the same receive maximum, manual acks and
//! TCP_NODELAY (as `ingest` does), and only acknowledges each message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::workload::Gateway;

/// Shared between the publishers and the consumer monitor.
#[derive(Debug, Default)]
pub struct Flow {
    /// Observations handed to the publishers' clients.
    pub published: AtomicU64,
    /// Observations the consumer has taken (stored, or received by the bare subscriber).
    pub consumed: AtomicU64,
    /// Woken when `consumed` moves.
    pub progress: Notify,
    /// Set to stop publishing.
    pub stop: AtomicBool,
    /// Largest lead of a message's timestamps over its publish time, ms.
    pub max_lead_ms: AtomicI64,
}

/// How the publishers run.
#[derive(Debug, Clone)]
pub struct PublishPlan {
    /// Broker host.
    pub host: String,
    /// Broker port (MQTT 3.1.1).
    pub port: u16,
    /// Observations per message.
    pub batch: usize,
    /// Total observations per second; 0 = as fast as the broker takes them.
    pub rate: f64,
    /// Most observations published and not yet consumed.
    pub lead: u64,
    /// Unique prefix of client ids.
    pub client_prefix: String,
}

/// The running publishers.
pub struct Publishers {
    tasks: Vec<JoinHandle<()>>,
    loops: Vec<JoinHandle<()>>,
    clients: Vec<rumqttc::AsyncClient>,
    sent: Arc<AtomicU64>,
    acked: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
}

/// Wall clock, ms since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Publishers {
    /// Connects one client per gateway (with its credentials, if any) and
    /// starts publishing.
    pub fn start(
        plan: &PublishPlan,
        gateways: Vec<(Gateway, Option<(String, String)>)>,
        flow: &Arc<Flow>,
    ) -> Publishers {
        let n = gateways.len().max(1);
        let sent = Arc::new(AtomicU64::new(0));
        let acked = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let mut p = Publishers {
            tasks: Vec::new(),
            loops: Vec::new(),
            clients: Vec::new(),
            sent: Arc::clone(&sent),
            acked: Arc::clone(&acked),
            errors: Arc::clone(&errors),
        };
        // each publisher's share of the rate: one message every `interval`
        #[allow(clippy::cast_precision_loss)]
        let interval = (plan.rate > 0.0)
            .then(|| Duration::from_secs_f64(plan.batch as f64 * n as f64 / plan.rate));
        for (k, (mut gw, creds)) in gateways.into_iter().enumerate() {
            let mut o = rumqttc::MqttOptions::new(
                format!("{}-pub-{k}", plan.client_prefix),
                plan.host.clone(),
                plan.port,
            );
            o.set_clean_session(true);
            o.set_keep_alive(Duration::from_secs(30));
            o.set_inflight(100);
            o.set_max_packet_size(1 << 20, 1 << 20);
            if let Some((u, pw)) = creds {
                o.set_credentials(u, pw);
            }
            let (client, mut el) = rumqttc::AsyncClient::new(o, 4);
            let mut net = rumqttc::NetworkOptions::new();
            net.set_tcp_nodelay(true);
            el.set_network_options(net);
            let (acks, errs, f) = (Arc::clone(&acked), Arc::clone(&errors), Arc::clone(flow));
            p.loops.push(tokio::spawn(async move {
                loop {
                    match el.poll().await {
                        Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                            acks.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        // the DISCONNECT of `finish` ends the connection
                        Err(_) if f.stop.load(Ordering::Relaxed) => break,
                        Err(e) => {
                            if errs.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("publisher {k}: {e}");
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            }));
            let (flow, sent, c) = (Arc::clone(flow), Arc::clone(&sent), client.clone());
            let (batch, lead, topic) = (plan.batch, plan.lead, gw.topic());
            // stagger the paced publishers over one interval
            #[allow(clippy::cast_possible_truncation)]
            let offset = interval.map_or(Duration::ZERO, |i| i * k as u32 / n as u32);
            p.tasks.push(tokio::spawn(async move {
                let start = tokio::time::Instant::now() + offset;
                let mut m: u32 = 0;
                while !flow.stop.load(Ordering::Relaxed) {
                    if let Some(i) = interval {
                        tokio::time::sleep_until(start + i * m).await;
                        m += 1;
                    }
                    if !wait_for_room(&flow, lead, batch).await {
                        break;
                    }
                    let msg = gw.message(now_ms(), batch);
                    flow.max_lead_ms.fetch_max(msg.lead_ms, Ordering::Relaxed);
                    flow.published
                        .fetch_add(msg.observations as u64, Ordering::Relaxed);
                    if c.publish(topic.clone(), rumqttc::QoS::AtLeastOnce, false, msg.payload)
                        .await
                        .is_err()
                    {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }));
            p.clients.push(client);
        }
        p
    }

    /// Messages handed to the clients.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// PUBACKs received from the broker.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Connection errors seen.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Stops publishing (after `flow.stop` is set), waits up to `timeout`
    /// for the broker to acknowledge everything sent, and disconnects.
    /// Returns whether every message was acknowledged.
    pub async fn finish(&mut self, flow: &Flow, timeout: Duration) -> bool {
        flow.stop.store(true, Ordering::Relaxed);
        flow.progress.notify_waiters();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        let deadline = Instant::now() + timeout;
        while self.acked() < self.sent() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let all = self.acked() >= self.sent();
        for c in &self.clients {
            let _ = c.try_disconnect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        for l in self.loops.drain(..) {
            l.abort();
        }
        all
    }
}

/// Waits until one more message fits in the lead window; false on stop.
async fn wait_for_room(flow: &Flow, lead: u64, batch: usize) -> bool {
    loop {
        // registered before the check, so a wake-up in between is not lost
        let woken = flow.progress.notified();
        if flow.stop.load(Ordering::Relaxed) {
            return false;
        }
        let ahead = flow
            .published
            .load(Ordering::Relaxed)
            .saturating_sub(flow.consumed.load(Ordering::Relaxed));
        if ahead + batch as u64 <= lead.max(batch as u64) {
            return true;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), woken).await;
    }
}

/// The bare subscriber: counts and acknowledges.
pub struct Bare {
    /// Messages received.
    pub received: Arc<AtomicU64>,
    client: rumqttc::v5::AsyncClient,
    task: JoinHandle<()>,
}

impl Bare {
    /// Connects, subscribes to `filters` and returns once the broker granted
    /// the subscription.
    /// Every message counts as `batch` consumed observations in `flow`.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        host: &str,
        port: u16,
        client_id: &str,
        credentials: Option<(String, String)>,
        filters: &[String],
        receive_maximum: u16,
        flow: Arc<Flow>,
        batch: u64,
    ) -> Result<Bare, String> {
        use rumqttc::v5::mqttbytes::QoS;
        use rumqttc::v5::mqttbytes::v5::{Filter, Packet};
        use rumqttc::v5::{AsyncClient, Event, MqttOptions};
        let mut o = MqttOptions::new(client_id, host, port);
        o.set_clean_start(true);
        o.set_keep_alive(Duration::from_secs(30));
        o.set_manual_acks(true);
        o.set_receive_maximum(Some(receive_maximum));
        o.set_max_packet_size(Some(2 * 262_144 + 65_536));
        let mut net = rumqttc::NetworkOptions::new();
        net.set_tcp_nodelay(true);
        o.set_network_options(net);
        if let Some((u, p)) = credentials {
            o.set_credentials(u, p);
        }
        // room for every ack the broker's window allows, so try_ack never fails
        let (client, mut el) = AsyncClient::new(o, usize::from(u16::MAX) + 64);
        client
            .subscribe_many(
                filters
                    .iter()
                    .map(|f| Filter::new(f.clone(), QoS::AtLeastOnce)),
            )
            .await
            .map_err(|e| format!("bare subscriber: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(20), el.poll())
                .await
                .map_err(|_| "bare subscriber: no SUBACK within 20 s".to_owned())?;
            match ev {
                Ok(Event::Incoming(Packet::SubAck(_))) => break,
                Ok(_) => {}
                Err(e) if Instant::now() < deadline => {
                    eprintln!("bare subscriber: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(format!("bare subscriber: {e}")),
            }
        }
        let received = Arc::new(AtomicU64::new(0));
        let (count, c) = (Arc::clone(&received), client.clone());
        let task = tokio::spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        if c.try_ack(&p).is_err() {
                            eprintln!("bare subscriber: ack queue full");
                        }
                        flow.consumed.fetch_add(batch, Ordering::Relaxed);
                        flow.progress.notify_waiters();
                    }
                    Ok(_) => {}
                    Err(_) if flow.stop.load(Ordering::Relaxed) => break,
                    Err(e) => {
                        eprintln!("bare subscriber: {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Ok(Bare {
            received,
            client,
            task,
        })
    }

    /// Disconnects.
    pub async fn stop(self) {
        let _ = self.client.try_disconnect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.task.abort();
    }
}
