//! `[db]` configuration and [`DbConfig::build`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::store::{Db, Settings};
use crate::{Error, Store, migrate, telemetry};

/// Name of the default SQLite file inside [`DbConfig::data_dir`].
pub const DEFAULT_SQLITE_FILE: &str = "citybrain.db";

/// Database settings (the `[db]` section).
///
/// The default is an embedded SQLite file `citybrain.db` in `data_dir`, in WAL
/// mode with `synchronous = NORMAL` (a commit survives a process crash; a power
/// cut may lose the last commits, never corrupts). Set `url` to a
/// `postgres://` address for server mode.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbConfig {
    /// Database address. Unset: SQLite file `citybrain.db` in `data_dir`.
    /// `sqlite://PATH` (or `sqlite:PATH`): a SQLite file elsewhere.
    /// `postgres://USER:PASSWORD@HOST:PORT/DB`: PostgreSQL. Prefer the
    /// environment (`CITYBRAIN__DB__URL`) for a URL holding a password; it is
    /// redacted in logs.
    pub url: Option<String>,
    /// Folder of the default SQLite file, created if missing. Default `data`.
    pub data_dir: PathBuf,
    /// PostgreSQL only: the schema holding the tables, created if missing and
    /// put first on each connection's `search_path`. Unset: the server's
    /// default (`public`). Letters, digits and `_`, at most 63 bytes.
    pub schema: Option<String>,
    /// Most connections in the pool. SQLite serialises writers anyway; more
    /// connections help concurrent readers. Default 4.
    pub pool_size: u32,
    /// Seconds to wait for a connection (to connect, or for a free one in the
    /// pool) before failing with a retryable error. Default 10.
    pub acquire_timeout_secs: u64,
    /// Most rows per INSERT statement; bigger batches are split into several
    /// statements inside the same transaction. On SQLite it is further capped so
    /// a statement stays within 32,766 bound values. Default 1,000.
    pub batch_size: usize,
    /// SQLite only: milliseconds a writer waits for the database lock before a
    /// retryable "busy" error. Default 5,000.
    pub sqlite_busy_timeout_ms: u64,
    /// How long data is kept; see [`crate::Store::apply_retention`].
    pub retention: RetentionConfig,
}

/// Retention horizons in days; `0` keeps data forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days raw observations are kept. Default 30. Keep it longer than the
    /// ingest path's largest accepted observation age, or a redelivered
    /// observation whose first copy has expired would be stored (and rolled up)
    /// again.
    pub raw_days: u32,
    /// Days minute roll-ups are kept. Default 90.
    pub minute_rollup_days: u32,
    /// Days hour roll-ups are kept. Default 0 (forever).
    pub hour_rollup_days: u32,
    /// Days dead letters are kept. Default 30.
    pub dead_letter_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            raw_days: 30,
            minute_rollup_days: 90,
            hour_rollup_days: 0,
            dead_letter_days: 30,
        }
    }
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: None,
            data_dir: PathBuf::from("data"),
            schema: None,
            pool_size: 4,
            acquire_timeout_secs: 10,
            batch_size: 1000,
            sqlite_busy_timeout_ms: 5000,
            retention: RetentionConfig::default(),
        }
    }
}

impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("data_dir", &self.data_dir)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout_secs", &self.acquire_timeout_secs)
            .field("batch_size", &self.batch_size)
            .field("sqlite_busy_timeout_ms", &self.sqlite_busy_timeout_ms)
            .field("retention", &self.retention)
            .finish()
    }
}

/// Which database a URL names.
enum Target {
    Sqlite(SqliteConnectOptions, String),
    Postgres(PgConnectOptions, String),
}

impl DbConfig {
    /// Checks the settings without touching any database.
    pub fn validate(&self) -> Result<(), Error> {
        if self.pool_size == 0 {
            return Err(Error::Config("pool_size must be at least 1".into()));
        }
        if self.batch_size == 0 || self.batch_size > 100_000 {
            return Err(Error::Config(format!(
                "batch_size must be 1..=100000, got {}",
                self.batch_size
            )));
        }
        if self.acquire_timeout_secs == 0 {
            return Err(Error::Config(
                "acquire_timeout_secs must be at least 1".into(),
            ));
        }
        if let Some(s) = &self.schema {
            let ok = !s.is_empty()
                && s.len() <= 63
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !s.as_bytes()[0].is_ascii_digit();
            if !ok {
                return Err(Error::Config(format!(
                    "schema {s:?} must be 1-63 letters, digits or _, not starting with a digit"
                )));
            }
        }
        self.target().map(|_| ())
    }

