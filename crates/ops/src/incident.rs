//! The incident lifecycle, SLA due times and the audit trail.

use domain::{EntityId, LatLon, Priority, Timestamp};
use serde::{Deserialize, Serialize};

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncidentState {
    /// Reported, nobody assigned yet.
    Reported,
    /// A team is assigned.
    Dispatched,
    /// The team is working on it.
    InProgress,
    /// Fixed; awaiting verification.
    Resolved,
    /// Verified and closed.
    Closed,
    /// Raised to a higher level; must be dispatched again.
    Escalated,
    /// Reopened after resolution or closure.
    Reopened,
}

impl IncidentState {
    /// The wire name (`IN_PROGRESS`).
    pub const fn as_str(self) -> &'static str {
        match self {
            IncidentState::Reported => "REPORTED",
            IncidentState::Dispatched => "DISPATCHED",
            IncidentState::InProgress => "IN_PROGRESS",
            IncidentState::Resolved => "RESOLVED",
            IncidentState::Closed => "CLOSED",
            IncidentState::Escalated => "ESCALATED",
            IncidentState::Reopened => "REOPENED",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Reported,
            Self::Dispatched,
            Self::InProgress,
            Self::Resolved,
            Self::Closed,
            Self::Escalated,
            Self::Reopened,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether work on it is finished (resolved or closed).
    pub const fn is_done(self) -> bool {
        matches!(self, IncidentState::Resolved | IncidentState::Closed)
    }
}

/// What an operator (or the system) does to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Assign a team.
    Dispatch,
    /// The team starts work.
    Start,
    /// The work is done.
    Resolve,
    /// Verified; close.
    Close,
    /// Raise to a higher level.
    Escalate,
    /// Open again.
    Reopen,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 6] = [
        Action::Dispatch,
        Action::Start,
        Action::Resolve,
        Action::Close,
        Action::Escalate,
        Action::Reopen,
    ];

    /// The state this action leads to from `from`, or `None` if not allowed.
    pub const fn target(self, from: IncidentState) -> Option<IncidentState> {
        use IncidentState as S;
        match (self, from) {
            (Action::Dispatch, S::Reported | S::Escalated | S::Reopened) => Some(S::Dispatched),
            (Action::Start, S::Dispatched | S::Escalated | S::Reopened) => Some(S::InProgress),
            (Action::Resolve, S::InProgress) => Some(S::Resolved),
            (Action::Close, S::Resolved) => Some(S::Closed),
            (Action::Escalate, S::Reported | S::Dispatched | S::InProgress | S::Reopened) => {
                Some(S::Escalated)
            }
            (Action::Reopen, S::Resolved | S::Closed) => Some(S::Reopened),
            _ => None,
        }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Dispatch => "dispatch",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::Close => "close",
            Action::Escalate => "escalate",
            Action::Reopen => "reopen",
        }
    }
}

/// How an incident came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IncidentSource {
    /// Opened by an alarm.
    Alarm {
        /// The alarm id.
        alarm_id: u64,
    },
    /// A citizen or IoT event report.
    Report {
        /// The report's id.
        report_id: String,
        /// Its channel (`citizen_call`, `app`, `iot_alarm`, `patrol`).
        channel: domain::EventChannel,
    },
    /// Created by an operator through the API.
    Operator,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who (token name or `system`).
    pub actor: String,
    /// What (`create`, or an action's wire name).
    pub action: String,
    /// State before.
    pub from: Option<IncidentState>,
    /// State after.
    pub to: IncidentState,
    /// Free text.
    pub note: Option<String>,
}

/// SLA resolution targets per priority, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    /// P1 target.
    pub p1_minutes: u32,
    /// P2 target.
    pub p2_minutes: u32,
    /// P3 target.
    pub p3_minutes: u32,
    /// P4 target.
    pub p4_minutes: u32,
}

impl Default for SlaPolicy {
    /// 2 h, 8 h, 3 days and 7 days: typical municipal hotline deadlines.
    fn default() -> Self {
        Self {
            p1_minutes: 120,
            p2_minutes: 480,
            p3_minutes: 3 * 1440,
            p4_minutes: 7 * 1440,
        }
    }
}

