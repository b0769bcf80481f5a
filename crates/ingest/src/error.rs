//! The ingest adapter's errors.

use std::path::PathBuf;

/// A configuration value that cannot be used; `MqttConfig::build` reports the
/// first one found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `url` is not `mqtt://host:port` / `tcp://host:port`.
    #[error("invalid broker url {url:?}: expected mqtt://host[:port]")]
    InvalidUrl {
        /// The url.
        url: String,
    },
    /// The client id is empty or too long for MQTT (23+ bytes are allowed by most brokers, 256 here).
    #[error("client_id must be 1-256 bytes, got {len}")]
    ClientId {
        /// Its length.
        len: usize,
    },
    /// A topic filter is empty, has a misplaced wildcard, or is shared already.
    #[error("invalid topic filter {filter:?}: {why}")]
    TopicFilter {
        /// The filter.
        filter: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The shared-subscription group name holds `/`, `+`, `#` or is empty.
    #[error("invalid shared_group {group:?}: must be non-empty without / + #")]
    SharedGroup {
        /// The group.
        group: String,
    },
    /// A password is configured without a username.
    #[error("a password is set but no username")]
    PasswordWithoutUsername,
    /// Both `password` and `password_file` are set.
    #[error("set either password or password_file, not both")]
    TwoPasswords,
    /// The password file cannot be read.
    #[error("cannot read password_file {path}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A number is out of its allowed range.
    #[error("{field} = {value} is out of range ({allowed})")]
    OutOfRange {
        /// The config key.
        field: &'static str,
        /// The value.
        value: u64,
        /// The allowed range, in words.
        allowed: &'static str,
    },
}

/// A failure while running the ingest client or the embedded broker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection to the broker failed or dropped (the client retries).
    #[error("MQTT connection to {addr} failed")]
    Connect {
        /// Broker address.
        addr: String,
        /// Cause.
        source: rumqttc::v5::ConnectionError,
    },
    /// The client's request queue refused a request (subscribe, ack).
    #[error("MQTT client request {op} failed")]
    Request {
        /// What was asked.
        op: &'static str,
        /// Cause.
        source: Box<rumqttc::v5::ClientError>,
    },
    /// The receiver of deliveries was dropped: nobody consumes ingest's output.
    #[error("the delivery channel is closed")]
    ConsumerGone,
    /// The embedded broker could not start.
    #[error("embedded broker failed to start on {addr}: {reason}")]
    Broker {
        /// Listen address.
        addr: String,
        /// Cause.
        reason: String,
    },
}

impl Error {
    /// Whether retrying the same operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } => true,
            Error::Request { .. } => true,
            Error::ConsumerGone => false,
            Error::Broker { .. } => false,
        }
    }
}
