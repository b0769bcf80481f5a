//! Start-up: loading the token registry from the store, issuing the first
//! tokens of an empty installation, and building the whole [`AppState`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use store::{Store, TokenRow};
use tokio::sync::watch;
use twin::TwinSnapshot;

use crate::auth::{Role, Scope, TokenRecord, Tokens, issue};
use crate::config::{AuthConfig, HttpConfig, OpsConfig};
use crate::indicators::IndicatorService;
use crate::live::LiveHub;
use crate::ngsi::NgsiNotifier;
use crate::operations::{OpsError, OpsService};
use crate::scenarios::ScenarioService;
use crate::state::{AppState, Readiness};
use crate::util::now;

/// Why the API could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// A stored token record does not decode.
    #[error("stored token {id} is invalid: {reason}")]
    BadToken {
        /// Token id.
        id: String,
        /// Why.
        reason: String,
    },
    /// Issuing a token failed (no randomness, hashing).
    #[error("issuing a token failed: {0}")]
    Issue(String),
    /// Writing the bootstrap token file failed.
    #[error("cannot write the token file {path}")]
    TokenFile {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The operations centre did not load.
    #[error(transparent)]
    Ops(#[from] OpsError),
}

/// The stored form of a token record.
pub fn token_row(r: &TokenRecord) -> TokenRow {
    TokenRow {
        id: r.id.clone(),
        name: r.name.clone(),
        role: r.role.as_str().into(),
        scope: serde_json::to_value(&r.scope).unwrap_or_default(),
        hash: r.hash.clone(),
        revoked: r.revoked,
        created_at: now(),
    }
}

/// A token record from its stored form.
pub fn token_record(r: &TokenRow) -> Result<TokenRecord, StartError> {
    let bad = |reason: String| StartError::BadToken {
        id: r.id.clone(),
        reason,
    };
    Ok(TokenRecord {
        id: r.id.clone(),
        name: r.name.clone(),
        role: Role::parse(&r.role).ok_or_else(|| bad(format!("unknown role {:?}", r.role)))?,
        scope: serde_json::from_value::<Scope>(r.scope.clone()).map_err(|e| bad(e.to_string()))?,
        hash: r.hash.clone(),
        revoked: r.revoked,
    })
}

/// The token registry with every stored record.
pub async fn load_tokens(store: &Store) -> Result<Tokens, StartError> {
    let rows = store.api_tokens().await?;
    let records = rows
        .iter()
        .map(token_record)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Tokens::new(records))
}

/// When the store holds no token: issues one per role (named `bootstrap-<role>`,
/// unscoped), stores their hashes, and writes the tokens in clear as a JSON
/// object `{"viewer": "cb_…", "operator": …}` to `cfg.bootstrap_tokens_file`
/// (created with mode 0600) when set. Returns the tokens, or `None` when the
/// store already had tokens.
pub async fn bootstrap_tokens(
    store: &Store,
    cfg: &AuthConfig,
) -> Result<Option<BTreeMap<Role, String>>, StartError> {
    if !store.api_tokens().await?.is_empty() {
        return Ok(None);
    }
    let issued = tokio::task::spawn_blocking(|| {
        [Role::Viewer, Role::Operator, Role::Planner, Role::Admin]
            .into_iter()
            .map(|role| {
                issue(
                    &format!("bootstrap-{}", role.as_str()),
                    role,
                    Scope::default(),
                )
                .map(|(tok, rec)| (role, tok, rec))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| StartError::Issue(e.to_string()))?
    .map_err(|e| StartError::Issue(e.to_string()))?;
    let rows: Vec<TokenRow> = issued.iter().map(|(_, _, rec)| token_row(rec)).collect();
    store.upsert_api_tokens(&rows).await?;
    let out: BTreeMap<Role, String> = issued
        .into_iter()
        .map(|(role, tok, _)| (role, tok))
        .collect();
    if let Some(path) = &cfg.bootstrap_tokens_file {
        write_token_file(path, &out)?;
        tracing::info!(path = %path.display(), "Issued bootstrap API tokens.");
    }
    Ok(Some(out))
}

fn write_token_file(path: &Path, tokens: &BTreeMap<Role, String>) -> Result<(), StartError> {
    use std::io::Write;
    let err = |source| StartError::TokenFile {
        path: path.display().to_string(),
        source,
    };
    let body: BTreeMap<&str, &str> = tokens
        .iter()
        .map(|(r, t)| (r.as_str(), t.as_str()))
        .collect();
    let text = serde_json::to_string_pretty(&body).unwrap_or_default();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    f.write_all(text.as_bytes()).map_err(err)?;
    f.write_all(b"\n").map_err(err)
}

impl AppState {
    /// Builds the whole state: tokens from the store, the operations
    /// centre, the NGSI-LD notifier and the indicator service. `readiness`
    /// and `metrics` may be replaced afterwards (public fields).
    pub async fn load(
        snapshot: watch::Receiver<TwinSnapshot>,
        store: Store,
        live: LiveHub,
        http: HttpConfig,
        auth: AuthConfig,
        ops: &OpsConfig,
    ) -> Result<Self, StartError> {
        let tokens = load_tokens(&store).await?;
        let ops = OpsService::load(store.clone(), live.clone(), ops).await?;
        let ngsi = NgsiNotifier::load(store.clone()).await?;
        let indicators = IndicatorService::load(store.clone()).await?;
        let energy = crate::EnergyLive::new();
        indicators.attach_energy(&energy);
        Ok(Self {
            snapshot,
            store,
            live,
            tokens,
            readiness: Arc::new(Readiness::default()),
            metrics: Arc::new(String::new),
            http: Arc::new(http),
            auth: Arc::new(auth),
            ops,
            ngsi,
            indicators,
            energy,
            scenarios: ScenarioService::new(),
            cells_cache: Arc::default(),
        })
    }
}
