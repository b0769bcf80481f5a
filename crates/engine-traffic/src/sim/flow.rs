//! One step of the model, in order: signals switch, queues discharge on
//! green, vehicles at the end of their route arrive, teleports advance, trips
//! depart, waiting vehicles enter, and queues are counted for the report.

use super::queue::Slot;
use super::{SINK, Simulation, State};

impl Simulation {
    pub(super) fn switch_signals(&mut self, t: f64) {
        for si in 0..self.net.signals.len() {
            while t >= self.sig_next[si] {
                let plan = &self.net.signals[si];
                let old = self.sig_phase[si];
                let new = (old + 1) % plan.phases.len();
                let at = self.sig_next[si];
                for (k, m) in plan.movements.iter().enumerate() {
                    let (g_old, g_new) = (plan.phases[old].green[k], plan.phases[new].green[k]);
                    if g_new && !g_old {
                        self.green_start[m.0 as usize] = at;
                    } else if !g_new {
                        self.green_start[m.0 as usize] = f64::INFINITY;
                    }
                }
                self.sig_phase[si] = new;
                self.sig_next[si] = at + plan.phases[new].duration_s;
                if plan.cycle_s() <= 0.0 {
                    break;
                }
            }
        }
    }

    /// Discharges every queue that holds vehicles, in movement order.
    pub(super) fn discharge(&mut self, t: f64) {
        let mut next = self.mv_active.next_from(0);
        while let Some(m) = next {
            self.discharge_movement(m, t);
            next = self.mv_active.next_from(m + 1);
        }
    }

    /// Discharges movement `m`'s queue at `t`: on green (after the start-up
    /// lost time) and within its saturation credit, ready heads move on to
    /// their next link while it has room; a head blocked for `stuck_time_s`
    /// teleports.
    fn discharge_movement(&mut self, m: usize, t: f64) {
        if self.mq[m].is_empty() {
            self.mv_credit[m] = 0.0;
            self.mv_active.remove(m);
            return;
        }
        if t < self.green_start[m] + self.mv_lost[m] {
            self.mv_credit[m] = 0.0;
            self.mv_blocked[m] = f64::NAN;
            return;
        }
        let cap = f64::from(self.net.movements[m].lanes).max(1.0);
        self.mv_credit[m] = self.mv_credit[m].min(cap) + self.mv_rate[m];
        while self.mv_credit[m] >= 1.0 - 1e-9 && self.mq[m].head_ready_s() <= t {
            let Some(Slot { vi, .. }) = self.mq[m].front() else {
                break;
            };
            let v = &self.veh[vi as usize];
            let next = self.paths[(v.start + v.pos + 1) as usize].0 as usize;
            let next_mv = self.target(v, v.pos + 1);
            if !self.has_space(next, next_mv) {
                if self.mv_blocked[m].is_nan() {
                    self.mv_blocked[m] = t;
                } else if t - self.mv_blocked[m] >= self.p.stuck_time_s {
                    self.mq[m].pop();
                    self.start_teleport(vi, t);
                    self.mv_blocked[m] = f64::NAN;
                }
                break;
            }
            self.mv_blocked[m] = f64::NAN;
            self.mq[m].pop();
            self.mv_credit[m] -= 1.0;
            let mv = &self.net.movements[m];
            let (cross_m, cross_v) = (mv.cross_m, mv.cross_speed_mps);
            self.leave(vi, t, cross_m);
            let v = &mut self.veh[vi as usize];
            v.pos += 1;
            let cross_s = cross_m / cross_v.min(self.net.links[next].speed_mps * v.sf);
            self.enter(vi, t, cross_s, next_mv);
        }
    }

    /// Vehicles whose route ends on a link leave it once ready (in link
    /// order, first in first out).
    pub(super) fn arrive(&mut self, t: f64) {
        let mut next = self.sink_active.next_from(0);
        while let Some(l) = next {
            while self.sink[l].head_ready_s() <= t {
                let Some(Slot { vi, .. }) = self.sink[l].pop() else {
                    break;
                };
                self.leave(vi, t, 0.0);
                self.veh[vi as usize].state = State::Arrived;
                self.trips[vi as usize].arrival_s = t;
            }
            if self.sink[l].is_empty() {
                self.sink_active.remove(l);
            }
            next = self.sink_active.next_from(l + 1);
        }
    }

    /// Takes a blocked queue head out of the network and lets it travel along
    /// its route at free-flow speed until a link has room (SUMO's teleport).
    fn start_teleport(&mut self, vi: u32, t: f64) {
        self.teleports += 1;
        let v = &mut self.veh[vi as usize];
        let l = v.link(&self.paths);
        self.occ[l] -= 1;
        let link = &self.net.links[l];
        v.ff_s += link.length_m / (link.speed_mps * v.sf);
        v.dist_m += link.length_m;
        self.skip_link(vi, t);
    }

