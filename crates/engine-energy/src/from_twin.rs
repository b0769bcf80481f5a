//! Low-voltage feeder networks built from the twin's feeders and buildings.
//!
//! The twin knows a feeder (its head point, nominal voltage, rated kVA) and
//! the buildings it supplies (`BuildingAttrs::feeder`), but no cables. For
//! each feeder [`feeder_networks`] lays out a radial network that follows
//! common European/Chinese urban LV practice:
//!
//! - bus 0: the medium-voltage busbar at the feeder head (the twin's
//!   `voltage_kv`), held at 1.02 pu by an external grid (a typical
//!   primary-substation set point);
//! - bus 1: the 0.4 kV busbar of the MV/LV substation at the same point,
//!   through one transformer rated at the twin's `rated_kva` (if the twin
//!   gives none: 1.3 × the buildings' design load), with the per-unit
//!   impedances of pandapower's standard type `0.63 MVA 10/0.4 kV`
//!   (vk 4 %, vkr 1.0794 %, i0 0.1695 %, iron losses 1.18 kW scaled with the
//!   rating, Dyn5) or `0.63 MVA 20/0.4 kV` (vk 6 %, vkr 1.206 %, i0 0.2619 %,
//!   1.65 kW) for MV above 15 kV;
//! - buses 2…: one per building, in building-id order, joined by the minimum
//!   spanning tree (Prim, ties by index) of the head and building points, a
//!   line per tree edge with the great-circle length between the points
//!   (at least [`MIN_LINE_M`]);
//! - every line is pandapower's `NAYY 4x150 SE 0.6/1 kV` (0.208 Ω/km,
//!   0.08 Ω/km, 261 nF/km, 0.27 kA) with as many parallel systems as the
//!   design current downstream of it needs at [`DESIGN_UTILISATION`] of the
//!   ampacity. The design load of a building is its floor area × 30 W/m²
//!   (the twin's own assumption behind `rated_kva`) at cos φ 0.95, at least
//!   [`MIN_DESIGN_KW`].
//!
//! No loads or generators are placed: [`crate::LiveFeeder`] gives every bus a
//! metered load and a PV slot, filled by readings.

use std::collections::BTreeMap;

use domain::EntityKind;
use serde::{Deserialize, Serialize};
use twin::{Entity, EntityAttrs};

use crate::network::{Bus, ExtGrid, Line, Network, Trafo};

/// Shortest line, metres (buildings mapped at the same point).
pub const MIN_LINE_M: f64 = 5.0;
/// Smallest design load of a building, kW.
pub const MIN_DESIGN_KW: f64 = 5.0;
/// Design load per m² of floor area, kW.
pub const DESIGN_KW_PER_M2: f64 = 0.030;
/// Share of a cable's ampacity its design current may use.
pub const DESIGN_UTILISATION: f64 = 0.7;
/// Low-voltage nominal voltage, kV.
pub const LV_KV: f64 = 0.4;

/// `NAYY 4x150 SE` (pandapower standard type): r, x (Ω/km), c (nF/km), kA.
const NAYY_150: (f64, f64, f64, f64) = (0.208, 0.08, 261.0, 0.27);

/// A feeder's network and how the twin maps onto it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinFeeder {
    /// The feeder's entity id.
    pub id: String,
    /// The feeder's name, if the twin has one.
    pub name: Option<String>,
    /// The network (no loads or generators).
    pub net: Network,
    /// Building id → bus index.
    pub building_bus: BTreeMap<String, i64>,
    /// Bus index → (longitude, latitude) in degrees.
    pub bus_lonlat: BTreeMap<i64, (f64, f64)>,
    /// Sum of the buildings' design loads, kW.
    pub design_kw: f64,
}

