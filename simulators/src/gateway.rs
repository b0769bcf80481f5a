//! One simulated gateway: an MQTT connection that publishes its sensors'
//! readings, events and status, and sometimes drops off abruptly.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use domain::{EventChannel, EventReport, GatewayId, Priority, SensorKind, SensorSpec, Timestamp};
use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;

use crate::encode::{self, Message, Reading};
use crate::model::{self, ModelParams};
use crate::{Broker, Format, SimConfig, Stats, sparkplug};

/// A gateway and the sensors it publishes for.
#[derive(Debug, Clone)]
pub struct GatewaySim {
    /// Gateway id (MQTT username).
    pub id: GatewayId,
    /// MQTT password.
    pub password: String,
    /// Payload format it speaks.
    pub format: Format,
    /// Sensors that report values.
    pub sensors: Vec<SensorSpec>,
    /// Sensors that send event reports.
    pub reporters: Vec<SensorSpec>,
}

/// Wall-clock now in ms since the epoch.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

struct Schedule {
    next_due: Vec<i64>,
    last_ts: Vec<i64>,
    rr: usize,
    extra_budget: f64,
    event_seq: u64,
    spb_seq: u8,
    bd_seq: u64,
}

impl GatewaySim {
    /// Runs until `shutdown`: connect, announce, publish, and now and then drop
    /// the connection without a DISCONNECT so the broker fires the last will.
    pub async fn run(
        self,
        broker: Broker,
        cfg: Arc<SimConfig>,
        stats: Arc<Stats>,
        shutdown: CancellationToken,
        mut rng: ChaCha8Rng,
    ) {
        let params = ModelParams {
            seed: cfg.seed,
            utc_offset_h: cfg.utc_offset_h,
            flood_every_days: cfg.flood_every_days,
        };
        let start = now_ms();
        let mut sched = Schedule {
            next_due: self
                .sensors
                .iter()
                .map(|s| {
                    // first report within 10 s, spread so gateways do not burst together
                    #[allow(clippy::cast_possible_truncation)]
                    let offset =
                        (model::unit_hash(model::text_hash(s.id.as_str())) * 10_000.0) as i64;
                    start + offset
                })
                .collect(),
            last_ts: vec![i64::MIN; self.sensors.len()],
            rr: 0,
            extra_budget: 0.0,
            event_seq: 0,
            spb_seq: 0,
            bd_seq: 0,
        };
        let mut attempt = 0u32;
        while !shutdown.is_cancelled() {
            let session = self
                .session(
                    &broker, &cfg, &stats, &shutdown, &mut rng, &params, &mut sched,
                )
                .await;
            match session {
                Ok(Ended::Shutdown) => break,
                Ok(Ended::Dropped) => {
                    attempt = 0;
                    stats.abrupt_disconnects.fetch_add(1, Ordering::Relaxed);
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(cfg.offline_secs)) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
                Err(e) => {
                    attempt = attempt.saturating_add(1);
                    let backoff = Duration::from_millis(
                        (250u64 << attempt.min(6)).min(10_000) + rng.random_range(0..250),
                    );
                    tracing::debug!(gateway = %self.id, error = %e, "Simulated gateway lost its connection; retrying.");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn session(
        &self,
        broker: &Broker,
        cfg: &SimConfig,
        stats: &Arc<Stats>,
        shutdown: &CancellationToken,
        rng: &mut ChaCha8Rng,
        params: &ModelParams,
        sched: &mut Schedule,
    ) -> Result<Ended, rumqttc::ConnectionError> {
        let mut opts =
            MqttOptions::new(format!("sim-{}", self.id), broker.host.clone(), broker.port);
        opts.set_credentials(self.id.as_str(), self.password.clone());
        opts.set_keep_alive(Duration::from_secs(15));
        opts.set_clean_session(false);
        opts.set_max_packet_size(1 << 20, 1 << 20);
        opts.set_inflight(100);
        sched.bd_seq = sched.bd_seq.wrapping_add(1);
        let will = match self.format {
            Format::Sparkplug => {
                let m = sparkplug::ndeath(self.id.as_str(), sched.bd_seq);
                LastWill::new(m.topic, m.payload, QoS::AtLeastOnce, false)
            }
            _ => {
                let m = encode::status(self.id.as_str(), false, None);
                LastWill::new(m.topic, m.payload, QoS::AtLeastOnce, true)
            }
        };
        opts.set_last_will(will);
        let (client, mut eventloop) = AsyncClient::new(opts, 64);

        // Wait for the ConnAck before announcing.
        loop {
            match eventloop.poll().await? {
                Event::Incoming(Packet::ConnAck(_)) => break,
                _ => continue,
            }
        }
        stats.connects.fetch_add(1, Ordering::Relaxed);
        let poll_stats = Arc::clone(stats);
        let poller = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        poll_stats.pubacks.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => return e,
                }
            }
        });

        let now = now_ms();
        let announce: Vec<Message> = match self.format {
            Format::Sparkplug => {
                sched.spb_seq = 0;
                let mut v = vec![sparkplug::nbirth(self.id.as_str(), sched.bd_seq, now)];
                for (dev, s) in self.sensors.iter().enumerate() {
                    sched.spb_seq = sched.spb_seq.wrapping_add(1);
                    let readings = readings_of(s, now, params);
                    v.push(sparkplug::dbirth(
                        self.id.as_str(),
                        s.id.as_str(),
                        dev,
                        sched.spb_seq,
                        now,
                        &readings,
                    ));
                }
                v
            }
            _ => vec![encode::status(self.id.as_str(), true, Some(now))],
        };
        for m in announce {
            let retain = self.format != Format::Sparkplug;
            if client
                .publish(m.topic, QoS::AtLeastOnce, retain, m.payload)
                .await
                .is_err()
            {
                return Ok(Ended::Dropped);
            }
            stats.messages.fetch_add(1, Ordering::Relaxed);
        }

        let drop_at = if cfg.disconnect_every_secs == 0 {
            None
        } else {
            // exponential time to the next abrupt disconnect
            let u: f64 = rng.random_range(1e-9..1.0);
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            Some(now + (-u.ln() * cfg.disconnect_every_secs as f64 * 1000.0) as i64)
        };
        let mut tick = tokio::time::interval(Duration::from_millis(if cfg.rate_obs_per_s > 0.0 {
            20
        } else {
            1000
        }));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_tick = now;
        let result = loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    if self.format != Format::Sparkplug {
                        let m = encode::status(self.id.as_str(), false, Some(now_ms()));
                        let _ = client.publish(m.topic, QoS::AtLeastOnce, true, m.payload).await;
                    }
                    let _ = client.disconnect().await;
                    break Ok(Ended::Shutdown);
                }
                _ = tick.tick() => {}
            }
            if poller.is_finished() {
                break Ok(Ended::Dropped);
            }
            let now = now_ms();
            if drop_at.is_some_and(|t| now >= t) {
                break Ok(Ended::Dropped);
            }
            #[allow(clippy::cast_precision_loss)]
            let dt_s = (now - last_tick).max(0) as f64 / 1000.0;
            last_tick = now;
            let msgs = self.due_messages(now, dt_s, cfg, params, sched, rng, stats);
            let mut failed = false;
            for m in msgs {
                if client
                    .publish(m.topic, QoS::AtLeastOnce, false, m.payload)
                    .await
                    .is_err()
                {
                    failed = true;
                    break;
                }
                stats.messages.fetch_add(1, Ordering::Relaxed);
            }
            if failed {
                break Ok(Ended::Dropped);
            }
        };
        // Dropping the event loop closes the socket without DISCONNECT: the last will fires.
        poller.abort();
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn due_messages(
        &self,
        now: i64,
        dt_s: f64,
        cfg: &SimConfig,
        params: &ModelParams,
        sched: &mut Schedule,
        rng: &mut ChaCha8Rng,
        stats: &Stats,
    ) -> Vec<Message> {
        let mut readings: Vec<Reading> = Vec::new();
        let mut counted = [0u64; SensorKind::ALL.len()];
        for (i, s) in self.sensors.iter().enumerate() {
            let Some(interval) = cfg.interval_ms(s.kind) else {
                continue;
            };
            if sched.next_due[i] > now {
                continue;
            }
            let ts = now.max(sched.last_ts[i] + 1);
            sched.last_ts[i] = ts;
            let interval = i64::try_from(interval).unwrap_or(i64::MAX);
            sched.next_due[i] = (sched.next_due[i] + interval).max(now + 1);
            let rs = readings_of(s, ts, params);
            counted[kind_index(s.kind)] += rs.len() as u64;
            readings.extend(rs);
        }
        if cfg.rate_obs_per_s > 0.0 && !self.sensors.is_empty() {
            sched.extra_budget += cfg.rate_obs_per_s
                / f64::from(
                    u32::try_from(stats.gateways.load(Ordering::Relaxed).max(1))
                        .unwrap_or(u32::MAX),
                )
                * dt_s;
            while sched.extra_budget >= 1.0 {
                let i = sched.rr % self.sensors.len();
                sched.rr += 1;
                let s = &self.sensors[i];
                if cfg.interval_ms(s.kind).is_none() {
                    sched.extra_budget -= 1.0;
                    continue;
                }
                let ts = now.max(sched.last_ts[i] + 1);
                sched.last_ts[i] = ts;
                let rs = readings_of(s, ts, params);
                #[allow(clippy::cast_precision_loss)]
                {
                    sched.extra_budget -= rs.len().max(1) as f64;
                }
                counted[kind_index(s.kind)] += rs.len() as u64;
                readings.extend(rs);
            }
        }
        for (k, n) in counted.iter().enumerate() {
            stats.observations_by_kind[k].fetch_add(*n, Ordering::Relaxed);
        }
        let mut out = self.encode(now, &readings, cfg.batch_max.max(1), sched);
        // events from reporters: Poisson arrivals
        #[allow(clippy::cast_precision_loss)]
        let p_event = cfg.events_per_hour * dt_s / 3600.0;
        for r in &self.reporters {
            if rng.random_bool(p_event.clamp(0.0, 1.0)) {
                sched.event_seq += 1;
                let e = make_event(r, sched.event_seq, now, rng);
                out.push(encode::event(self.id.as_str(), &e));
                stats.events.fetch_add(1, Ordering::Relaxed);
            }
        }
        if cfg.malformed_share > 0.0 && !out.is_empty() {
            let n = out.len();
            for _ in 0..n {
                if rng.random_bool(cfg.malformed_share.clamp(0.0, 1.0)) {
                    let (m, _) = encode::malformed(self.id.as_str(), now, rng);
                    out.push(m);
                    stats.malformed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        out
    }

    fn encode(
        &self,
        now: i64,
        readings: &[Reading],
        batch_max: usize,
        sched: &mut Schedule,
    ) -> Vec<Message> {
        let mut out = Vec::new();
        match self.format {
            Format::Native => {
                for chunk in readings.chunks(batch_max) {
                    out.push(encode::native(self.id.as_str(), now, chunk));
                }
            }
            Format::Senml => {
                for chunk in readings.chunks(batch_max) {
                    out.push(encode::senml(self.id.as_str(), chunk));
                }
            }
            Format::Fiware => out.extend(encode::fiware(
                &crate::fiware_apikey(self.id.as_str()),
                readings,
            )),
            Format::Sparkplug => {
                let mut i = 0;
                while i < readings.len() {
                    let sensor = &readings[i].sensor;
                    let j = readings[i..]
                        .iter()
                        .position(|r| &r.sensor != sensor)
                        .map_or(readings.len(), |p| i + p);
                    let dev = self
                        .sensors
                        .iter()
                        .position(|s| &s.id == sensor)
                        .unwrap_or(0);
                    sched.spb_seq = sched.spb_seq.wrapping_add(1);
                    out.push(sparkplug::ddata(
                        self.id.as_str(),
                        sensor.as_str(),
                        dev,
                        sched.spb_seq,
                        now,
                        &readings[i..j],
                    ));
                    i = j;
                }
            }
        }
        out
    }
}

enum Ended {
    Shutdown,
    Dropped,
}

fn kind_index(k: SensorKind) -> usize {
    SensorKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

fn readings_of(s: &SensorSpec, ts: i64, params: &ModelParams) -> Vec<Reading> {
    model::readings(s, ts, params)
        .into_iter()
        .filter(|(m, _)| s.metrics.is_empty() || s.metrics.iter().any(|x| x.as_str() == *m))
        .map(|(metric, value)| Reading {
            sensor: s.id.clone(),
            metric,
            value,
            ts,
        })
        .collect()
}

const CATEGORIES: [(&str, Priority, &str); 8] = [
    ("pothole", Priority::P3, "Pothole in the carriageway"),
    ("streetlight", Priority::P4, "Streetlight out"),
    ("noise", Priority::P3, "Noise complaint"),
    (
        "illegal_dumping",
        Priority::P3,
        "Illegal dumping on the pavement",
    ),
    ("graffiti", Priority::P4, "Graffiti on a public building"),
    ("flooding", Priority::P2, "Water on the road after rain"),
    ("fallen_tree", Priority::P2, "Tree blocking a path"),
    (
        "traffic_signal",
        Priority::P1,
        "Traffic signal dark at a junction",
    ),
];

fn make_event(reporter: &SensorSpec, seq: u64, now: i64, rng: &mut ChaCha8Rng) -> EventReport {
    let (category, priority, text) = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
    let channel = match rng.random_range(0..10) {
        0..=3 => EventChannel::App,
        4..=6 => EventChannel::CitizenCall,
        7..=8 => EventChannel::Patrol,
        _ => EventChannel::IotAlarm,
    };
    // within ~400 m of the reporter's anchor
    let dlat = rng.random_range(-0.0035..0.0035);
    let dlon = rng.random_range(-0.007..0.007);
    EventReport {
        id: format!("{}-{now}-{seq}", reporter.id),
        reporter: reporter.id.clone(),
        channel,
        category: category.to_owned(),
        priority,
        ts: Timestamp(now),
        location: domain::LatLon::new(reporter.location.lat + dlat, reporter.location.lon + dlon),
        text: text.to_owned(),
    }
}
