//! The store's one error type, and the retry classification the writer's
//! back-off relies on.

use std::io;

use domain::{EntityId, SensorId};

/// Why a store operation failed.
///
/// [`Error::is_retryable`] separates outages (retry the same batch later, do not
/// acknowledge the MQTT messages) from faults that a retry cannot cure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid; nothing was opened.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// Creating the SQLite data folder failed.
    #[error("failed to create the data folder {path}")]
    DataDir {
        /// The folder.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// Opening the pool (the first connection) failed.
    #[error("failed to connect to {target}")]
    Connect {
        /// The database, with any password removed.
        target: String,
        /// The driver error.
        source: sqlx::Error,
    },
    /// Running the embedded migrations failed.
    #[error("failed to migrate the {backend} schema")]
    Migrate {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The migration error.
        source: sqlx::migrate::MigrateError,
    },
    /// A statement or transaction failed.
    #[error("store operation {op} failed")]
    Query {
        /// The public operation (`insert_batch`, `rollups`, ...).
        op: &'static str,
        /// The driver error.
        source: sqlx::Error,
    },
    /// A stored value does not decode into the domain type (the database was
    /// edited by hand or by a newer version).
    #[error("stored {what} {value:?} is not valid")]
    Corrupt {
        /// What was being decoded (`sensor id`, `sensor kind`, ...).
        what: &'static str,
        /// The offending value (truncated).
        value: String,
    },
    /// An entity to store is invalid.
    #[error("entity {id} is invalid: {reason}")]
    InvalidEntity {
        /// The entity.
        id: EntityId,
        /// Why.
        reason: String,
    },
    /// A sensor to store is invalid.
    #[error("sensor {id} is invalid: {reason}")]
    InvalidSensor {
        /// The sensor.
        id: SensorId,
        /// Why.
        reason: String,
    },
    /// A cell id passed to a query is not a valid H3 cell.
    #[error("{0:#x} is not a valid H3 cell index")]
    InvalidCell(u64),
    /// Hashing a gateway password failed.
    #[error("failed to hash the password of gateway {gateway}")]
    Hash {
        /// The gateway.
        gateway: String,
        /// What the hasher said.
        reason: String,
    },
    /// A blocking helper task (password hashing) panicked or was cancelled.
    #[error("background task of {op} failed")]
    Task {
        /// The operation.
        op: &'static str,
        /// The join error.
        source: tokio::task::JoinError,
    },
}

impl Error {
    /// Whether retrying the same operation later may succeed: the connection was
    /// lost or refused, the pool timed out, the server is shutting down or
    /// starting, or the database was busy or hit a serialization conflict.
    /// Constraint violations, migration and configuration errors are not
    /// retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { source, .. } | Error::Query { source, .. } => sqlx_retryable(source),
            Error::Config(_)
            | Error::DataDir { .. }
            | Error::Migrate { .. }
            | Error::Corrupt { .. }
            | Error::InvalidEntity { .. }
            | Error::InvalidSensor { .. }
            | Error::InvalidCell(_)
            | Error::Hash { .. }
            | Error::Task { .. } => false,
        }
    }

    /// A short low-cardinality label for metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::DataDir { .. } => "data_dir",
            Error::Connect { .. } => "connect",
            Error::Migrate { .. } => "migrate",
            Error::Query { .. } if self.is_retryable() => "query_retryable",
            Error::Query { .. } => "query",
            Error::Corrupt { .. } => "corrupt",
            Error::InvalidEntity { .. } => "invalid_entity",
            Error::InvalidSensor { .. } => "invalid_sensor",
            Error::InvalidCell(_) => "invalid_cell",
            Error::Hash { .. } => "hash",
            Error::Task { .. } => "task",
        }
    }

    pub(crate) fn corrupt(what: &'static str, value: impl AsRef<str>) -> Self {
        Error::Corrupt {
            what,
            value: value.as_ref().chars().take(128).collect(),
        }
    }
}

/// PostgreSQL SQLSTATEs that mean "the server or this session is going away or
/// is not ready yet": connection exceptions (class 08), operator intervention
/// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now),
/// insufficient resources (class 53), and transaction rollbacks caused by
/// concurrency (40001 serialization failure, 40P01 deadlock).
fn pg_state_retryable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
}

/// SQLite primary result codes (the low byte of the extended code) that mean
/// "try again": `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6).
fn sqlite_code_retryable(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

fn sqlx_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else { return false };
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_code_retryable(&code)
            } else {
                pg_state_retryable(&code)
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(source: sqlx::Error) -> Error {
        Error::Query { op: "test", source }
    }

    #[test]
    fn outages_are_retryable() {
        assert!(q(sqlx::Error::PoolTimedOut).is_retryable());
        assert!(
            q(sqlx::Error::Io(io::Error::from(
                io::ErrorKind::ConnectionReset
            )))
            .is_retryable()
        );
        assert!(
            Error::Connect {
                target: "x".into(),
                source: sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused)),
            }
            .is_retryable()
        );
    }

    #[test]
    fn faults_are_not_retryable() {
        assert!(!q(sqlx::Error::RowNotFound).is_retryable());
        assert!(!q(sqlx::Error::PoolClosed).is_retryable());
        assert!(!Error::Config("x".into()).is_retryable());
        assert!(!Error::InvalidCell(0).is_retryable());
    }

    #[test]
    fn sqlstates_and_sqlite_codes_are_classified() {
        for code in [
            "57P01", "57P03", "08006", "08001", "53300", "40001", "40P01",
        ] {
            assert!(pg_state_retryable(code), "{code}");
        }
        for code in ["23505", "23503", "42P01", "22021", "XX000"] {
            assert!(!pg_state_retryable(code), "{code}");
        }
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (517), SQLITE_LOCKED
        for code in ["5", "517", "6"] {
            assert!(sqlite_code_retryable(code), "{code}");
        }
        // SQLITE_CONSTRAINT_FOREIGNKEY (787), SQLITE_CONSTRAINT_PRIMARYKEY (1555), SQLITE_CORRUPT
        for code in ["787", "1555", "11", "x"] {
            assert!(!sqlite_code_retryable(code), "{code}");
        }
    }
}