    /// Moves a teleporting vehicle virtually over its next link.
    fn skip_link(&mut self, vi: u32, t: f64) {
        let v = &mut self.veh[vi as usize];
        v.pos += 1;
        let link = &self.net.links[v.link(&self.paths)];
        v.enter_s = t;
        v.ready_s = t + link.length_m / (link.speed_mps * v.sf);
        v.state = State::Teleporting;
        v.mv = SINK;
        self.teleporting.push(vi);
    }

    pub(super) fn teleport_step(&mut self, t: f64) {
        if self.teleporting.is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.teleporting);
        for vi in list {
            let v = &self.veh[vi as usize];
            if v.ready_s > t {
                self.teleporting.push(vi);
                continue;
            }
            let link = &self.net.links[v.link(&self.paths)];
            let (len, ff) = (link.length_m, link.length_m / (link.speed_mps * v.sf));
            let v = &mut self.veh[vi as usize];
            v.ff_s += ff;
            v.dist_m += len;
            if v.pos + 1 == v.len {
                v.state = State::Arrived;
                self.trips[vi as usize].arrival_s = t;
                continue;
            }
            let v = &self.veh[vi as usize];
            let next = self.paths[(v.start + v.pos + 1) as usize].0 as usize;
            let next_mv = self.target(v, v.pos + 1);
            if self.has_space(next, next_mv) {
                self.veh[vi as usize].pos += 1;
                self.enter(vi, t, 0.0, next_mv);
            } else {
                self.skip_link(vi, t);
            }
        }
    }

    pub(super) fn depart(&mut self, t: f64) {
        while self.next_trip < self.trips.len() && self.trips[self.next_trip].depart_s <= t {
            let i = self.next_trip;
            self.next_trip += 1;
            let vi = u32::try_from(i).expect("fewer than 2^32 vehicles");
            let path = self.veh[i].path(&self.paths);
            let od = self.trips[i].od;
            let needs_route = od.is_some()
                || (self.any_closed && path.iter().any(|l| self.closed[l.0 as usize] > 0));
            if needs_route {
                let (o, d) = od.unwrap_or((path[0], path[path.len() - 1]));
                let path = if self.closed[o.0 as usize] > 0 || self.closed[d.0 as usize] > 0 {
                    None
                } else if o == d {
                    Some(vec![o])
                } else {
                    self.router
                        .shortest(&self.net, &self.tt_est, &self.closed, o, d)
                };
                match path {
                    Some(p) => self.set_path(i, 0, &p),
                    None => {
                        self.veh[i].state = State::Unroutable;
                        continue;
                    }
                }
            }
            self.veh[i].state = State::Waiting;
            let o = self.paths[self.veh[i].start as usize].0;
            self.waiting[o as usize].push_back(vi);
            self.waiting_links.insert(o as usize);
        }
    }

    /// Waiting vehicles enter their first link, in link order, while it has
    /// room and entry capacity.
    pub(super) fn insert(&mut self, t: f64) {
        let mut next = self.waiting_links.next_from(0);
        while let Some(l) = next {
            while let Some(&vi) = self.waiting[l].front() {
                let mv = self.target(&self.veh[vi as usize], 0);
                if !self.has_space(l, mv) {
                    break;
                }
                self.waiting[l].pop_front();
                self.trips[vi as usize].entered_s = t;
                self.enter(vi, t, 0.0, mv);
            }
            if self.waiting[l].is_empty() {
                self.waiting_links.remove(l);
            }
            next = self.waiting_links.next_from(l + 1);
        }
    }

    /// Records each link's stop-line queue (the ready prefixes of its
    /// movements' queues) into the current bin's maximum. Links without a
    /// queued vehicle have nothing to record.
    pub(super) fn record_queues(&mut self, t: f64) {
        let b = self.bin(t);
        let (mut link, mut q) = (usize::MAX, 0u32);
        let mut next = self.mv_active.next_from(0);
        while let Some(m) = next {
            // movements are sorted by upstream link: a link's are consecutive
            let l = self.mv_link[m] as usize;
            if l != link {
                self.record_queue(link, b, q);
                (link, q) = (l, 0);
            }
            q += self.mq[m].count_ready(t);
            next = self.mv_active.next_from(m + 1);
        }
        self.record_queue(link, b, q);
    }

    fn record_queue(&mut self, l: usize, b: usize, q: u32) {
        if q > 0 {
            let slot = &mut self.bin_queue[l * self.n_bins + b];
            *slot = (*slot).max(q);
        }
    }
}
