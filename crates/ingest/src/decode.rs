//! Topic + payload → observations, events, status changes and dead letters.
//!
//! Pure and synchronous: no clock (the receive time is passed in), no I/O, no
//! async, so it can be fuzzed and benchmarked in isolation. The contract is
//! `docs/specs/mqtt.md`.

mod event;
pub(crate) mod fiware;
mod json;
mod native;
mod senml;
pub(crate) mod sparkplug;
mod time;

use std::collections::BTreeMap;
use std::fmt;

use domain::{
    DeadLetter, EventReport, GatewayId, Metric, Observation, ObservationError, RegistryError,
    SensorId, SensorKind, SensorSpec, StatusChange, Timestamp, Unit,
};

use crate::{DecodeContext, UnknownSensorPolicy};

pub use fiware::FIWARE_ATTRIBUTES;
pub use sparkplug::SparkplugState;
pub use time::parse_rfc3339;

/// The payload format a topic implies; its label is the `format` of dead
/// letters and of `ingest_messages_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Format {
    /// `citybrain/v1/{gateway}/obs`: native JSON.
    Native,
    /// `citybrain/v1/{gateway}/senml`: SenML JSON (RFC 8428).
    Senml,
    /// `citybrain/v1/{gateway}/event`: event reports.
    Event,
    /// `citybrain/v1/{gateway}/status`: gateway birth/death and last will.
    Status,
    /// `/json/{apikey}/{device}/attrs[/{attr}]`: FIWARE IoT Agent JSON.
    Fiware,
    /// `spBv1.0/...`: Sparkplug B protobuf.
    Sparkplug,
    /// No scheme matched.
    #[default]
    Unknown,
}

impl Format {
    /// Every format, in a fixed order.
    pub const ALL: [Format; 7] = [
        Format::Native,
        Format::Senml,
        Format::Event,
        Format::Status,
        Format::Fiware,
        Format::Sparkplug,
        Format::Unknown,
    ];

