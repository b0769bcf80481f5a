//! Response and resolution metrics over a set of incidents.

use domain::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Incident, IncidentState};

/// Mean and percentiles of a duration, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Distribution {
    /// Number of values.
    pub count: usize,
    /// Mean (0 when empty).
    pub mean: f64,
    /// Median (nearest-rank).
    pub p50: f64,
    /// 90th percentile (nearest-rank).
    pub p90: f64,
}

impl Distribution {
    /// From unsorted values.
    #[allow(clippy::cast_precision_loss)]
    pub fn of(mut v: Vec<f64>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let rank = |p: f64| {
            // nearest-rank: the smallest value with at least p of the data at or below it
            let k = (p * n as f64).ceil().max(1.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            v[(k as usize).min(n) - 1]
        };
        Self {
            count: n,
            mean: v.iter().sum::<f64>() / n as f64,
            p50: rank(0.5),
            p90: rank(0.9),
        }
    }
}

/// Operations metrics over incidents created in a window.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IncidentMetrics {
    /// Incidents considered.
    pub total: usize,
    /// Report to first dispatch, s (dispatched incidents).
    pub response_time_s: Distribution,
    /// Report to resolution, s (resolved or closed incidents).
    pub resolution_time_s: Distribution,
    /// Resolved or closed / total (办结率).
    pub closure_rate: f64,
    /// Resolved no later than the SLA due time / total whose due time has
    /// passed or that are done (按期办结率).
    pub on_time_closure_rate: f64,
    /// Not yet resolved.
    pub backlog: usize,
    /// Not resolved and past due.
    pub overdue: usize,
    /// Share opened by IoT alarms or patrols rather than citizens.
    pub proactive_share: f64,
}

/// Computes the metrics over `incidents` as of `now`.
#[allow(clippy::cast_precision_loss)]
pub fn incident_metrics<'a>(
    incidents: impl IntoIterator<Item = &'a Incident>,
    now: Timestamp,
) -> IncidentMetrics {
    let mut m = IncidentMetrics::default();
    let (mut resp, mut resol) = (Vec::new(), Vec::new());
    let (mut done, mut due_or_done, mut on_time, mut proactive) = (0usize, 0usize, 0usize, 0usize);
    for i in incidents {
        m.total += 1;
        if let Some(d) = i.dispatched_at {
            resp.push((d.0 - i.created_at.0) as f64 / 1000.0);
        }
        let resolved = i.resolved_at.filter(|_| i.state.is_done());
        if let Some(r) = resolved {
            resol.push((r.0 - i.created_at.0) as f64 / 1000.0);
            done += 1;
            due_or_done += 1;
            if r <= i.sla_due {
                on_time += 1;
            }
        } else {
            m.backlog += 1;
            if i.is_overdue(now) {
                m.overdue += 1;
                due_or_done += 1;
            }
        }
        let is_proactive = match &i.source {
            crate::IncidentSource::Alarm { .. } => true,
            crate::IncidentSource::Report { channel, .. } => channel.is_proactive(),
            crate::IncidentSource::Operator => false,
        };
        proactive += usize::from(is_proactive);
        debug_assert!(i.state != IncidentState::Closed || i.closed_at.is_some());
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    m.response_time_s = Distribution::of(resp);
    m.resolution_time_s = Distribution::of(resol);
    m.closure_rate = ratio(done, m.total);
    m.on_time_closure_rate = ratio(on_time, due_or_done);
    m.proactive_share = ratio(proactive, m.total);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, IncidentSource, NewIncident, SlaPolicy};
    use domain::Priority;

    fn incident(id: u64, created_min: i64) -> Incident {
        Incident::open(
            id,
            NewIncident {
                kind: "pothole".into(),
                title: "Pothole".into(),
                priority: Priority::P1, // due 120 min after creation
                community: None,
                location: None,
                cell: None,
                team: Some("roads".into()),
                source: if id.is_multiple_of(2) {
                    IncidentSource::Operator
                } else {
                    IncidentSource::Alarm { alarm_id: id }
                },
            },
            Timestamp(created_min * 60_000),
            &SlaPolicy::default(),
            "system",
        )
    }

    fn at(min: i64) -> Timestamp {
        Timestamp(min * 60_000)
    }

    #[test]
    fn metrics_match_a_hand_computation() {
        // #1: dispatched after 10 min, resolved after 60 (on time), closed.
        let mut a = incident(1, 0);
        a.transition(Action::Dispatch, "op", at(10), None, None)
            .unwrap();
        a.transition(Action::Start, "op", at(20), None, None)
            .unwrap();
        a.transition(Action::Resolve, "op", at(60), None, None)
            .unwrap();
        a.transition(Action::Close, "op", at(70), None, None)
            .unwrap();
        // #2: dispatched after 30 min, resolved after 180 (late).
        let mut b = incident(2, 0);
        b.transition(Action::Dispatch, "op", at(30), None, None)
            .unwrap();
        b.transition(Action::Start, "op", at(40), None, None)
            .unwrap();
        b.transition(Action::Resolve, "op", at(180), None, None)
            .unwrap();
        // #3: open, overdue at t = 300 (due 120).
        let c = incident(3, 0);
        // #4: open, created at 250, not yet due at 300.
        let d = incident(4, 250);
        let m = incident_metrics([&a, &b, &c, &d], at(300));
        assert_eq!(m.total, 4);
        assert_eq!(m.response_time_s.count, 2);
        assert_eq!(m.response_time_s.mean, 1200.0);
        assert_eq!(m.response_time_s.p50, 600.0);
        assert_eq!(m.response_time_s.p90, 1800.0);
        assert_eq!(m.resolution_time_s.mean, (3600.0 + 10800.0) / 2.0);
        assert_eq!(m.closure_rate, 0.5);
        // due-or-done = a, b, c; on time = a
        assert!((m.on_time_closure_rate - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.backlog, 2);
        assert_eq!(m.overdue, 1);
        assert_eq!(m.proactive_share, 0.5);
    }

    #[test]
    fn empty_input_gives_zeros_not_nan() {
        let m = incident_metrics([], at(0));
        assert_eq!(m.closure_rate, 0.0);
        assert_eq!(m.response_time_s, Distribution::default());
    }
}