/// One network per twin feeder that supplies at least one building, in
/// feeder-id order. Same entities, same networks.
pub fn feeder_networks<'a>(entities: impl IntoIterator<Item = &'a Entity>) -> Vec<TwinFeeder> {
    let mut feeders: BTreeMap<String, &Entity> = BTreeMap::new();
    let mut members: BTreeMap<String, Vec<&Entity>> = BTreeMap::new();
    for e in entities {
        match &e.attrs {
            EntityAttrs::Feeder(_) => {
                feeders.insert(e.id.to_string(), e);
            }
            EntityAttrs::Building(b) => {
                if let Some(f) = &b.feeder {
                    members.entry(f.to_string()).or_default().push(e);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (id, f) in feeders {
        let Some(mut bs) = members.remove(&id) else {
            continue;
        };
        bs.sort_by(|a, b| a.id.cmp(&b.id));
        out.push(build(f, &bs));
    }
    out
}

fn head_point(f: &Entity) -> (f64, f64) {
    let p = match &f.geometry {
        geo::Geometry::LineString(ls) if !ls.0.is_empty() => ls.0[0],
        _ => f.representative_point().0,
    };
    (p.x, p.y)
}

/// The design load of a building, kW: its floor area × [`DESIGN_KW_PER_M2`],
/// at least [`MIN_DESIGN_KW`] (the value the cables are sized for).
pub fn building_design_kw(e: &Entity) -> f64 {
    e.building()
        .map_or(0.0, |b| b.floor_area_m2 * DESIGN_KW_PER_M2)
        .max(MIN_DESIGN_KW)
}

fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    twin::geom::distance_m(geo::Point::new(a.0, a.1), geo::Point::new(b.0, b.1))
}

/// Prim's minimum spanning tree over `pts` from point 0: the parent of each
/// point (`None` for the root), ties broken by the lower index.
fn spanning_tree(pts: &[(f64, f64)]) -> Vec<Option<usize>> {
    let n = pts.len();
    let mut parent = vec![None; n];
    let mut best = vec![f64::INFINITY; n];
    let mut done = vec![false; n];
    if n == 0 {
        return parent;
    }
    best[0] = 0.0;
    for _ in 0..n {
        let mut u = usize::MAX;
        for v in 0..n {
            if !done[v] && (u == usize::MAX || best[v] < best[u]) {
                u = v;
            }
        }
        done[u] = true;
        for v in 0..n {
            if !done[v] {
                let d = distance_m(pts[u], pts[v]);
                if d < best[v] {
                    best[v] = d;
                    parent[v] = Some(u);
                }
            }
        }
    }
    parent
}

fn bus(net: &mut Network, name: String, vn_kv: f64) -> i64 {
    let index = net.bus.len() as i64;
    net.bus.push(Bus {
        index,
        name,
        vn_kv,
        in_service: true,
        min_vm_pu: None,
        max_vm_pu: None,
    });
    index
}

fn build(f: &Entity, buildings: &[&Entity]) -> TwinFeeder {
    let (mv_kv, rated_kva) = match &f.attrs {
        EntityAttrs::Feeder(a) => (a.voltage_kv, a.rated_kva),
        _ => (10.0, 0.0),
    };
    let mv_kv = if mv_kv.is_finite() && mv_kv > 1.0 {
        mv_kv
    } else {
        10.0
    };
    let head = head_point(f);
    let design: Vec<f64> = buildings.iter().map(|b| building_design_kw(b)).collect();
    let design_total: f64 = design.iter().sum();
    let sn_kva = if rated_kva.is_finite() && rated_kva > 0.0 {
        rated_kva
    } else {
        (design_total * 1.3 / 0.95).max(100.0)
    };
    let mut net = Network::empty();
    let mut bus_lonlat = BTreeMap::new();
    let mv = bus(&mut net, format!("{} MV busbar", f.id), mv_kv);
    let lv0 = bus(&mut net, format!("{} LV busbar", f.id), LV_KV);
    bus_lonlat.insert(mv, head);
    bus_lonlat.insert(lv0, head);
    net.ext_grid.push(ExtGrid {
        index: 0,
        bus: mv,
        vm_pu: 1.02,
        va_degree: 0.0,
        in_service: true,
    });
    // pandapower standard types, per unit of the rating
    let (vk, vkr, pfe_per_630, i0) = if mv_kv > 15.0 {
        (6.0, 1.206, 1.65, 0.2619)
    } else {
        (4.0, 1.0794, 1.18, 0.1695)
    };
    net.trafo.push(Trafo {
        index: 0,
        name: format!("{} MV/LV substation", f.id),
        hv_bus: mv,
        lv_bus: lv0,
        sn_mva: sn_kva / 1000.0,
        vn_hv_kv: mv_kv,
        vn_lv_kv: LV_KV,
        vk_percent: vk,
        vkr_percent: vkr,
        pfe_kw: pfe_per_630 * sn_kva / 630.0,
        i0_percent: i0,
        shift_degree: 150.0,
        leakage_resistance_ratio_hv: 0.5,
        leakage_reactance_ratio_hv: 0.5,
        tap: None,
        tap2: None,
        parallel: 1.0,
        df: 1.0,
        in_service: true,
    });
    let mut building_bus = BTreeMap::new();
    let mut pts = vec![head];
    for b in buildings {
        let p = b.representative_point();
        let i = bus(&mut net, b.id.to_string(), LV_KV);
        bus_lonlat.insert(i, (p.x(), p.y()));
        building_bus.insert(b.id.to_string(), i);
        pts.push((p.x(), p.y()));
    }
    // point k is bus k + 1 (point 0, the head, is the LV busbar)
    let parent = spanning_tree(&pts);
    let mut downstream = vec![0.0; pts.len()];
    for (k, kw) in design.iter().enumerate() {
        let mut at = Some(k + 1);
        while let Some(v) = at {
            downstream[v] += kw;
            at = parent[v];
        }
    }
    let (r, x, c, imax) = NAYY_150;
    for (k, p) in parent.iter().enumerate() {
        let Some(p) = *p else { continue };
        let design_ka = downstream[k] / 0.95 / (3f64.sqrt() * LV_KV) / 1000.0;
        let parallel = (design_ka / (imax * DESIGN_UTILISATION)).ceil().max(1.0);
        let index = net.line.len() as i64;
        net.line.push(Line {
            index,
            name: format!("NAYY 4x150 SE {index}"),
            from_bus: p as i64 + 1,
            to_bus: k as i64 + 1,
            length_km: distance_m(pts[p], pts[k]).max(MIN_LINE_M) / 1000.0,
            r_ohm_per_km: r,
            x_ohm_per_km: x,
            c_nf_per_km: c,
            g_us_per_km: 0.0,
            max_i_ka: imax,
            df: 1.0,
            parallel,
            in_service: true,
        });
    }
    TwinFeeder {
        id: f.id.to_string(),
        name: f.name.clone(),
        net,
        building_bus,
        bus_lonlat,
        design_kw: design_total,
    }
}

/// Whether an entity kind takes part in [`feeder_networks`].
pub fn is_feeder_input(kind: EntityKind) -> bool {
    matches!(kind, EntityKind::Feeder | EntityKind::Building)
}

#[cfg(test)]
mod tests;
