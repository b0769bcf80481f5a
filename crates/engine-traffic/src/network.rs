//! The road network: nodes, directed links, turning movements and signal plans.

mod builder;
mod cityflow;
mod sumo;

use std::collections::HashMap;
use std::ops::Range;

pub use builder::{LinkSpec, NetworkBuilder, SignalSpec};
pub use cityflow::parse_cityflow;
pub use sumo::parse_sumo;
pub(crate) mod sumo_parts {
    pub use super::sumo::{parse_sumo_net, parse_sumo_routes};
}

/// Index of a link in [`Network::links`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkIdx(pub u32);

/// Index of a node in [`Network::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIdx(pub u32);

/// Index of a movement in [`Network::movements`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MoveIdx(pub u32);

/// A junction. Signalised when it has a plan in [`Network::signals`].
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// External id (`intersection_2_2`).
    pub id: String,
    /// Index into [`Network::signals`] when signalised.
    pub signal: Option<usize>,
}

/// A directed road link from one node to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// External id (`road_2_2_0`).
    pub id: String,
    /// Upstream node.
    pub from: NodeIdx,
    /// Downstream node.
    pub to: NodeIdx,
    /// Length in metres.
    pub length_m: f64,
    /// Number of lanes.
    pub lanes: u16,
    /// Free-flow (speed-limit) speed in m/s.
    pub speed_mps: f64,
    /// Mid-block capacity in vehicles per hour (all lanes).
    pub capacity_veh_h: f64,
    /// This link's outgoing movements, a range of [`Network::movements`].
    pub moves: Range<u32>,
}

impl Movement {
    /// Free-flow time to cross the junction, in seconds.
    pub fn cross_s(&self) -> f64 {
        self.cross_m / self.cross_speed_mps
    }
}

impl Link {
    /// Free-flow traversal time in seconds at the speed limit.
    pub fn free_flow_s(&self) -> f64 {
        self.length_m / self.speed_mps
    }
}

/// A turning movement: from the end of one link into the start of another.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    /// Upstream link.
    pub from: LinkIdx,
    /// Downstream link.
    pub to: LinkIdx,
    /// Number of upstream lanes that serve this movement (its lane group).
    pub lanes: u16,
    /// Length of the path across the junction in metres.
    pub cross_m: f64,
    /// Speed across the junction in m/s (lower for turns); sets the
    /// movement's saturation headway.
    pub cross_speed_mps: f64,
    /// The controlling signal and this movement's slot in its plan.
    pub signal: Option<(usize, usize)>,
}

/// One phase of a fixed-time plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Duration in seconds.
    pub duration_s: f64,
    /// Green flag per controlled movement (aligned with [`SignalPlan::movements`]).
    pub green: Vec<bool>,
}

/// A fixed-time signal plan at one node.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalPlan {
    /// The node it controls.
    pub node: NodeIdx,
    /// Offset in seconds: phase 0 starts at `t = offset` (mod cycle).
    pub offset_s: f64,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Controlled movements; slot `k` of every phase refers to `movements[k]`.
    pub movements: Vec<MoveIdx>,
}

impl SignalPlan {
    /// Cycle length in seconds.
    pub fn cycle_s(&self) -> f64 {
        self.phases.iter().map(|p| p.duration_s).sum()
    }

    /// The phase index active at `t_s` and the seconds since it started.
    pub fn phase_at(&self, t_s: f64) -> (usize, f64) {
        let cycle = self.cycle_s();
        let mut x = (t_s - self.offset_s).rem_euclid(cycle);
        for (i, p) in self.phases.iter().enumerate() {
            if x < p.duration_s {
                return (i, x);
            }
            x -= p.duration_s;
        }
        (self.phases.len() - 1, 0.0)
    }

    /// Seconds that slot `slot` has been continuously green at `t_s`
    /// (`None` when red). Looks back at most one cycle.
    pub fn green_since(&self, slot: usize, t_s: f64) -> Option<f64> {
        let (mut i, into) = self.phase_at(t_s);
        if !self.phases[i].green[slot] {
            return None;
        }
        let mut since = into;
        for _ in 1..self.phases.len() {
            i = (i + self.phases.len() - 1) % self.phases.len();
            if !self.phases[i].green[slot] {
                return Some(since);
            }
            since += self.phases[i].duration_s;
        }
        Some(f64::INFINITY)
    }
}

/// A road network ready to simulate. Build it with [`NetworkBuilder`],
/// [`parse_sumo`] or [`parse_cityflow`].
///
/// Invariants: every movement's `from` link lists it in its `moves` range
/// (movements are sorted by upstream link); every signal slot names a movement
/// at the signal's node; every cycle is positive.
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) nodes: Vec<Node>,
    pub(crate) links: Vec<Link>,
    pub(crate) movements: Vec<Movement>,
    pub(crate) signals: Vec<SignalPlan>,
    /// Id lookup only; never iterated.
    pub(crate) link_by_id: HashMap<String, LinkIdx>,
    /// Id lookup only; never iterated.
    pub(crate) node_by_id: HashMap<String, NodeIdx>,
}

impl Network {
    /// All nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// All links.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// All movements, sorted by upstream link.
    pub fn movements(&self) -> &[Movement] {
        &self.movements
    }

    /// All signal plans.
    pub fn signals(&self) -> &[SignalPlan] {
        &self.signals
    }

    /// One link.
    pub fn link(&self, l: LinkIdx) -> &Link {
        &self.links[l.0 as usize]
    }

    /// The link with external id `id`.
    pub fn link_idx(&self, id: &str) -> Option<LinkIdx> {
        self.link_by_id.get(id).copied()
    }

    /// The node with external id `id`.
    pub fn node_idx(&self, id: &str) -> Option<NodeIdx> {
        self.node_by_id.get(id).copied()
    }

    /// The movement from `from` into `to`, if the network allows that turn.
    pub fn movement(&self, from: LinkIdx, to: LinkIdx) -> Option<MoveIdx> {
        let r = self.links[from.0 as usize].moves.clone();
        r.into_iter()
            .find(|&m| self.movements[m as usize].to == to)
            .map(MoveIdx)
    }

    /// Total lane-kilometres of the network.
    pub fn lane_km(&self) -> f64 {
        self.links
            .iter()
            .map(|l| l.length_m * f64::from(l.lanes) / 1000.0)
            .sum()
    }
}
