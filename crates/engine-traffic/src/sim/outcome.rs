//! The run's outcome: the report, and the census the property tests check.

use super::{Simulation, State};
use crate::report::{Kpis, LinkBin, LinkReport, REPORT_SCHEMA, Report, VehicleReport};

impl Simulation {
    /// Vehicles loaded so far (departed and routable).
    #[cfg(test)]
    pub(crate) fn census(&self) -> Census {
        let mut c = Census::default();
        for v in &self.veh {
            match v.state {
                State::Scheduled | State::Unroutable => {}
                State::Waiting => c.waiting += 1,
                State::OnLink | State::Teleporting => c.en_route += 1,
                State::Arrived => c.arrived += 1,
                State::Removed => c.removed += 1,
            }
            if !matches!(v.state, State::Scheduled | State::Unroutable) {
                c.loaded += 1;
            }
        }
        for (l, &o) in self.occ.iter().enumerate() {
            c.max_fill = c.max_fill.max(f64::from(o) / self.storage[l]);
        }
        c.min_credit = self.mv_credit.iter().copied().fold(f64::INFINITY, f64::min);
        c
    }

    /// The report at the end of the run.
    pub(super) fn report(&self) -> Report {
        let h = f64::from(self.horizon_s);
        let mut k = Kpis {
            loaded_vehicles: 0,
            completed_trips: 0,
            unserved_vehicles: 0,
            en_route_vehicles: 0,
            waiting_to_enter: 0,
            removed_vehicles: 0,
            unroutable_trips: 0,
            avg_travel_time_s: 0.0,
            avg_travel_time_completed_s: 0.0,
            mean_delay_s: 0.0,
            vkt_km: 0.0,
            vht_h: 0.0,
            mean_speed_kmh: 0.0,
            travel_time_index: 0.0,
            co2_kg: self.co2_g / 1000.0,
            teleports: self.teleports,
            wall_s: None,
        };
        let (mut tt_sum, mut tt_done, mut delay_sum, mut ff_sum) = (0.0, 0.0, 0.0, 0.0);
        let mut vehicles = Vec::new();
        for (i, v) in self.veh.iter().enumerate() {
            let trip = &self.trips[i];
            if v.state == State::Scheduled || trip.depart_s >= h {
                continue;
            }
            if v.state == State::Unroutable {
                k.unroutable_trips += 1;
                continue;
            }
            k.loaded_vehicles += 1;
            let end = if v.state == State::Arrived {
                trip.arrival_s
            } else {
                h
            };
            let tt = end - trip.depart_s;
            let (mut ff, mut dist) = (v.ff_s, v.dist_m);
            match v.state {
                State::Arrived => {
                    k.completed_trips += 1;
                    tt_done += tt;
                }
                State::OnLink | State::Teleporting => {
                    k.en_route_vehicles += 1;
                    let link = &self.net.links[v.link(&self.paths)];
                    let span = (v.ready_s - v.enter_s).max(1e-9);
                    let frac = ((h - v.enter_s) / span).clamp(0.0, 1.0);
                    ff += frac * link.length_m / (link.speed_mps * v.sf);
                    dist += frac * link.length_m;
                }
                State::Waiting => k.waiting_to_enter += 1,
                State::Removed => k.removed_vehicles += 1,
                State::Scheduled | State::Unroutable => {}
            }
            let in_net = if trip.entered_s.is_nan() {
                0.0
            } else {
                (end - trip.entered_s).max(0.0)
            };
            let delay = tt - ff;
            tt_sum += tt;
            delay_sum += delay;
            ff_sum += ff;
            k.vkt_km += dist / 1000.0;
            k.vht_h += in_net / 3600.0;
            if self.p.record_vehicles {
                vehicles.push(VehicleReport {
                    id: self.trips[i].id.clone(),
                    depart_s: trip.depart_s,
                    entered_s: (!trip.entered_s.is_nan()).then_some(trip.entered_s),
                    arrival_s: (v.state == State::Arrived).then_some(trip.arrival_s),
                    route: v
                        .path(&self.paths)
                        .iter()
                        .map(|l| self.net.links[l.0 as usize].id.clone())
                        .collect(),
                    travel_time_s: tt,
                    delay_s: delay,
                    distance_m: dist,
                });
            }
        }
        k.unserved_vehicles = k.loaded_vehicles - k.completed_trips;
        #[allow(clippy::cast_precision_loss)]
        {
            let n = k.loaded_vehicles.max(1) as f64;
            k.avg_travel_time_s = tt_sum / n;
            k.mean_delay_s = delay_sum / n;
            k.avg_travel_time_completed_s = tt_done / k.completed_trips.max(1) as f64;
        }
        k.mean_speed_kmh = if k.vht_h > 0.0 {
            k.vkt_km / k.vht_h
        } else {
            0.0
        };
        k.travel_time_index = if ff_sum > 0.0 {
            k.vht_h * 3600.0 / ff_sum
        } else {
            1.0
        };
        let links = self
            .net
            .links
            .iter()
            .enumerate()
            .map(|(l, link)| {
                let bins: Vec<LinkBin> = (0..self.n_bins)
                    .map(|b| {
                        let j = l * self.n_bins + b;
                        LinkBin {
                            start_s: u32::try_from(b).unwrap_or(u32::MAX) * self.p.bin_s,
                            entered: self.bin_entered[j],
                            mean_speed_kmh: (self.bin_time[j] > 0.0)
                                .then(|| self.bin_dist[j] / self.bin_time[j] * 3.6),
                            max_queue: self.bin_queue[j],
                        }
                    })
                    .collect();
                LinkReport {
                    id: link.id.clone(),
                    entered: bins.iter().map(|b| u64::from(b.entered)).sum(),
                    bins,
                }
            })
            .collect();
        Report {
            schema: REPORT_SCHEMA.to_string(),
            scenario: self.scenario_name.clone(),
            seed: self.seed,
            horizon_s: self.horizon_s,
            kpis: k,
            links,
            vehicles,
        }
    }
}

/// Counts for the conservation property tests.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Census {
    pub loaded: u64,
    pub waiting: u64,
    pub en_route: u64,
    pub arrived: u64,
    pub removed: u64,
    pub max_fill: f64,
    pub min_credit: f64,
}