    fn target(&self) -> Result<Target, Error> {
        let Some(url) = self.url.as_deref().filter(|u| !u.trim().is_empty()) else {
            let path = self.data_dir.join(DEFAULT_SQLITE_FILE);
            let shown = path.display().to_string();
            return Ok(Target::Sqlite(
                SqliteConnectOptions::new().filename(path),
                shown,
            ));
        };
        let shown = redact_url(url);
        if url.starts_with("sqlite:") {
            let o = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("bad SQLite URL {shown}: {e}")))?;
            Ok(Target::Sqlite(o, shown))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let o = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("bad PostgreSQL URL {shown}: {e}")))?;
            Ok(Target::Postgres(o, shown))
        } else {
            Err(Error::Config(format!(
                "url {shown} must start with sqlite: or postgres://"
            )))
        }
    }

    /// Connects, creates the schema if needed and runs the embedded migrations.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid settings, [`Error::Connect`] when the
    /// database cannot be reached (retryable), [`Error::Migrate`] when the
    /// schema cannot be brought up to date.
    pub async fn build(self) -> Result<Store, Error> {
        let r = self.build_inner().await;
        if let Err(e) = &r {
            telemetry::error("build", e);
        }
        r
    }

    async fn build_inner(self) -> Result<Store, Error> {
        self.validate()?;
        let timeout = Duration::from_secs(self.acquire_timeout_secs);
        let settings = Settings {
            batch_size: self.batch_size,
            retention: self.retention.clone(),
        };
        let db = match self.target()? {
            Target::Sqlite(opts, shown) => {
                if self.url.is_none() {
                    std::fs::create_dir_all(&self.data_dir).map_err(|source| Error::DataDir {
                        path: self.data_dir.display().to_string(),
                        source,
                    })?;
                }
                let opts = opts
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_millis(self.sqlite_busy_timeout_ms))
                    // statement journals (multi-row upserts) in memory, not in temp files
                    .pragma("temp_store", "memory")
                    // 64 MiB page cache per connection: the observation key index stays hot
                    .pragma("cache_size", "-65536");
                let pool = SqlitePoolOptions::new()
                    .max_connections(self.pool_size)
                    .acquire_timeout(timeout)
                    .connect_with(opts)
                    .await
                    .map_err(|source| Error::Connect {
                        target: shown.clone(),
                        source,
                    })?;
                migrate::sqlite()
                    .run(&pool)
                    .await
                    .map_err(|source| Error::Migrate {
                        backend: "sqlite",
                        source,
                    })?;
                tracing::info!(target = %shown, "Opened SQLite store.");
                Db::Sqlite(pool)
            }
            Target::Postgres(mut opts, shown) => {
                if let Some(schema) = &self.schema {
                    opts = opts.options([("search_path", schema.as_str())]);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(self.pool_size)
                    .acquire_timeout(timeout)
                    .test_before_acquire(true)
                    .connect_with(opts)
                    .await
                    .map_err(|source| Error::Connect {
                        target: shown.clone(),
                        source,
                    })?;
                if let Some(schema) = &self.schema {
                    // validated above: only [A-Za-z0-9_]
                    let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&pool)
                        .await
                        .map_err(|source| Error::Query {
                            op: "build",
                            source,
                        })?;
                }
                migrate::postgres()
                    .run(&pool)
                    .await
                    .map_err(|source| Error::Migrate {
                        backend: "postgres",
                        source,
                    })?;
                tracing::info!(target = %shown, schema = ?self.schema, "Opened PostgreSQL store.");
                Db::Postgres(pool)
            }
        };
        Ok(Store::new(db, settings))
    }
}

/// Removes the password from a URL's user info (`postgres://u:***@h/db`).
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end + 3],
        &userinfo[..colon],
        &rest[at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/city?sslmode=disable"),
            "postgres://app:***@db:5432/city?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://app@db/city"),
            "postgres://app@db/city"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
        let c = DbConfig {
            url: Some("postgres://a:pw@h/d".into()),
            ..DbConfig::default()
        };
        assert!(!format!("{c:?}").contains("pw"));
    }

    #[test]
    fn bad_settings_are_rejected_before_connecting() {
        let bad = [
            DbConfig {
                pool_size: 0,
                ..DbConfig::default()
            },
            DbConfig {
                batch_size: 0,
                ..DbConfig::default()
            },
            DbConfig {
                url: Some("mysql://x".into()),
                ..DbConfig::default()
            },
            DbConfig {
                schema: Some("a;drop".into()),
                ..DbConfig::default()
            },
            DbConfig {
                schema: Some("1abc".into()),
                ..DbConfig::default()
            },
        ];
        for c in bad {
            assert!(matches!(c.validate(), Err(Error::Config(_))), "{c:?}");
        }
        assert!(DbConfig::default().validate().is_ok());
    }

    #[test]
    fn config_parses_from_toml_and_rejects_unknown_keys() {
        let c: DbConfig = toml::from_str(
            "url = \"postgres://u@h/db\"\npool_size = 8\n[retention]\nraw_days = 7\n",
        )
        .unwrap();
        assert_eq!(c.pool_size, 8);
        assert_eq!(c.retention.raw_days, 7);
        assert_eq!(c.retention.minute_rollup_days, 90);
        assert!(toml::from_str::<DbConfig>("pool = 3").is_err());
        assert!(toml::from_str::<DbConfig>("[retention]\nraw = 3").is_err());
    }
}