impl SlaPolicy {
    /// When an incident of `priority` created at `created` is due.
    pub fn due(&self, priority: Priority, created: Timestamp) -> Timestamp {
        let m = match priority {
            Priority::P1 => self.p1_minutes,
            Priority::P2 => self.p2_minutes,
            Priority::P3 => self.p3_minutes,
            Priority::P4 => self.p4_minutes,
        };
        Timestamp(created.0 + i64::from(m) * 60_000)
    }
}

/// What is needed to open an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    /// Type (`air_quality`, `flooding`, `pothole`, ...).
    pub kind: String,
    /// Short title.
    pub title: String,
    /// Priority.
    pub priority: Priority,
    /// Community it belongs to.
    pub community: Option<EntityId>,
    /// Where.
    pub location: Option<LatLon>,
    /// H3 cell (res 9) of the location, for scoping.
    pub cell: Option<u64>,
    /// Team, if known.
    pub team: Option<String>,
    /// Origin.
    pub source: IncidentSource,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Incident id.
    pub id: u64,
    /// Type.
    pub kind: String,
    /// Short title.
    pub title: String,
    /// Priority.
    pub priority: Priority,
    /// Current state.
    pub state: IncidentState,
    /// Community.
    pub community: Option<EntityId>,
    /// Location.
    pub location: Option<LatLon>,
    /// H3 cell (res 9).
    pub cell: Option<u64>,
    /// Assigned team.
    pub team: Option<String>,
    /// Origin.
    pub source: IncidentSource,
    /// When reported.
    pub created_at: Timestamp,
    /// When due.
    pub sla_due: Timestamp,
    /// First dispatch.
    pub dispatched_at: Option<Timestamp>,
    /// Last resolution.
    pub resolved_at: Option<Timestamp>,
    /// Last closure.
    pub closed_at: Option<Timestamp>,
    /// Every change, oldest first.
    pub audit: Vec<AuditEntry>,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action is not allowed from the current state.
    #[error("cannot {action} an incident that is {from}", action = .action.as_str(), from = .from.as_str())]
    NotAllowed {
        /// The action.
        action: Action,
        /// The current state.
        from: IncidentState,
    },
    /// Dispatch needs a team when none is assigned.
    #[error("dispatch needs a team")]
    NoTeam,
    /// The action is dated before the incident's last change.
    #[error("action at {at} is before the last change at {last}")]
    BeforeLastChange {
        /// Action time.
        at: Timestamp,
        /// Last change.
        last: Timestamp,
    },
}

impl Incident {
    /// Opens an incident in REPORTED at `now`.
    pub fn open(id: u64, new: NewIncident, now: Timestamp, sla: &SlaPolicy, actor: &str) -> Self {
        Self {
            id,
            sla_due: sla.due(new.priority, now),
            kind: new.kind,
            title: new.title,
            priority: new.priority,
            state: IncidentState::Reported,
            community: new.community,
            location: new.location,
            cell: new.cell,
            team: new.team,
            source: new.source,
            created_at: now,
            dispatched_at: None,
            resolved_at: None,
            closed_at: None,
            audit: vec![AuditEntry {
                at: now,
                actor: actor.to_owned(),
                action: "create".into(),
                from: None,
                to: IncidentState::Reported,
                note: None,
            }],
        }
    }

    /// Applies an action. Dispatch may set the team; escalation moves the SLA
    /// due time nowhere (the clock keeps running).
    pub fn transition(
        &mut self,
        action: Action,
        actor: &str,
        at: Timestamp,
        team: Option<String>,
        note: Option<String>,
    ) -> Result<IncidentState, TransitionError> {
        let to = action
            .target(self.state)
            .ok_or(TransitionError::NotAllowed {
                action,
                from: self.state,
            })?;
        let last = self.audit.last().map_or(self.created_at, |a| a.at);
        if at < last {
            return Err(TransitionError::BeforeLastChange { at, last });
        }
        if action == Action::Dispatch {
            if team.is_none() && self.team.is_none() {
                return Err(TransitionError::NoTeam);
            }
            if team.is_some() {
                self.team = team;
            }
            self.dispatched_at.get_or_insert(at);
        }
        match action {
            Action::Resolve => self.resolved_at = Some(at),
            Action::Close => self.closed_at = Some(at),
            Action::Reopen => {
                self.resolved_at = None;
                self.closed_at = None;
            }
            _ => {}
        }
        self.audit.push(AuditEntry {
            at,
            actor: actor.to_owned(),
            action: action.as_str().to_owned(),
            from: Some(self.state),
            to,
            note,
        });
        self.state = to;
        Ok(to)
    }

