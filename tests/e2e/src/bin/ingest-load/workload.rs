//! What the load run publishes: gateways of the synthetic test city and
//! their batched native-JSON messages (docs/specs/mqtt.md §3).
//!
//! A **pair** is one (sensor, metric) a gateway reports. Observations are
//! keyed by (sensor, metric, ms), so a gateway can stamp at most one
//! observation per pair and millisecond: a batch of `b` observations needs
//! `ceil(b / pairs)` milliseconds, its **span**. Each message is stamped
//! with the span ending at its publish time (so publish-to-durable latency
//! is measured from the moment the gateway built the message, plus at most
//! `span - 1` ms of backdating), never reusing a millisecond of an earlier
//! message. A gateway that publishes faster than `pairs` observations per
//! millisecond runs ahead of the wall clock; the **lead** of a message (its
//! last timestamp minus its publish time) measures that and is reported.

use std::fmt::Write as _;

use domain::{Registry, SensorSpec};

/// Value variants per pair (the value cycles through them).
const VARIANTS: usize = 8;

/// One (sensor, metric) with its pre-encoded JSON fragments.
#[derive(Debug, Clone)]
struct Pair {
    /// `{"sensor":"..","metric":"..","value":`
    head: String,
    /// `,"unit":".."` (the metric's canonical unit symbol).
    unit: String,
    /// Plausible values, already formatted.
    values: [String; VARIANTS],
}

/// A publishing gateway: its pairs and its timestamp cursor.
#[derive(Debug, Clone)]
pub struct Gateway {
    id: String,
    pairs: Vec<Pair>,
    /// First millisecond not used by an earlier message.
    next_free_ms: i64,
    /// Messages built so far (drives the value variants).
    built: u64,
}

/// A message ready to publish.
#[derive(Debug, Clone)]
pub struct Built {
    /// JSON payload.
    pub payload: Vec<u8>,
    /// Observations in it.
    pub observations: usize,
    /// Its last observation timestamp minus the publish time, ms (> 0: the
    /// gateway ran ahead of the clock).
    pub lead_ms: i64,
}

/// The synthetic city the load run and `citybrain serve` agree on.
pub fn city(seed: u64, grid: u32) -> Registry {
    let mut spec = twin::synthetic::SyntheticSpec::small(seed);
    spec.grid_x = grid;
    spec.grid_y = grid;
    twin::synthetic::generate(&spec).registry
}

/// The `n` gateways with the most pairs (ties by id), so the publishers
/// reach high rates with short spans.
pub fn busiest_gateways(reg: &Registry, n: usize) -> Vec<Gateway> {
    let mut gws: Vec<Gateway> = reg
        .gateways()
        .map(|g| Gateway::new(g.id.as_str(), reg.sensors_of(&g.id)))
        .filter(|g| !g.pairs.is_empty())
        .collect();
    gws.sort_by(|a, b| b.pairs.len().cmp(&a.pairs.len()).then(a.id.cmp(&b.id)));
    gws.truncate(n);
    gws
}

/// A plausible range for a metric's canonical unit (keeps alarm rules quiet).
fn typical(metric: &str, min: f64, max: f64) -> (f64, f64) {
    match metric {
        "flow" => (100.0, 900.0),
        "count" => (5.0, 60.0),
        "speed" => (20.0, 60.0),
        "occupancy" => (5.0, 40.0),
        "pm25" => (4.0, 30.0),
        "pm10" | "no2" => (8.0, 45.0),
        "o3" => (20.0, 70.0),
        "aqi" => (15.0, 60.0),
        "temperature" => (-5.0, 22.0),
        "humidity" => (40.0, 90.0),
        "power" => (0.2, 6.0),
        "energy" => (1_000.0, 9_000.0),
        "voltage" => (225.0, 235.0),
        "pv_power" => (0.0, 4.0),
        "irradiance" => (50.0, 700.0),
        "water_level" => (0.4, 1.6),
        "water_flow" => (5.0, 60.0),
        "rainfall" => (0.0, 3.0),
        "battery" => (40.0, 100.0),
        _ => (min, min + (max - min) / 100.0),
    }
}

