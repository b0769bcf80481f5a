//! The scenario file: a planner's edits to a baseline, as JSON.
//!
//! See `docs/specs/traffic-scenario.md` for the format with examples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::network::{LinkIdx, Network};

/// A what-if scenario: every field is optional; an empty file is the baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Free-text name, copied into the report.
    #[serde(default)]
    pub name: Option<String>,
    /// Links closed to all traffic for a time window; vehicles whose remaining
    /// path uses one are re-routed when the closure starts or when they depart.
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// Lanes blocked along a link (works, an incident) for a time window.
    #[serde(default)]
    pub lane_closures: Vec<LaneClosure>,
    /// Capacity reductions (factor < 1) or increases of a link for a window.
    #[serde(default)]
    pub capacity: Vec<CapacityChange>,
    /// Signal plan changes at one node or all (`"*"`).
    #[serde(default)]
    pub signals: Vec<SignalChange>,
    /// Demand scaling and time shift.
    #[serde(default)]
    pub demand: DemandChange,
    /// Lanes added to links for the whole run.
    #[serde(default)]
    pub added_lanes: Vec<AddedLanes>,
}

/// A time window in seconds since the start of the run; `to_s` absent = open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Start, s (default 0).
    #[serde(default)]
    pub from_s: f64,
    /// End, s (default: never).
    #[serde(default)]
    pub to_s: Option<f64>,
}

/// A closed link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// Link id.
    pub link: String,
    /// When.
    #[serde(flatten)]
    pub window: Window,
}

/// Blocked lanes along a link: storage and mid-block capacity shrink by
/// `lanes / link lanes`; the stop-line lane groups keep working (vehicles
/// squeeze past the obstruction). Blocking every lane closes the link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneClosure {
    /// Link id.
    pub link: String,
    /// Lanes blocked (>= 1).
    pub lanes: u16,
    /// When.
    #[serde(flatten)]
    pub window: Window,
}

/// A capacity factor on a link's mid-block capacity and on the saturation
/// flow of all its movements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityChange {
    /// Link id.
    pub link: String,
    /// Multiplier (> 0): 0.5 halves the capacity.
    pub factor: f64,
    /// When.
    #[serde(flatten)]
    pub window: Window,
}

/// A change of fixed-time plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalChange {
    /// Node id, or `"*"` for every signalised node.
    pub node: String,
    /// New durations by phase index (`{"0": 45, "2": 45}`), applied first.
    #[serde(default)]
    pub phase_durations_s: BTreeMap<String, f64>,
    /// Multiplies every phase duration (cycle and splits together), applied second.
    #[serde(default)]
    pub cycle_scale: Option<f64>,
    /// New offset, s.
    #[serde(default)]
    pub offset_s: Option<f64>,
}

/// Demand edits: scaling first, then shifting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandChange {
    /// Multiplier on the number of trips (SUMO `--scale` rule: each trip kept
    /// `floor(scale)` times and once more with probability `scale - floor(scale)`).
    #[serde(default = "one")]
    pub scale: f64,
    /// Seconds added to every departure (negative = earlier, clamped at 0).
    #[serde(default)]
    pub shift_s: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for DemandChange {
    fn default() -> Self {
        Self {
            scale: 1.0,
            shift_s: 0.0,
        }
    }
}

/// Lanes added to a link (a shared lane: every movement of the link gains it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedLanes {
    /// Link id.
    pub link: String,
    /// Lanes added (>= 1).
    pub lanes: u16,
}

/// What a timed edit does to its link while active.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Effect {
    Close,
    CutLanes(u16),
    Capacity(f64),
}

/// A timed edit resolved against a network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timed {
    pub link: LinkIdx,
    pub from_s: f64,
    pub to_s: f64,
    pub effect: Effect,
}

