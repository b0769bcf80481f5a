//! A generic network builder: nodes, links, movements and signal plans by id.

use std::collections::HashMap;

use super::{Link, LinkIdx, MoveIdx, Movement, Network, Node, NodeIdx, Phase, SignalPlan};
use crate::Error;

/// Default saturation flow used for a link's mid-block capacity when none is given
/// (vehicles per hour per lane).
pub const DEFAULT_LANE_CAPACITY_VEH_H: f64 = 1800.0;

/// One directed link, as given to [`NetworkBuilder::link`].
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// External id.
    pub id: String,
    /// Upstream node id.
    pub from: String,
    /// Downstream node id.
    pub to: String,
    /// Length in metres (> 0).
    pub length_m: f64,
    /// Lanes (>= 1).
    pub lanes: u16,
    /// Speed limit in km/h (> 0).
    pub speed_limit_kmh: f64,
    /// Mid-block capacity in veh/h; `None` gives `lanes` x 1800.
    pub capacity_veh_h: Option<f64>,
}

/// A fixed-time plan given by the movements it controls.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalSpec {
    /// Node id.
    pub node: String,
    /// Offset in seconds.
    pub offset_s: f64,
    /// Controlled movements as `(from link id, to link id)`; slot `k` is `movements[k]`.
    pub movements: Vec<(String, String)>,
    /// `(duration_s, green per slot)` in order.
    pub phases: Vec<(f64, Vec<bool>)>,
}

#[derive(Debug, Clone)]
struct MoveSpec {
    from: LinkIdx,
    to: LinkIdx,
    lanes: u16,
    cross_m: f64,
    cross_speed_mps: Option<f64>,
}

/// Builds a [`Network`] from ids. Nodes are created on first mention.
///
/// ```
/// use engine_traffic::{LinkSpec, NetworkBuilder};
/// let mut b = NetworkBuilder::new();
/// for (id, from, to) in [("a", "A", "B"), ("b", "B", "C")] {
///     b.link(LinkSpec {
///         id: id.into(), from: from.into(), to: to.into(),
///         length_m: 500.0, lanes: 2, speed_limit_kmh: 50.0, capacity_veh_h: None,
///     }).unwrap();
/// }
/// b.connect_all();
/// let net = b.build().unwrap();
/// assert!(net.movement(net.link_idx("a").unwrap(), net.link_idx("b").unwrap()).is_some());
/// ```
#[derive(Debug, Default, Clone)]
pub struct NetworkBuilder {
    nodes: Vec<Node>,
    node_by_id: HashMap<String, NodeIdx>,
    links: Vec<Link>,
    link_by_id: HashMap<String, LinkIdx>,
    moves: Vec<MoveSpec>,
    signals: Vec<SignalSpec>,
}