    /// The actions allowed now.
    pub fn allowed_actions(&self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| a.target(self.state).is_some())
            .collect()
    }

    /// Whether it is past due and not resolved at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        !self.state.is_done() && now > self.sla_due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewIncident {
        NewIncident {
            kind: "flooding".into(),
            title: "Water above warning level".into(),
            priority: Priority::P2,
            community: None,
            location: None,
            cell: None,
            team: None,
            source: IncidentSource::Alarm { alarm_id: 7 },
        }
    }

    #[test]
    fn the_happy_path_records_every_step() {
        let mut i = Incident::open(1, new(), Timestamp(0), &SlaPolicy::default(), "system");
        assert_eq!(i.sla_due, Timestamp(480 * 60_000));
        i.transition(
            Action::Dispatch,
            "op",
            Timestamp(60_000),
            Some("water-team".into()),
            None,
        )
        .unwrap();
        i.transition(Action::Start, "op", Timestamp(120_000), None, None)
            .unwrap();
        i.transition(
            Action::Resolve,
            "op",
            Timestamp(600_000),
            None,
            Some("pumped".into()),
        )
        .unwrap();
        i.transition(Action::Close, "op", Timestamp(700_000), None, None)
            .unwrap();
        assert_eq!(i.state, IncidentState::Closed);
        assert_eq!(i.dispatched_at, Some(Timestamp(60_000)));
        assert_eq!(i.resolved_at, Some(Timestamp(600_000)));
        let steps: Vec<&str> = i.audit.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(steps, ["create", "dispatch", "start", "resolve", "close"]);
    }

    #[test]
    fn illegal_transitions_are_refused_and_change_nothing() {
        let mut i = Incident::open(1, new(), Timestamp(0), &SlaPolicy::default(), "system");
        let before = i.clone();
        assert_eq!(
            i.transition(Action::Close, "op", Timestamp(1), None, None),
            Err(TransitionError::NotAllowed {
                action: Action::Close,
                from: IncidentState::Reported
            })
        );
        assert_eq!(
            i.transition(Action::Dispatch, "op", Timestamp(1), None, None),
            Err(TransitionError::NoTeam)
        );
        assert_eq!(i, before);
    }

    #[test]
    fn reopen_clears_resolution_and_escalation_requires_redispatch() {
        let mut i = Incident::open(1, new(), Timestamp(0), &SlaPolicy::default(), "system");
        i.transition(Action::Dispatch, "op", Timestamp(1), Some("t".into()), None)
            .unwrap();
        i.transition(Action::Escalate, "op", Timestamp(2), None, None)
            .unwrap();
        assert_eq!(i.allowed_actions(), vec![Action::Dispatch, Action::Start]);
        i.transition(Action::Start, "op", Timestamp(3), None, None)
            .unwrap();
        i.transition(Action::Resolve, "op", Timestamp(4), None, None)
            .unwrap();
        i.transition(Action::Reopen, "op", Timestamp(5), None, None)
            .unwrap();
        assert_eq!(i.resolved_at, None);
        assert_eq!(i.state, IncidentState::Reopened);
        assert!(
            i.transition(Action::Start, "op", Timestamp(4), None, None)
                .is_err()
        );
    }

    #[test]
    fn every_state_has_a_way_forward_except_closed_which_can_reopen() {
        for s in [
            "REPORTED",
            "DISPATCHED",
            "IN_PROGRESS",
            "RESOLVED",
            "CLOSED",
            "ESCALATED",
            "REOPENED",
        ] {
            let st = IncidentState::parse(s).unwrap();
            assert_eq!(st.as_str(), s);
            assert!(
                Action::ALL.iter().any(|a| a.target(st).is_some()),
                "{s} is a dead end"
            );
        }
    }
}
