//! API tokens, roles and scopes.
//!
//! A token reads `cb_<id>_<secret>`: the id (16 hex digits) finds the record,
//! the whole token is checked against an argon2id hash (only the hash is
//! stored). A verified token is cached by its SHA-256 for a few minutes, so the
//! deliberately slow hash runs once per token, not once per request.
//!
//! Roles: **viewer** reads; **operator** also handles alarms and incidents and
//! edits alarm rules and NGSI-LD entities; **planner** also runs scenarios and
//! enters indicator inputs; **admin** may do everything, including tokens.
//! A token may be scoped to communities (districts) and/or H3 cells: then it
//! may act only on incidents inside its scope. Reads are not scoped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use domain::EntityId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ApiError;

/// What a token may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read everything.
    Viewer,
    /// Handle alarms and incidents; edit alarm rules and NGSI-LD entities.
    Operator,
    /// Run scenarios; enter indicator inputs.
    Planner,
    /// Everything, including tokens and gateways.
    Admin,
}

impl Role {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Planner => "planner",
            Role::Admin => "admin",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Role::Viewer, Role::Operator, Role::Planner, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A right checked by handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read anything.
    Read,
    /// Acknowledge alarms; create and move incidents.
    HandleIncidents,
    /// Create, change and delete alarm rules.
    EditRules,
    /// Create, change and delete NGSI-LD entities and subscriptions.
    WriteEntities,
    /// Run scenarios.
    RunScenarios,
    /// Enter indicator inputs.
    EditIndicators,
    /// Read dead letters and the audit log.
    ReadDiagnostics,
    /// Manage tokens and gateways.
    Admin,
}

impl Permission {
    fn allowed(self, role: Role) -> bool {
        use Permission as P;
        match role {
            Role::Admin => true,
            Role::Viewer => self == P::Read,
            Role::Operator => matches!(
                self,
                P::Read | P::HandleIncidents | P::EditRules | P::WriteEntities | P::ReadDiagnostics
            ),
            Role::Planner => matches!(
                self,
                P::Read | P::RunScenarios | P::EditIndicators | P::WriteEntities
            ),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::HandleIncidents => "handle alarms and incidents",
            Permission::EditRules => "edit alarm rules",
            Permission::WriteEntities => "write entities and subscriptions",
            Permission::RunScenarios => "run scenarios",
            Permission::EditIndicators => "edit indicator inputs",
            Permission::ReadDiagnostics => "read dead letters and the audit log",
            Permission::Admin => "administer tokens and gateways",
        }
    }
}

/// Where a token may act. Empty lists mean everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scope {
    /// Community (district) entity ids.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub communities: Vec<EntityId>,
    /// H3 cells (any resolution), as 15-digit hex strings.
    #[serde(default)]
    pub cells: Vec<String>,
}

impl Scope {
    /// Whether the scope is unrestricted.
    pub fn is_everywhere(&self) -> bool {
        self.communities.is_empty() && self.cells.is_empty()
    }

    /// Whether something in `community` at `cell` is inside the scope. With a
    /// scope, something with neither community nor cell is outside it.
    pub fn covers(&self, community: Option<&EntityId>, cell: Option<u64>) -> bool {
        if self.is_everywhere() {
            return true;
        }
        if community.is_some_and(|c| self.communities.contains(c)) {
            return true;
        }
        let Some(cell) = cell.and_then(|c| h3o::CellIndex::try_from(c).ok()) else {
            return false;
        };
        self.cells
            .iter()
            .filter_map(|s| s.parse::<h3o::CellIndex>().ok())
            .any(|scope| {
                cell.resolution() >= scope.resolution()
                    && cell.parent(scope.resolution()) == Some(scope)
            })
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Token id, or `None` for anonymous access.
    pub token_id: Option<String>,
    /// Name of the token's holder (audit log).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Where it may act.
    pub scope: Scope,
}

impl Principal {
    /// The anonymous reader (when `anonymous_read` is on).
    pub fn anonymous() -> Self {
        Self {
            token_id: None,
            name: "anonymous".into(),
            role: Role::Viewer,
            scope: Scope::default(),
        }
    }

    /// Fails with 403 unless the role has `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if p.allowed(self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "role {} may not {}",
                self.role.as_str(),
                p.describe()
            )))
        }
    }

    /// Fails with 403 unless `community`/`cell` is inside the token's scope.
    pub fn require_scope(
        &self,
        community: Option<&EntityId>,
        cell: Option<u64>,
    ) -> Result<(), ApiError> {
        if self.scope.covers(community, cell) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "token {} is scoped to other districts or cells",
                self.token_id.as_deref().unwrap_or("anonymous")
            )))
        }
    }
}

/// A token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Token id.
    pub id: String,
    /// Holder's name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: Scope,
    /// argon2id PHC string of the whole token.
    pub hash: String,
    /// Revoked tokens never authenticate.
    pub revoked: bool,
}