impl Scenario {
    /// Parses a scenario file.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON or unknown fields.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::Json {
            what: "scenario",
            message: e.to_string(),
        })
    }

    /// Whether the scenario changes nothing.
    pub fn is_baseline(&self) -> bool {
        *self
            == Scenario {
                name: self.name.clone(),
                ..Scenario::default()
            }
    }

    /// The network with the static edits (signal plans, added lanes) applied.
    ///
    /// # Errors
    /// [`Error::BadEdit`] for an unknown link or node, a phase index the plan
    /// lacks, or a non-positive duration or factor.
    pub fn apply_to_network(&self, net: &Network) -> Result<Network, Error> {
        let mut net = net.clone();
        for (i, s) in self.signals.iter().enumerate() {
            let edit = format!("signals[{i}]");
            let bad = |reason: String| Error::BadEdit {
                edit: edit.clone(),
                reason,
            };
            let targets: Vec<usize> = if s.node == "*" {
                (0..net.signals.len()).collect()
            } else {
                let n = net
                    .node_idx(&s.node)
                    .ok_or_else(|| bad(format!("unknown node {:?}", s.node)))?;
                vec![
                    net.nodes[n.0 as usize]
                        .signal
                        .ok_or_else(|| bad(format!("node {:?} has no signal", s.node)))?,
                ]
            };
            for si in targets {
                let plan = &mut net.signals[si];
                for (k, &d) in &s.phase_durations_s {
                    let k: usize = k.parse().map_err(|_| bad(format!("phase index {k:?}")))?;
                    if !(d >= 0.0 && d.is_finite()) {
                        return Err(bad(format!("duration {d}")));
                    }
                    if s.node != "*" || k < plan.phases.len() {
                        plan.phases
                            .get_mut(k)
                            .ok_or_else(|| bad(format!("no phase {k}")))?
                            .duration_s = d;
                    }
                }
                if let Some(c) = s.cycle_scale {
                    if !(c > 0.0 && c.is_finite()) {
                        return Err(bad(format!("cycle_scale {c}")));
                    }
                    for p in &mut plan.phases {
                        p.duration_s *= c;
                    }
                }
                if let Some(o) = s.offset_s {
                    plan.offset_s = o;
                }
                if plan.cycle_s() <= 0.0 {
                    return Err(bad("cycle would be zero".into()));
                }
            }
        }
        for (i, a) in self.added_lanes.iter().enumerate() {
            let l = net.link_idx(&a.link).ok_or_else(|| Error::BadEdit {
                edit: format!("added_lanes[{i}]"),
                reason: format!("unknown link {:?}", a.link),
            })?;
            let link = &mut net.links[l.0 as usize];
            let old = f64::from(link.lanes);
            link.lanes += a.lanes;
            link.capacity_veh_h *= f64::from(link.lanes) / old;
            for m in link.moves.clone() {
                net.movements[m as usize].lanes += a.lanes;
            }
        }
        Ok(net)
    }

    /// The timed edits, resolved to link indices.
    ///
    /// # Errors
    /// [`Error::BadEdit`] for an unknown link, an empty window or a bad factor.
    pub(crate) fn timed(&self, net: &Network) -> Result<Vec<Timed>, Error> {
        let mut out = Vec::new();
        let mut push = |edit: String, link: &str, w: Window, effect: Effect| -> Result<(), Error> {
            let bad = |reason: String| Error::BadEdit {
                edit: edit.clone(),
                reason,
            };
            let l = net
                .link_idx(link)
                .ok_or_else(|| bad(format!("unknown link {link:?}")))?;
            let to = w.to_s.unwrap_or(f64::INFINITY);
            if !(w.from_s >= 0.0 && to > w.from_s) {
                return Err(bad(format!("window {}..{to}", w.from_s)));
            }
            out.push(Timed {
                link: l,
                from_s: w.from_s,
                to_s: to,
                effect,
            });
            Ok(())
        };
        for (i, c) in self.closures.iter().enumerate() {
            push(format!("closures[{i}]"), &c.link, c.window, Effect::Close)?;
        }
        for (i, c) in self.lane_closures.iter().enumerate() {
            if c.lanes == 0 {
                return Err(Error::BadEdit {
                    edit: format!("lane_closures[{i}]"),
                    reason: "lanes = 0".into(),
                });
            }
            push(
                format!("lane_closures[{i}]"),
                &c.link,
                c.window,
                Effect::CutLanes(c.lanes),
            )?;
        }
        for (i, c) in self.capacity.iter().enumerate() {
            if !(c.factor > 0.0 && c.factor.is_finite()) {
                return Err(Error::BadEdit {
                    edit: format!("capacity[{i}]"),
                    reason: format!("factor {}", c.factor),
                });
            }
            push(
                format!("capacity[{i}]"),
                &c.link,
                c.window,
                Effect::Capacity(c.factor),
            )?;
        }
        Ok(out)
    }
}