impl Gateway {
    /// A gateway and the known metrics of its sensors.
    pub fn new<'a>(id: &str, sensors: impl Iterator<Item = &'a SensorSpec>) -> Self {
        let mut pairs = Vec::new();
        for s in sensors {
            for m in &s.metrics {
                let Some(info) = m.info() else { continue };
                let (lo, hi) = typical(m.as_str(), info.min, info.max);
                let values = std::array::from_fn(|k| {
                    #[allow(clippy::cast_precision_loss)]
                    let v = lo + (hi - lo) * k as f64 / (VARIANTS - 1) as f64;
                    format!("{v:.2}")
                });
                pairs.push(Pair {
                    head: format!(
                        r#"{{"sensor":"{}","metric":"{}","value":"#,
                        s.id.as_str(),
                        m.as_str()
                    ),
                    unit: format!(r#","unit":"{}""#, info.unit.symbol()),
                    values,
                });
            }
        }
        Self {
            id: id.to_owned(),
            pairs,
            next_free_ms: i64::MIN,
            built: 0,
        }
    }

    /// The gateway id (its MQTT username).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Number of (sensor, metric) pairs.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }

    /// `citybrain/v1/{gateway}/obs`.
    pub fn topic(&self) -> String {
        format!("citybrain/v1/{}/obs", self.id)
    }

    /// Milliseconds one message of `batch` observations spans.
    pub fn span_ms(&self, batch: usize) -> i64 {
        i64::try_from(batch.div_ceil(self.pairs.len().max(1))).unwrap_or(i64::MAX)
    }

    /// Builds the next message of `batch` observations, published at `now_ms`.
    /// Every fourth record carries its (canonical) unit, as gateways often do.
    pub fn message(&mut self, now_ms: i64, batch: usize) -> Built {
        let p = self.pairs.len().max(1);
        let span = self.span_ms(batch);
        let start = self.next_free_ms.max(now_ms - span + 1);
        self.next_free_ms = start + span;
        let variant = usize::try_from(self.built % VARIANTS as u64).unwrap_or(0);
        self.built += 1;
        let mut out = String::with_capacity(32 + batch * 96);
        let _ = write!(out, r#"{{"ts":{start},"obs":["#);
        let mut last = start;
        for j in 0..batch {
            let pair = &self.pairs[j % p];
            let ts = start + i64::try_from(j / p).unwrap_or(0);
            last = ts;
            if j > 0 {
                out.push(',');
            }
            out.push_str(&pair.head);
            out.push_str(&pair.values[(variant + j / p) % VARIANTS]);
            if j % 4 == 0 {
                out.push_str(&pair.unit);
            }
            if ts != start {
                let _ = write!(out, r#","ts":{ts}"#);
            }
            out.push('}');
        }
        out.push_str("]}");
        Built {
            payload: out.into_bytes(),
            observations: batch,
            lead_ms: last - now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use domain::Timestamp;

    use super::*;

    fn ctx(reg: &Registry) -> ingest::DecodeContext {
        ingest::DecodeContext {
            registry: reg.clone(),
            fiware_apikeys: BTreeMap::new(),
            limits: ingest::Limits::default(),
            unknown_sensors: ingest::UnknownSensorPolicy::Reject,
        }
    }

    #[test]
    fn messages_decode_without_dead_letters_and_never_repeat_a_key() {
        let reg = city(11, 4);
        let ctx = ctx(&reg);
        let mut gws = busiest_gateways(&reg, 4);
        assert_eq!(gws.len(), 4);
        let mut sp = ingest::SparkplugState::default();
        let mut keys = BTreeSet::new();
        let now = 1_767_225_600_000;
        for (g, gw) in gws.iter_mut().enumerate() {
            // three messages in the same millisecond, then one later
            for (k, at) in [now, now, now, now + 1_000].into_iter().enumerate() {
                let m = gw.message(at, 500);
                let d = ingest::decode(&gw.topic(), &m.payload, Timestamp(at), &ctx, &mut sp);
                assert!(
                    d.dead_letters.is_empty(),
                    "gateway {g} message {k}: {:?}",
                    d.dead_letters.first()
                );
                assert_eq!(d.observations.len(), 500);
                for o in &d.observations {
                    assert!(keys.insert(o.key()), "repeated key {o:?}");
                    assert!(
                        o.ts.0 <= at + m.lead_ms,
                        "{o:?} after the message's last ts"
                    );
                }
            }
        }
        assert_eq!(keys.len(), 4 * 4 * 500);
    }

    #[test]
    fn a_message_ends_at_its_publish_time_unless_the_gateway_outruns_its_pairs() {
        let reg = city(11, 4);
        let mut gw = busiest_gateways(&reg, 1).remove(0);
        let span = gw.span_ms(500);
        assert!(span >= 1);
        let t = 1_767_225_600_000;
        let first = gw.message(t, 500);
        assert_eq!(first.lead_ms, 0, "a fresh gateway stamps up to now");
        // a second message in the same millisecond must move past the first span
        let second = gw.message(t, 500);
        assert_eq!(second.lead_ms, span);
        // after a pause long enough, the gateway is back on the clock
        let later = gw.message(t + 10 * span, 500);
        assert_eq!(later.lead_ms, 0);
    }

    #[test]
    fn the_busiest_gateways_come_first() {
        let reg = city(11, 4);
        let gws = busiest_gateways(&reg, 100);
        assert!(gws.windows(2).all(|w| w[0].pairs() >= w[1].pairs()));
        let total: usize = reg
            .sensors()
            .map(|s| s.metrics.iter().filter(|m| m.info().is_some()).count())
            .sum();
        assert_eq!(gws.iter().map(Gateway::pairs).sum::<usize>(), total);
    }
}