    /// The label used in dead letters and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Senml => "senml",
            Format::Event => "event",
            Format::Status => "status",
            Format::Fiware => "fiware",
            Format::Sparkplug => "sparkplug",
            Format::Unknown => "unknown",
        }
    }

    /// The format a topic implies (without validating its id levels).
    pub fn of_topic(topic: &str) -> Format {
        let mut levels = topic.split('/');
        match (levels.next(), levels.next()) {
            (Some("citybrain"), Some("v1")) => match topic.rsplit('/').next() {
                Some("obs") => Format::Native,
                Some("senml") => Format::Senml,
                Some("event") => Format::Event,
                Some("status") => Format::Status,
                _ => Format::Unknown,
            },
            (Some(""), Some("json")) => Format::Fiware,
            (Some("spBv1.0"), _) => Format::Sparkplug,
            _ => Format::Unknown,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message or a record was rejected. The code (`as_str`) is the
/// `reason` label of `ingest_dead_letters_total` and the prefix of
/// [`DeadLetter::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // each code is documented in docs/specs/mqtt.md §10
pub enum Reason {
    UnknownTopic,
    PayloadTooLarge,
    InvalidUtf8,
    MalformedJson,
    JsonTooDeep,
    DuplicateKey,
    TooManyRecords,
    WrongType,
    MissingField,
    UnknownField,
    UnknownGateway,
    UnknownApikey,
    UnknownSensor,
    NotOwner,
    InvalidId,
    InvalidMetric,
    MetricNotRegistered,
    UnknownUnit,
    WrongUnit,
    NonFinite,
    OutOfRange,
    FromFuture,
    TooOld,
    BadTimestamp,
    UnsupportedValue,
    UnsupportedVersion,
    InvalidEvent,
    MalformedProtobuf,
    SparkplugSeq,
    UnknownAlias,
    StaleDeath,
}

impl Reason {
    /// Every reason, in a fixed order.
    pub const ALL: [Reason; 31] = [
        Reason::UnknownTopic,
        Reason::PayloadTooLarge,
        Reason::InvalidUtf8,
        Reason::MalformedJson,
        Reason::JsonTooDeep,
        Reason::DuplicateKey,
        Reason::TooManyRecords,
        Reason::WrongType,
        Reason::MissingField,
        Reason::UnknownField,
        Reason::UnknownGateway,
        Reason::UnknownApikey,
        Reason::UnknownSensor,
        Reason::NotOwner,
        Reason::InvalidId,
        Reason::InvalidMetric,
        Reason::MetricNotRegistered,
        Reason::UnknownUnit,
        Reason::WrongUnit,
        Reason::NonFinite,
        Reason::OutOfRange,
        Reason::FromFuture,
        Reason::TooOld,
        Reason::BadTimestamp,
        Reason::UnsupportedValue,
        Reason::UnsupportedVersion,
        Reason::InvalidEvent,
        Reason::MalformedProtobuf,
        Reason::SparkplugSeq,
        Reason::UnknownAlias,
        Reason::StaleDeath,
    ];

    /// The stable snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownTopic => "unknown_topic",
            Reason::PayloadTooLarge => "payload_too_large",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::MalformedJson => "malformed_json",
            Reason::JsonTooDeep => "json_too_deep",
            Reason::DuplicateKey => "duplicate_key",
            Reason::TooManyRecords => "too_many_records",
            Reason::WrongType => "wrong_type",
            Reason::MissingField => "missing_field",
            Reason::UnknownField => "unknown_field",
            Reason::UnknownGateway => "unknown_gateway",
            Reason::UnknownApikey => "unknown_apikey",
            Reason::UnknownSensor => "unknown_sensor",
            Reason::NotOwner => "not_owner",
            Reason::InvalidId => "invalid_id",
            Reason::InvalidMetric => "invalid_metric",
            Reason::MetricNotRegistered => "metric_not_registered",
            Reason::UnknownUnit => "unknown_unit",
            Reason::WrongUnit => "wrong_unit",
            Reason::NonFinite => "non_finite",
            Reason::OutOfRange => "out_of_range",
            Reason::FromFuture => "from_future",
            Reason::TooOld => "too_old",
            Reason::BadTimestamp => "bad_timestamp",
            Reason::UnsupportedValue => "unsupported_value",
            Reason::UnsupportedVersion => "unsupported_version",
            Reason::InvalidEvent => "invalid_event",
            Reason::MalformedProtobuf => "malformed_protobuf",
            Reason::SparkplugSeq => "sparkplug_seq",
            Reason::UnknownAlias => "unknown_alias",
            Reason::StaleDeath => "stale_death",
        }
    }

    /// The reason code at the start of a dead letter's `reason` text
    /// (`"unknown_sensor: ..."` → `UnknownSensor`).
    pub fn of(dead_letter: &DeadLetter) -> Option<Reason> {
        let code = dead_letter.reason.split(':').next()?;
        Reason::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something odd that did not cost data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A Sparkplug message's `seq` did not follow the previous one (a message
    /// from the edge node was lost or arrived out of order).
    SparkplugSeqGap {
        /// Sparkplug group id.
        group: String,
        /// Edge node id (the gateway).
        edge_node: String,
        /// The `seq` expected.
        expected: u8,
        /// The `seq` received.
        got: u8,
    },
    /// Event text longer than the limit was cut.
    TextTruncated {
        /// The event id.
        id: String,
        /// Original length, bytes.
        len: usize,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::SparkplugSeqGap {
                group,
                edge_node,
                expected,
                got,
            } => write!(
                f,
                "sparkplug seq gap on {group}/{edge_node}: expected {expected}, got {got}"
            ),
            Warning::TextTruncated { id, len } => {
                write!(f, "event {id} text of {len} bytes was truncated")
            }
        }
    }
}

/// Everything one MQTT message yielded. A wholly bad message gives exactly one
/// dead letter; a readable batch keeps its good records and gives one dead
/// letter per bad record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    /// The format the topic implied.
    pub format: Format,
    /// Valid observations, in the message's order, values in canonical units.
    pub observations: Vec<Observation>,
    /// Valid event reports.
    pub events: Vec<EventReport>,
    /// Gateway and device status changes (birth, death, last will).
    pub status: Vec<StatusChange>,
    /// Sensors created under [`UnknownSensorPolicy::AutoProvision`] (or known
    /// sensors whose metric list grew); store them with the observations.
    pub provisioned: Vec<SensorSpec>,
    /// Rejected messages or records, each with its reason.
    pub dead_letters: Vec<DeadLetter>,
    /// Oddities that cost no data.
    pub warnings: Vec<Warning>,
}