/// Creates a new token: returns the token text (shown once) and its record.
pub fn issue(name: &str, role: Role, scope: Scope) -> Result<(String, TokenRecord), ApiError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let id = hex(&raw[..8]);
    let secret = hex(&raw[8..]);
    let token = format!("cb_{id}_{secret}");
    let hash = Argon2::default()
        .hash_password(token.as_bytes())
        .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))?
        .to_string();
    Ok((
        token,
        TokenRecord {
            id,
            name: name.to_owned(),
            role,
            scope,
            hash,
            revoked: false,
        },
    ))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Splits `cb_<id>_<secret>` into its id (`None` when it is not a
/// well-formed token).
pub fn token_id_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("cb_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16
        && secret.len() == 48
        && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_'))
    .then_some(id)
}

/// Verified tokens by the SHA-256 of their text (lookup only), with the
/// time of verification.
type VerifiedCache = HashMap<[u8; 32], (Principal, Instant)>;

/// The token registry with a verification cache. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    records: Arc<RwLock<HashMap<String, TokenRecord>>>,
    // lookup only; keyed by SHA-256 of the token text
    cache: Arc<Mutex<VerifiedCache>>,
}

const CACHE_TTL: Duration = Duration::from_secs(300);

impl Tokens {
    /// Registry with the given records.
    pub fn new(records: impl IntoIterator<Item = TokenRecord>) -> Self {
        let t = Self::default();
        for r in records {
            t.upsert(r);
        }
        t
    }

    /// Adds or replaces a record (revoking clears the cache).
    pub fn upsert(&self, r: TokenRecord) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
        if let Ok(mut m) = self.records.write() {
            m.insert(r.id.clone(), r);
        }
    }

    /// Every record, in id order.
    pub fn list(&self) -> Vec<TokenRecord> {
        let mut v: Vec<TokenRecord> = self
            .records
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Verifies a bearer token. Runs argon2 on a cache miss: call it off the
    /// async executor (`spawn_blocking`) when the cache may miss.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Ok(c) = self.cache.lock()
            && let Some((p, at)) = c.get(&key)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(p.clone());
        }
        let bad = || ApiError::Unauthorized("invalid or revoked token".into());
        let id = token_id_of(token).ok_or_else(bad)?;
        let rec = self
            .records
            .read()
            .ok()
            .and_then(|m| m.get(id).cloned())
            .ok_or_else(bad)?;
        if rec.revoked
            || Argon2::default()
                .verify_password(token.as_bytes(), rec.hash.as_str())
                .is_err()
        {
            return Err(bad());
        }
        let p = Principal {
            token_id: Some(rec.id),
            name: rec.name,
            role: rec.role,
            scope: rec.scope,
        };
        if let Ok(mut c) = self.cache.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(key, (p.clone(), Instant::now()));
        }
        Ok(p)
    }

    /// Whether `token` would hit the cache (so `verify` is fast).
    pub fn is_cached(&self, token: &str) -> bool {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.cache
            .lock()
            .is_ok_and(|c| c.get(&key).is_some_and(|(_, at)| at.elapsed() < CACHE_TTL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_revoked_ones_do_not() {
        let (tok, rec) = issue("ops-1", Role::Operator, Scope::default()).unwrap();
        assert!(tok.starts_with("cb_"));
        assert!(!rec.hash.contains(&tok));
        let tokens = Tokens::new([rec.clone()]);
        let p = tokens.verify(&tok).unwrap();
        assert_eq!(p.role, Role::Operator);
        assert!(tokens.is_cached(&tok));
        // a tampered token fails
        let mut bad = tok.clone();
        bad.pop();
        bad.push(if tok.ends_with('0') { '1' } else { '0' });
        assert!(matches!(
            tokens.verify(&bad),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            tokens.verify("nonsense"),
            Err(ApiError::Unauthorized(_))
        ));
        tokens.upsert(TokenRecord {
            revoked: true,
            ..rec
        });
        assert!(matches!(
            tokens.verify(&tok),
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[test]
    fn roles_grant_what_the_docs_say() {
        let p = |role| Principal {
            token_id: None,
            name: "x".into(),
            role,
            scope: Scope::default(),
        };
        assert!(p(Role::Viewer).require(Permission::Read).is_ok());
        assert!(
            p(Role::Viewer)
                .require(Permission::HandleIncidents)
                .is_err()
        );
        assert!(
            p(Role::Operator)
                .require(Permission::HandleIncidents)
                .is_ok()
        );
        assert!(p(Role::Operator).require(Permission::RunScenarios).is_err());
        assert!(p(Role::Planner).require(Permission::RunScenarios).is_ok());
        assert!(
            p(Role::Planner)
                .require(Permission::HandleIncidents)
                .is_err()
        );
        assert!(p(Role::Admin).require(Permission::Admin).is_ok());
        assert!(p(Role::Operator).require(Permission::Admin).is_err());
    }

    #[test]
    fn scopes_cover_their_communities_and_child_cells() {
        let home = EntityId::new("community-kamppi").unwrap();
        let other = EntityId::new("community-kallio").unwrap();
        let cell9 = h3o::LatLng::new(60.1699, 24.9384)
            .unwrap()
            .to_cell(h3o::Resolution::Nine);
        let cell7 = cell9.parent(h3o::Resolution::Seven).unwrap();
        let far = h3o::LatLng::new(31.23, 121.47)
            .unwrap()
            .to_cell(h3o::Resolution::Nine);
        let s = Scope {
            communities: vec![home.clone()],
            cells: vec![cell7.to_string()],
        };
        assert!(s.covers(Some(&home), None));
        assert!(!s.covers(Some(&other), None));
        assert!(s.covers(Some(&other), Some(u64::from(cell9))));
        assert!(!s.covers(None, Some(u64::from(far))));
        assert!(!s.covers(None, None));
        assert!(Scope::default().covers(None, None));
    }
}