impl NetworkBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The node with this id, created if new.
    pub fn node(&mut self, id: &str) -> NodeIdx {
        if let Some(&n) = self.node_by_id.get(id) {
            return n;
        }
        let n = NodeIdx(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        self.nodes.push(Node {
            id: id.to_string(),
            signal: None,
        });
        self.node_by_id.insert(id.to_string(), n);
        n
    }

    /// Adds a link.
    ///
    /// # Errors
    /// [`Error::DuplicateId`] for a repeated id, [`Error::InvalidNumber`] for a
    /// non-positive length, lane count, speed or capacity.
    pub fn link(&mut self, spec: LinkSpec) -> Result<LinkIdx, Error> {
        if self.link_by_id.contains_key(&spec.id) {
            return Err(Error::DuplicateId(spec.id));
        }
        let bad = |field, v: f64| Error::InvalidNumber {
            field,
            value: v.to_string(),
        };
        if !(spec.length_m > 0.0 && spec.length_m.is_finite()) {
            return Err(bad("length_m", spec.length_m));
        }
        if spec.lanes == 0 {
            return Err(bad("lanes", 0.0));
        }
        if !(spec.speed_limit_kmh > 0.0 && spec.speed_limit_kmh.is_finite()) {
            return Err(bad("speed_limit_kmh", spec.speed_limit_kmh));
        }
        let capacity = spec
            .capacity_veh_h
            .unwrap_or(f64::from(spec.lanes) * DEFAULT_LANE_CAPACITY_VEH_H);
        if !(capacity > 0.0 && capacity.is_finite()) {
            return Err(bad("capacity_veh_h", capacity));
        }
        let from = self.node(&spec.from);
        let to = self.node(&spec.to);
        let idx = LinkIdx(u32::try_from(self.links.len()).expect("fewer than 2^32 links"));
        self.links.push(Link {
            id: spec.id.clone(),
            from,
            to,
            length_m: spec.length_m,
            lanes: spec.lanes,
            speed_mps: spec.speed_limit_kmh / 3.6,
            capacity_veh_h: capacity,
            moves: 0..0,
        });
        self.link_by_id.insert(spec.id, idx);
        Ok(idx)
    }

    /// Adds (or widens) the movement `from -> to`, served by `lanes` upstream
    /// lanes, crossing `cross_m` metres of junction at `cross_speed_kmh` (`None`:
    /// the lower of the two links' speed limits). The crossing speed sets the
    /// movement's saturation flow (turns discharge more slowly).
    ///
    /// # Errors
    /// [`Error::UnknownLink`] for an unknown id; [`Error::Disconnected`] when `from`
    /// does not end where `to` starts.
    pub fn movement(
        &mut self,
        from: &str,
        to: &str,
        lanes: u16,
        cross_m: f64,
        cross_speed_kmh: Option<f64>,
    ) -> Result<MoveIdx, Error> {
        let f = self.lookup(from)?;
        let t = self.lookup(to)?;
        if self.links[f.0 as usize].to != self.links[t.0 as usize].from {
            return Err(Error::Disconnected {
                vehicle: String::new(),
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        if let Some(i) = self.moves.iter().position(|m| m.from == f && m.to == t) {
            let m = &mut self.moves[i];
            m.lanes = m.lanes.saturating_add(lanes);
            return Ok(MoveIdx(
                u32::try_from(i).expect("fewer than 2^32 movements"),
            ));
        }
        self.moves.push(MoveSpec {
            from: f,
            to: t,
            lanes: lanes.max(1),
            cross_m: cross_m.max(0.0),
            cross_speed_mps: cross_speed_kmh.filter(|v| *v > 0.0).map(|v| v / 3.6),
        });
        Ok(MoveIdx(
            u32::try_from(self.moves.len() - 1).expect("fewer than 2^32 movements"),
        ))
    }

    /// Connects every pair of links that meet at a node, except U-turns (back to
    /// the node the upstream link came from), with all upstream lanes. Movements
    /// that already exist are kept as they are. For networks without turn data
    /// (the twin's roads).
    pub fn connect_all(&mut self) {
        let mut by_from: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for (i, l) in self.links.iter().enumerate() {
            by_from[l.from.0 as usize].push(i);
        }
        let existing: std::collections::BTreeSet<(u32, u32)> =
            self.moves.iter().map(|m| (m.from.0, m.to.0)).collect();
        for (i, l) in self.links.iter().enumerate() {
            for &j in &by_from[l.to.0 as usize] {
                let o = &self.links[j];
                if o.to == l.from && by_from[l.to.0 as usize].len() > 1 {
                    continue; // U-turn, allowed only at a dead end
                }
                let key = (u32::try_from(i).expect("link index"), o_idx(j));
                if existing.contains(&key) {
                    continue;
                }
                self.moves.push(MoveSpec {
                    from: LinkIdx(key.0),
                    to: LinkIdx(key.1),
                    lanes: l.lanes,
                    cross_m: 0.0,
                    cross_speed_mps: None,
                });
            }
        }
    }

    /// Adds a fixed-time plan.
    pub fn signal(&mut self, spec: SignalSpec) {
        self.signals.push(spec);
    }

    /// Gives `node` a plan with one phase per approach (split phasing): each
    /// incoming link in turn gets green for all its movements, for an equal
    /// share of `cycle_s`. Needs no geometry, so it suits generated networks.
    /// Call after the movements exist.
    ///
    /// # Errors
    /// [`Error::UnknownNode`] for an unknown id.
    pub fn signalise_split(&mut self, node: &str, cycle_s: f64) -> Result<(), Error> {
        let n = *self
            .node_by_id
            .get(node)
            .ok_or_else(|| Error::UnknownNode(node.to_string()))?;
        let mut approaches: Vec<LinkIdx> = Vec::new();
        let mut movements = Vec::new();
        for m in &self.moves {
            if self.links[m.from.0 as usize].to == n {
                if !approaches.contains(&m.from) {
                    approaches.push(m.from);
                }
                movements.push((m.from, m.to));
            }
        }
        approaches.sort();
        movements.sort();
        if approaches.is_empty() {
            return Ok(());
        }
        #[allow(clippy::cast_precision_loss)]
        let dur = cycle_s / approaches.len() as f64;
        let phases = approaches
            .iter()
            .map(|a| (dur, movements.iter().map(|(f, _)| f == a).collect()))
            .collect();
        let name = |l: LinkIdx| self.links[l.0 as usize].id.clone();
        let movements = movements.iter().map(|&(f, t)| (name(f), name(t))).collect();
        self.signals.push(SignalSpec {
            node: node.to_string(),
            offset_s: 0.0,
            movements,
            phases,
        });
        Ok(())
    }

    /// Checks and freezes the network.
    ///
    /// # Errors
    /// [`Error::BadSignal`] for a plan with no phase, a non-positive cycle, a
    /// phase of the wrong width, or a slot that names a movement that does not
    /// exist at its node; [`Error::UnknownNode`]/[`Error::UnknownLink`] for ids.
    pub fn build(self) -> Result<Network, Error> {
        let NetworkBuilder {
            mut nodes,
            node_by_id,
            mut links,
            link_by_id,
            mut moves,
            signals: specs,
        } = self;
        moves.sort_by_key(|m| (m.from, m.to));
        let movements: Vec<Movement> = moves
            .iter()
            .map(|m| {
                let (f, t) = (&links[m.from.0 as usize], &links[m.to.0 as usize]);
                Movement {
                    from: m.from,
                    to: m.to,
                    lanes: m.lanes,
                    cross_m: m.cross_m,
                    cross_speed_mps: m.cross_speed_mps.unwrap_or(f.speed_mps.min(t.speed_mps)),
                    signal: None,
                }
            })
            .collect();
        let mut net = Network {
            nodes: Vec::new(),
            links: Vec::new(),
            movements,
            signals: Vec::new(),
            link_by_id,
            node_by_id,
        };
        let mut start = 0u32;
        for (i, l) in links.iter_mut().enumerate() {
            let mut end = start;
            while (end as usize) < net.movements.len()
                && net.movements[end as usize].from.0 as usize == i
            {
                end += 1;
            }
            l.moves = start..end;
            start = end;
        }
        net.links = links;
        for spec in specs {
            let n = *net
                .node_by_id
                .get(&spec.node)
                .ok_or_else(|| Error::UnknownNode(spec.node.clone()))?;
            let bad = |reason: String| Error::BadSignal {
                node: spec.node.clone(),
                reason,
            };
            if spec.phases.is_empty() {
                return Err(bad("no phase".into()));
            }
            let cycle: f64 = spec.phases.iter().map(|p| p.0).sum();
            if !(cycle > 0.0 && cycle.is_finite()) || spec.phases.iter().any(|p| p.0 < 0.0) {
                return Err(bad(format!("cycle {cycle} s")));
            }
            let mut slots = Vec::with_capacity(spec.movements.len());
            for (f, t) in &spec.movements {
                let fi = net
                    .link_idx(f)
                    .ok_or_else(|| Error::UnknownLink(f.clone()))?;
                let ti = net
                    .link_idx(t)
                    .ok_or_else(|| Error::UnknownLink(t.clone()))?;
                let m = net
                    .movement(fi, ti)
                    .ok_or_else(|| bad(format!("no movement {f} -> {t}")))?;
                if net.links[fi.0 as usize].to != n {
                    return Err(bad(format!("movement {f} -> {t} is not at this node")));
                }
                slots.push(m);
            }
            let si = net.signals.len();
            for (k, m) in slots.iter().enumerate() {
                net.movements[m.0 as usize].signal = Some((si, k));
            }
            let mut phases = Vec::with_capacity(spec.phases.len());
            for (d, g) in spec.phases {
                if g.len() != slots.len() {
                    return Err(bad(format!(
                        "phase has {} slots, plan controls {}",
                        g.len(),
                        slots.len()
                    )));
                }
                phases.push(Phase {
                    duration_s: d,
                    green: g,
                });
            }
            nodes[n.0 as usize].signal = Some(si);
            net.signals.push(SignalPlan {
                node: n,
                offset_s: spec.offset_s,
                phases,
                movements: slots,
            });
        }
        net.nodes = nodes;
        Ok(net)
    }

    fn lookup(&self, id: &str) -> Result<LinkIdx, Error> {
        self.link_by_id
            .get(id)
            .copied()
            .ok_or_else(|| Error::UnknownLink(id.to_string()))
    }
}

fn o_idx(j: usize) -> u32 {
    u32::try_from(j).expect("link index")
}