impl Decoded {
    /// Whether nothing at all came out (an empty batch).
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
            && self.events.is_empty()
            && self.status.is_empty()
            && self.provisioned.is_empty()
            && self.dead_letters.is_empty()
    }

    /// Appends another message's results (for batching several messages into
    /// one store transaction).
    pub fn extend(&mut self, other: Decoded) {
        self.observations.extend(other.observations);
        self.events.extend(other.events);
        self.status.extend(other.status);
        self.provisioned.extend(other.provisioned);
        self.dead_letters.extend(other.dead_letters);
        self.warnings.extend(other.warnings);
    }
}

/// Decodes one MQTT message. Never panics on any input; every problem becomes
/// a dead letter with a reason.
///
/// `received` is when the message arrived (the time window and missing
/// timestamps refer to it); `sparkplug` holds Sparkplug alias tables and
/// sequence numbers across messages.
pub fn decode(
    topic: &str,
    payload: &[u8],
    received: Timestamp,
    ctx: &DecodeContext,
    sparkplug: &mut SparkplugState,
) -> Decoded {
    let format = Format::of_topic(topic);
    let mut m = Msg::new(topic, payload, received, ctx, format);
    if payload.len() > ctx.limits.max_payload_bytes {
        m.reject(
            Reason::PayloadTooLarge,
            format_args!(
                "payload is {} bytes, the limit is {}",
                payload.len(),
                ctx.limits.max_payload_bytes
            ),
        );
        return m.finish();
    }
    match format {
        Format::Native | Format::Senml | Format::Event | Format::Status => {
            let levels: Vec<&str> = topic.split('/').collect();
            if levels.len() != 4 || domain::GatewayId::new(levels[2]).is_err() {
                m.reject(
                    Reason::UnknownTopic,
                    format_args!("expected citybrain/v1/{{gateway}}/{}", format.as_str()),
                );
                return m.finish();
            }
            if !m.set_gateway(levels[2]) {
                return m.finish();
            }
            match format {
                Format::Native => native::decode(&mut m),
                Format::Senml => senml::decode(&mut m),
                Format::Event => event::decode_events(&mut m),
                _ => event::decode_status(&mut m),
            }
        }
        Format::Fiware => fiware::decode(&mut m),
        Format::Sparkplug => sparkplug::decode(&mut m, sparkplug),
        Format::Unknown => m.reject(Reason::UnknownTopic, "no topic scheme matches"),
    }
    m.finish()
}

/// The message being decoded and what it yielded so far.
pub(crate) struct Msg<'a> {
    pub topic: &'a str,
    pub payload: &'a [u8],
    pub received: Timestamp,
    pub ctx: &'a DecodeContext,
    pub format: Format,
    pub gateway: Option<GatewayId>,
    out: Decoded,
    /// Index into `out.provisioned` by sensor id (lookups only).
    provisioned: BTreeMap<SensorId, usize>,
    /// Metric names seen in this message (a message repeats few of them):
    /// saves an allocation per record.
    metrics: Vec<Metric>,
}

impl<'a> Msg<'a> {
    fn new(
        topic: &'a str,
        payload: &'a [u8],
        received: Timestamp,
        ctx: &'a DecodeContext,
        format: Format,
    ) -> Self {
        Self {
            topic,
            payload,
            received,
            ctx,
            format,
            gateway: None,
            out: Decoded {
                format,
                ..Decoded::default()
            },
            provisioned: BTreeMap::new(),
            metrics: Vec::new(),
        }
    }

    fn finish(self) -> Decoded {
        self.out
    }

    /// Sets the publishing gateway; dead-letters the message and returns
    /// false when it is not registered.
    pub fn set_gateway(&mut self, id: &str) -> bool {
        match GatewayId::new(id) {
            Ok(g) if self.ctx.registry.gateway(g.as_str()).is_some() => {
                self.gateway = Some(g);
                true
            }
            Ok(g) => {
                self.reject(
                    Reason::UnknownGateway,
                    format_args!("gateway {g} is not registered"),
                );
                false
            }
            Err(e) => {
                self.reject(Reason::UnknownTopic, format_args!("gateway level: {e}"));
                false
            }
        }
    }

    /// Dead-letters the whole message.
    pub fn reject(&mut self, reason: Reason, detail: impl fmt::Display) {
        let dl = DeadLetter::new(
            self.topic,
            self.format.as_str(),
            self.payload,
            format!("{}: {detail}", reason.as_str()),
            self.received,
        );
        self.out.dead_letters.push(dl);
    }

