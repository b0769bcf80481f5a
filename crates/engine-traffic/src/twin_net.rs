//! The twin's roads as a traffic network, with generated demand.

use rand::RngExt as _;
use scenario::{fork, seeded};

use crate::Error;
use crate::demand::{Demand, Route, Trip};
use crate::network::{LinkIdx, LinkSpec, Network, NetworkBuilder};

/// Cycle of the generated fixed-time plans at signalised intersections, s.
pub const TWIN_SIGNAL_CYCLE_S: f64 = 90.0;

/// A network from the twin's road segments and intersections.
///
/// Every `Road` entity becomes a link (id = entity id, length, lanes, speed
/// limit and capacity as the twin holds them); every pair of segments meeting
/// at an intersection becomes a movement except U-turns (allowed only at dead
/// ends), with all upstream lanes; every signalised `Intersection` gets a
/// split-phasing plan (one phase per approach, equal shares of
/// [`TWIN_SIGNAL_CYCLE_S`]). Other entities are ignored.
///
/// # Errors
/// [`Error::InvalidNumber`] for a road with a non-positive length, speed or
/// capacity, [`Error::DuplicateId`] for a repeated id.
pub fn network_from_twin<'a>(
    entities: impl IntoIterator<Item = &'a twin::Entity>,
) -> Result<Network, Error> {
    let mut b = NetworkBuilder::new();
    let mut signalised = Vec::new();
    for e in entities {
        match &e.attrs {
            twin::EntityAttrs::Road(r) => {
                b.link(LinkSpec {
                    id: e.id.as_str().to_string(),
                    from: r.from.as_str().to_string(),
                    to: r.to.as_str().to_string(),
                    length_m: r.length_m.max(1.0),
                    lanes: u16::from(r.lanes.max(1)),
                    speed_limit_kmh: r.speed_limit_kmh,
                    capacity_veh_h: Some(r.capacity_veh_h),
                })?;
            }
            twin::EntityAttrs::Intersection(i) if i.signalised => {
                signalised.push(e.id.as_str().to_string());
            }
            _ => {}
        }
    }
    b.connect_all();
    signalised.sort();
    for n in &signalised {
        // an intersection with no road is not in the network: nothing to control
        if let Err(Error::UnknownNode(_)) = b.signalise_split(n, TWIN_SIGNAL_CYCLE_S) {
            continue;
        }
    }
    b.build()
}

/// Generated demand for a network without observed trips: `veh_per_hour`
/// trips over `horizon_s`, departing uniformly, between random distinct links
/// weighted by lane-kilometres (busier roads start and end more trips),
/// routed at departure on current travel times. Deterministic in `seed`.
///
/// Live detector counts can set `veh_per_hour`: scale it by observed over
/// simulated counts on the detector links (see [`demand_scale_from_counts`]).
pub fn generated_demand(net: &Network, veh_per_hour: f64, horizon_s: f64, seed: u64) -> Demand {
    let mut master = seeded(seed);
    let mut rng = fork(&mut master);
    let links = net.links();
    if links.len() < 2 {
        return Demand::default();
    }
    let mut cum = Vec::with_capacity(links.len());
    let mut total = 0.0;
    for l in links {
        total += l.length_m * f64::from(l.lanes);
        cum.push(total);
    }
    let pick = |rng: &mut scenario::ChaCha8Rng| {
        let x = rng.random::<f64>() * total;
        let i = cum.partition_point(|&c| c <= x).min(links.len() - 1);
        LinkIdx(u32::try_from(i).expect("fewer than 2^32 links"))
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (veh_per_hour * horizon_s / 3600.0).round().max(0.0) as usize;
    let trips = (0..n)
        .map(|i| {
            let o = pick(&mut rng);
            let mut d = pick(&mut rng);
            while d == o {
                d = pick(&mut rng);
            }
            Trip {
                id: format!("gen_{i}"),
                depart_s: (rng.random::<f64>() * horizon_s).floor(),
                route: Route::Od { from: o, to: d },
            }
        })
        .collect();
    Demand::new(trips)
}

/// The factor that makes simulated counts match observed detector counts on
/// the same links over the same period: `Σ observed / Σ simulated` over links
/// with both (1 when there is nothing to compare). Multiply the demand's
/// vehicles per hour by it (or use it as a scenario's `demand.scale`).
pub fn demand_scale_from_counts(pairs: &[(f64, f64)]) -> f64 {
    let (o, s) = pairs
        .iter()
        .filter(|(o, s)| o.is_finite() && s.is_finite() && *o >= 0.0 && *s > 0.0)
        .fold((0.0, 0.0), |(a, b), (o, s)| (a + o, b + s));
    if s > 0.0 { o / s } else { 1.0 }
}
