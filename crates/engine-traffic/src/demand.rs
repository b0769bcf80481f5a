//! Travel demand: trips with a departure time and a route (or an origin and a
//! destination link to be routed at departure).

use rand::RngExt as _;
use scenario::ChaCha8Rng;

use crate::Error;
use crate::network::{LinkIdx, Network};

/// How a trip gets its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// A complete list of consecutive links.
    Fixed(Vec<LinkIdx>),
    /// Origin and destination links; the path is the shortest on current
    /// travel times at departure.
    Od {
        /// First link.
        from: LinkIdx,
        /// Last link.
        to: LinkIdx,
    },
}

impl Route {
    /// First link.
    pub fn origin(&self) -> LinkIdx {
        match self {
            Route::Fixed(r) => r[0],
            Route::Od { from, .. } => *from,
        }
    }

    /// Last link.
    pub fn destination(&self) -> LinkIdx {
        match self {
            Route::Fixed(r) => r[r.len() - 1],
            Route::Od { to, .. } => *to,
        }
    }
}

/// One vehicle's trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Trip {
    /// External id.
    pub id: String,
    /// Scheduled departure in seconds from the start of the run.
    pub depart_s: f64,
    /// Path or origin/destination.
    pub route: Route,
}

/// All trips of a run, sorted by departure (stable: equal times keep input order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Demand {
    trips: Vec<Trip>,
}

impl Demand {
    /// Sorts `trips` by departure time, keeping input order among equals.
    pub fn new(mut trips: Vec<Trip>) -> Self {
        trips.sort_by(|a, b| a.depart_s.total_cmp(&b.depart_s));
        Self { trips }
    }

    /// The trips in departure order.
    pub fn trips(&self) -> &[Trip] {
        &self.trips
    }

    /// Number of trips.
    pub fn len(&self) -> usize {
        self.trips.len()
    }

    /// Whether there is no trip.
    pub fn is_empty(&self) -> bool {
        self.trips.is_empty()
    }

    /// Scales demand by `factor`: each trip is kept `floor(factor)` times plus
    /// once more with probability `factor - floor(factor)` (SUMO's `--scale`
    /// rule). Copies are named `<id>.<k>`.
    pub fn scaled(&self, factor: f64, rng: &mut ChaCha8Rng) -> Demand {
        let whole = factor.max(0.0).floor();
        let frac = factor.max(0.0) - whole;
        let mut out =
            Vec::with_capacity((self.trips.len() as f64 * factor.max(0.0)).ceil() as usize);
        for t in &self.trips {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let mut n = whole as u64;
            if frac > 0.0 && rng.random::<f64>() < frac {
                n += 1;
            }
            for k in 0..n {
                let mut c = t.clone();
                if k > 0 {
                    c.id = format!("{}.{k}", t.id);
                }
                out.push(c);
            }
        }
        Demand::new(out)
    }

    /// Shifts every departure by `shift_s` seconds (clamped at zero).
    pub fn shifted(&self, shift_s: f64) -> Demand {
        Demand::new(
            self.trips
                .iter()
                .map(|t| Trip {
                    depart_s: (t.depart_s + shift_s).max(0.0),
                    ..t.clone()
                })
                .collect(),
        )
    }

    /// Random origin-destination demand at `veh_per_hour` for `horizon_s`:
    /// departures uniform in time, origins and destinations drawn from
    /// `zones` (links where trips may start and end), distinct. Paths are
    /// chosen at departure on current travel times. For networks without
    /// observed demand (the twin's roads, synthetic benchmarks).
    pub fn random_od(
        zones: &[LinkIdx],
        veh_per_hour: f64,
        horizon_s: f64,
        rng: &mut ChaCha8Rng,
    ) -> Demand {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = (veh_per_hour * horizon_s / 3600.0).round().max(0.0) as usize;
        if zones.len() < 2 {
            return Demand::default();
        }
        let mut trips = Vec::with_capacity(n);
        for i in 0..n {
            let o = zones[rng.random_range(0..zones.len())];
            let mut d = zones[rng.random_range(0..zones.len())];
            while d == o {
                d = zones[rng.random_range(0..zones.len())];
            }
            trips.push(Trip {
                id: format!("od_{i}"),
                depart_s: (rng.random::<f64>() * horizon_s).floor(),
                route: Route::Od { from: o, to: d },
            });
        }
        Demand::new(trips)
    }
}

/// Resolves a route given as link ids, checking each turn exists.
///
/// # Errors
/// [`Error::EmptyRoute`], [`Error::UnknownLink`], [`Error::Disconnected`].
pub fn route_from_ids<'a>(
    net: &Network,
    vehicle: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<LinkIdx>, Error> {
    let mut route = Vec::new();
    for id in ids {
        let l = net
            .link_idx(id)
            .ok_or_else(|| Error::UnknownLink(id.to_string()))?;
        if let Some(&prev) = route.last()
            && net.movement(prev, l).is_none()
        {
            return Err(Error::Disconnected {
                vehicle: vehicle.to_string(),
                from: net.link(prev).id.clone(),
                to: id.to_string(),
            });
        }
        route.push(l);
    }
    if route.is_empty() {
        return Err(Error::EmptyRoute(vehicle.to_string()));
    }
    Ok(route)
}