    /// Dead-letters one record of the message, keeping the record's own bytes.
    pub fn reject_record(&mut self, reason: Reason, detail: impl fmt::Display, record: &[u8]) {
        let dl = DeadLetter::new(
            self.topic,
            self.format.as_str(),
            record,
            format!("{}: {detail}", reason.as_str()),
            self.received,
        );
        self.out.dead_letters.push(dl);
    }

    pub fn warn(&mut self, w: Warning) {
        self.out.warnings.push(w);
    }

    pub fn push_status(&mut self, s: StatusChange) {
        self.out.status.push(s);
    }

    pub fn push_event(&mut self, e: EventReport) {
        self.out.events.push(e);
    }

    /// Checks that the topic's gateway may publish for `sensor` (provisioning
    /// it under the auto-provision policy). `metric` is checked against the
    /// sensor's metric list when given.
    pub fn authorize(
        &mut self,
        sensor: &SensorId,
        metric: Option<&Metric>,
        kind_hint: SensorKind,
    ) -> Result<(), (Reason, String)> {
        let Some(gateway) = self.gateway.clone() else {
            return Err((Reason::UnknownGateway, "no gateway for this topic".into()));
        };
        if let Some(&i) = self.provisioned.get(sensor) {
            if let Some(m) = metric {
                let spec = &mut self.out.provisioned[i];
                if !spec.metrics.contains(m) {
                    spec.metrics.push(m.clone());
                }
            }
            return Ok(());
        }
        let auto = match self.ctx.unknown_sensors {
            UnknownSensorPolicy::Reject => None,
            UnknownSensorPolicy::AutoProvision { location } => Some(location),
        };
        match self.ctx.registry.authorize(&gateway, sensor) {
            Ok(spec) => match metric {
                Some(m) if !spec.metrics.is_empty() && !spec.metrics.contains(m) => {
                    if auto.is_some() {
                        let mut grown = spec.clone();
                        grown.metrics.push(m.clone());
                        self.provision(grown);
                        Ok(())
                    } else {
                        Err((
                            Reason::MetricNotRegistered,
                            format!("sensor {sensor} is not registered for metric {m}"),
                        ))
                    }
                }
                _ => Ok(()),
            },
            Err(RegistryError::UnknownSensor(_)) => match auto {
                Some(location) => {
                    let kind = metric
                        .and_then(Metric::info)
                        .map_or(kind_hint, |info| info.kind);
                    self.provision(SensorSpec {
                        id: sensor.clone(),
                        kind,
                        gateway,
                        location,
                        observes: None,
                        metrics: metric.into_iter().cloned().collect(),
                    });
                    Ok(())
                }
                None => Err((
                    Reason::UnknownSensor,
                    format!("sensor {sensor} is not registered"),
                )),
            },
            Err(e) => Err((Reason::NotOwner, e.to_string())),
        }
    }

    fn provision(&mut self, spec: SensorSpec) {
        self.provisioned
            .insert(spec.id.clone(), self.out.provisioned.len());
        self.out.provisioned.push(spec);
    }

    /// Validates one reading and keeps it, or dead-letters it with the
    /// record's bytes (built lazily: only on failure).
    pub fn observe(
        &mut self,
        reading: Reading<'_>,
        ts: Timestamp,
        record: impl FnOnce() -> Vec<u8>,
    ) {
        match self.check(reading, ts) {
            Ok(o) => self.out.observations.push(o),
            Err((reason, detail)) => self.reject_record(reason, detail, &record()),
        }
    }

    fn check(&mut self, r: Reading<'_>, ts: Timestamp) -> Result<Observation, (Reason, String)> {
        // a registered id is valid: share its allocation instead of re-checking
        let sensor = match self.ctx.registry.sensor(r.sensor) {
            Some(spec) => spec.id.clone(),
            None => SensorId::new(r.sensor).map_err(|e| (Reason::InvalidId, e.to_string()))?,
        };
        let metric = self.metric(r.metric)?;
        self.authorize(&sensor, Some(&metric), SensorKind::Other)?;
        let unit = match r.unit {
            UnitIn::None => None,
            UnitIn::Known(u) => Some(u),
            UnitIn::Text(t) => {
                Some(Unit::parse(t).map_err(|e| (Reason::UnknownUnit, e.to_string()))?)
            }
        };
        Observation::validated(
            sensor,
            metric,
            ts,
            r.value,
            unit,
            self.received,
            self.ctx.limits.window,
        )
        .map_err(|e| (obs_reason(&e), e.to_string()))
    }

