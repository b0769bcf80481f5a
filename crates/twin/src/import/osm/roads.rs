//! The road network: drivable ways split at junctions into directed
//! segments, with signals attached to junctions.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use geo::{Geometry, LineString, Point};

use super::tags::{self, Flow, Parsed, Tags};
use super::{OsmOptions, OsmStats, Raw, RawWay, eid};
use crate::entity::{
    Entity, EntityAttrs, IntersectionAttrs, RoadAttrs, RoadClass, road_capacity_veh_h,
};
use crate::geom;
use crate::import::ImportWarning;

/// A run of consecutive nodes of a way that are all in the extract.
struct Piece {
    nodes: Vec<i64>,
    /// The way continues before the first node, but those nodes are missing.
    cut_start: bool,
    /// The way continues after the last node, but those nodes are missing.
    cut_end: bool,
}

struct Road<'a> {
    way: &'a RawWay,
    class: RoadClass,
    pieces: Vec<Piece>,
}

/// The class of a drivable way, or `None` for ways cars may not use
/// (footways, paths, areas, `motor_vehicle=no`, `access=no` unless motor
/// vehicles are explicitly allowed; service roads when excluded).
fn drivable_class(tags: &Tags, opts: &OsmOptions) -> Option<RoadClass> {
    let class = RoadClass::from_osm(tags.get("highway")?)?;
    let get = |k: &str| tags.get(k).map(String::as_str);
    if get("area") == Some("yes") || matches!(get("motor_vehicle").or(get("vehicle")), Some("no")) {
        return None;
    }
    if get("access") == Some("no")
        && !matches!(
            get("motor_vehicle"),
            Some("yes" | "destination" | "permissive")
        )
    {
        return None;
    }
    if class == RoadClass::Service && !opts.service_roads {
        return None;
    }
    Some(class)
}

fn pieces(raw: &Raw, refs: &[i64]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut cur: Vec<i64> = Vec::new();
    let mut cut_start = false;
    for r in refs {
        if raw.coords.contains_key(r) {
            if cur.last() != Some(r) {
                cur.push(*r);
            }
        } else {
            if cur.len() >= 2 {
                out.push(Piece {
                    nodes: std::mem::take(&mut cur),
                    cut_start,
                    cut_end: true,
                });
            }
            cur.clear();
            cut_start = true;
        }
    }
    if cur.len() >= 2 {
        out.push(Piece {
            nodes: cur,
            cut_start,
            cut_end: false,
        });
    }
    out
}

fn dist(raw: &Raw, a: i64, b: i64) -> f64 {
    match (raw.coords.get(&a), raw.coords.get(&b)) {
        (Some(p), Some(q)) => geom::distance_m(Point(*p), Point(*q)),
        _ => f64::INFINITY,
    }
}