    fn metric(&mut self, name: &str) -> Result<Metric, (Reason, String)> {
        if let Some(m) = self.metrics.iter().find(|m| m.as_str() == name) {
            return Ok(m.clone());
        }
        let m = Metric::new(name).map_err(|e| (Reason::InvalidMetric, e.to_string()))?;
        if self.metrics.len() < 64 {
            self.metrics.push(m.clone());
        }
        Ok(m)
    }

    /// Checks a data timestamp against the time window (for events).
    pub fn check_window(&self, ts: Timestamp) -> Result<(), (Reason, String)> {
        let w = self.ctx.limits.window;
        let ahead = ts.0.saturating_sub(self.received.0);
        if ahead > w.max_future_ms {
            return Err((
                Reason::FromFuture,
                format!(
                    "timestamp {ts} is {ahead} ms in the future (limit {} ms)",
                    w.max_future_ms
                ),
            ));
        }
        let behind = self.received.0.saturating_sub(ts.0);
        if behind > w.max_age_ms {
            return Err((
                Reason::TooOld,
                format!(
                    "timestamp {ts} is {behind} ms in the past (limit {} ms)",
                    w.max_age_ms
                ),
            ));
        }
        Ok(())
    }

    /// Checks the record count against the limit; dead-letters the message
    /// and returns false when over it.
    pub fn check_count(&mut self, n: usize) -> bool {
        if n > self.ctx.limits.max_records {
            self.reject(
                Reason::TooManyRecords,
                format_args!("{n} records, the limit is {}", self.ctx.limits.max_records),
            );
            false
        } else {
            true
        }
    }

    /// The payload as JSON, after the depth and duplicate-key scan; on failure
    /// the message is dead-lettered and `None` returned.
    pub fn json(&mut self) -> Option<serde_json::Value> {
        let text = match std::str::from_utf8(self.payload) {
            Ok(t) => t,
            Err(e) => {
                self.reject(Reason::InvalidUtf8, e);
                return None;
            }
        };
        if let Err(e) = json::scan(text, self.ctx.limits.max_json_depth) {
            let (reason, detail) = match e {
                json::ScanError::TooDeep { limit } => (
                    Reason::JsonTooDeep,
                    format!("JSON nests deeper than {limit} levels"),
                ),
                json::ScanError::DuplicateKey { key } => (
                    Reason::DuplicateKey,
                    format!("key {key:?} appears twice in one object"),
                ),
                json::ScanError::Malformed { offset } => (
                    Reason::MalformedJson,
                    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                        Err(se) => se.to_string(),
                        Ok(_) => format!("invalid JSON structure at byte {offset}"),
                    },
                ),
            };
            self.reject(reason, detail);
            return None;
        }
        match serde_json::from_str(text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.reject(Reason::MalformedJson, e);
                None
            }
        }
    }
}

/// A unit as it arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UnitIn<'a> {
    /// No unit: the metric's canonical unit.
    None,
    /// Already a unit (FIWARE mappings).
    Known(Unit),
    /// Text to parse.
    Text(&'a str),
}

/// One raw reading before validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub sensor: &'a str,
    pub metric: &'a str,
    pub value: f64,
    pub unit: UnitIn<'a>,
}

fn obs_reason(e: &ObservationError) -> Reason {
    match e {
        ObservationError::NonFinite { .. } => Reason::NonFinite,
        ObservationError::WrongUnit { .. } => Reason::WrongUnit,
        ObservationError::OutOfRange { .. } => Reason::OutOfRange,
        ObservationError::FromFuture { .. } => Reason::FromFuture,
        ObservationError::TooOld { .. } => Reason::TooOld,
    }
}

/// Describes a JSON value's type for error messages.
pub(crate) fn type_name(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Reads an optional integer millisecond timestamp field.
pub(crate) fn ms_field(
    v: Option<&serde_json::Value>,
    field: &str,
) -> Result<Option<Timestamp>, (Reason, String)> {
    match v {
        None => Ok(None),
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(ms) => Ok(Some(Timestamp(ms))),
            None => Err((
                Reason::BadTimestamp,
                format!("{field} must be integer milliseconds since the epoch, got {n}"),
            )),
        },
        Some(other) => Err((
            Reason::WrongType,
            format!("{field} must be a number, got {}", type_name(other)),
        )),
    }
}

#[cfg(test)]
mod tests;