pub(super) fn build(
    raw: &Raw,
    opts: &OsmOptions,
    stats: &mut OsmStats,
    warnings: &mut Vec<ImportWarning>,
) -> Vec<Entity> {
    stats.highway_ways = raw
        .ways
        .iter()
        .filter(|w| w.tags.contains_key("highway"))
        .count();
    let roads: Vec<Road<'_>> = raw
        .ways
        .iter()
        .filter_map(|w| {
            let class = drivable_class(&w.tags, opts)?;
            let pieces = pieces(raw, &w.refs);
            (!pieces.is_empty()).then_some(Road {
                way: w,
                class,
                pieces,
            })
        })
        .collect();
    stats.drivable_ways = roads.len();

    // how often each node occurs on the network (lookup only)
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for p in roads.iter().flat_map(|r| &r.pieces) {
        for n in &p.nodes {
            *uses.entry(*n).or_insert(0) += 1;
        }
    }
    let junction = |n: i64| uses.get(&n).copied().unwrap_or(0) >= 2;
    let mut split: HashSet<i64> = uses.keys().copied().filter(|&n| junction(n)).collect();
    let mut cut_ends: HashSet<i64> = HashSet::new();
    for p in roads.iter().flat_map(|r| &r.pieces) {
        let (a, b) = (p.nodes[0], p.nodes[p.nodes.len() - 1]);
        split.insert(a);
        split.insert(b);
        if p.cut_start {
            cut_ends.insert(a);
        }
        if p.cut_end {
            cut_ends.insert(b);
        }
    }

    // signals: on a junction, near one along the road, or mid-block
    let mut signals: HashMap<i64, u32> = HashMap::new();
    let signal_nodes: Vec<i64> = raw
        .nodes
        .iter()
        .filter(|n| n.tags.get("highway").map(String::as_str) == Some("traffic_signals"))
        .map(|n| n.id)
        .collect();
    stats.signal_nodes = signal_nodes.len();
    let mut position: HashMap<i64, (usize, usize, usize)> = HashMap::new();
    for (ri, r) in roads.iter().enumerate() {
        for (pi, p) in r.pieces.iter().enumerate() {
            for (k, n) in p.nodes.iter().enumerate() {
                if !junction(*n) {
                    position.insert(*n, (ri, pi, k));
                }
            }
        }
    }
    for s in signal_nodes {
        if junction(s) {
            *signals.entry(s).or_insert(0) += 1;
            stats.signal_nodes_attached += 1;
            continue;
        }
        let Some(&(ri, pi, k)) = position.get(&s) else {
            continue; // not on an imported road
        };
        let nodes = &roads[ri].pieces[pi].nodes;
        let walk = |step: isize| -> Option<(f64, i64)> {
            let mut d = 0.0;
            let mut i = k;
            loop {
                let j = i.checked_add_signed(step).filter(|&j| j < nodes.len())?;
                d += dist(raw, nodes[i], nodes[j]);
                if d > opts.signal_attach_m {
                    return None;
                }
                if junction(nodes[j]) {
                    return Some((d, nodes[j]));
                }
                i = j;
            }
        };
        let best = [walk(1), walk(-1)]
            .into_iter()
            .flatten()
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        match best {
            Some((_, j)) => {
                *signals.entry(j).or_insert(0) += 1;
                stats.signal_nodes_attached += 1;
            }
            None => {
                split.insert(s);
                *signals.entry(s).or_insert(0) += 1;
                stats.signal_nodes_midblock += 1;
            }
        }
    }

    // segments
    let mut out = Vec::new();
    let mut ends: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for r in &roads {
        let w = r.way;
        let element = format!("way {}", w.id);
        let flow = tags::flow(&w.tags, r.class);
        let (total, fwd_lanes, bwd_lanes) = tags::lanes_per_direction(&w.tags, r.class, flow);
        if total == Parsed::Bad {
            warnings.push(bad_tag(&element, "lanes", &w.tags));
        }
        let mut speed = |key: &str| match w.tags.get(key).map(|v| tags::maxspeed_kmh(v)) {
            Some(Parsed::Value(v)) => Some(v),
            Some(Parsed::Bad) => {
                warnings.push(bad_tag(&element, key, &w.tags));
                None
            }
            _ => None,
        };
        let base_speed = speed("maxspeed").unwrap_or(r.class.default_speed_kmh());
        let fwd_speed = speed("maxspeed:forward").unwrap_or(base_speed);
        let bwd_speed = speed("maxspeed:backward").unwrap_or(base_speed);
        let name = w.tags.get("name").or_else(|| w.tags.get("ref")).cloned();
        let mut k = 0usize;
        for p in &r.pieces {
            for sub in cut(&p.nodes, &split) {
                let coords: Option<Vec<_>> =
                    sub.iter().map(|n| raw.coords.get(n).copied()).collect();
                let Some(coords) = coords else { continue };
                let (a, b) = (sub[0], sub[sub.len() - 1]);
                for n in [a, b] {
                    let names = ends.entry(n).or_default();
                    if let Some(nm) = &name {
                        names.insert(nm.clone());
                    }
                }
                let line = LineString::from(coords);
                let length_m = geom::length_m(&line);
                let dirs: &[(char, bool)] = match flow {
                    Flow::Forward => &[('f', true)],
                    Flow::Backward => &[('b', false)],
                    Flow::Both => &[('f', true), ('b', false)],
                };
                for &(tag, forward) in dirs {
                    let (from, to, lanes, speed_limit_kmh, geometry) = if forward {
                        (a, b, fwd_lanes, fwd_speed, line.clone())
                    } else {
                        let mut rev = line.clone();
                        rev.0.reverse();
                        (b, a, bwd_lanes, bwd_speed, rev)
                    };
                    let attrs = RoadAttrs {
                        from: eid(format!("intersection:n{from}")),
                        to: eid(format!("intersection:n{to}")),
                        length_m,
                        lanes,
                        speed_limit_kmh,
                        capacity_veh_h: road_capacity_veh_h(r.class, lanes),
                        oneway: flow != Flow::Both,
                        class: r.class,
                    };
                    let id = eid(format!("road:w{}:{k}:{tag}", w.id));
                    if let Ok(mut e) =
                        Entity::new(id, Geometry::LineString(geometry), EntityAttrs::Road(attrs))
                    {
                        e.name.clone_from(&name);
                        e.tags = w.tags.clone();
                        out.push(e);
                        stats.road_segments += 1;
                    }
                }
                k += 1;
            }
        }
    }

    // intersections: every segment end
    let node_tags: HashMap<i64, &Tags> = raw.nodes.iter().map(|n| (n.id, &n.tags)).collect();
    for (n, names) in ends {
        let Some(at) = raw.coords.get(&n) else {
            continue;
        };
        let count = signals.get(&n).copied().unwrap_or(0);
        let attrs = IntersectionAttrs {
            signalised: count > 0,
            signal_nodes: count,
            boundary: cut_ends.contains(&n) && !junction(n),
        };
        if let Ok(mut e) = Entity::new(
            eid(format!("intersection:n{n}")),
            Geometry::Point(Point(*at)),
            EntityAttrs::Intersection(attrs),
        ) {
            if !names.is_empty() {
                e.name = Some(names.into_iter().collect::<Vec<_>>().join(" / "));
            }
            if let Some(t) = node_tags.get(&n) {
                e.tags = (*t).clone();
            }
            stats.intersections += 1;
            stats.signalised_intersections += usize::from(count > 0);
            out.push(e);
        }
    }
    out
}

fn bad_tag(element: &str, key: &str, tags: &Tags) -> ImportWarning {
    ImportWarning::BadTag {
        element: element.to_owned(),
        key: key.to_owned(),
        value: tags.get(key).cloned().unwrap_or_default(),
    }
}

/// Cuts a node sequence at split nodes. A part that would start and end at
/// the same node (a loop) is cut again at its middle node.
fn cut(nodes: &[i64], split: &HashSet<i64>) -> Vec<Vec<i64>> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..nodes.len() {
        if split.contains(&nodes[i]) || i == nodes.len() - 1 {
            let part = &nodes[start..=i];
            if part.first() == part.last() && part.len() >= 3 {
                let mid = part.len() / 2;
                parts.push(part[..=mid].to_vec());
                parts.push(part[mid..].to_vec());
            } else if part.len() >= 2 && part.first() != part.last() {
                parts.push(part.to_vec());
            }
            start = i;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_splits_at_junctions_and_breaks_loops() {
        let split: HashSet<i64> = [1, 3, 5].into_iter().collect();
        assert_eq!(
            cut(&[1, 2, 3, 4, 5], &split),
            vec![vec![1, 2, 3], vec![3, 4, 5]]
        );
        // a closed way with one junction: cut in the middle
        let split: HashSet<i64> = [1].into_iter().collect();
        assert_eq!(
            cut(&[1, 2, 3, 4, 1], &split),
            vec![vec![1, 2, 3], vec![3, 4, 1]]
        );
    }
}
