//! One step of the model, in order: signals switch, queues discharge on
//! green, vehicles at the end of their route arrive, teleports advance, trips
//! depart, waiting vehicles enter, and queues are counted for the report.
//!
//! Which queues a step visits: a movement's visit is skipped only while it
//! could do nothing but accrue credit. It sleeps on red (a signal switch
//! wakes it), while its head is still travelling (until the head's ready
//! step), and while its ready head waits for room on a full or closed link
//! (until a vehicle leaves that link, an edit, or its teleport falls due).
//! Waking early is always harmless: a visit never changes the result.

use super::queue::{Slot, step_at};
use super::{Room, SINK, Simulation, State, step_index};

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
                    if g_new != g_old && !self.mq[m.0 as usize].is_empty() {
                        // red queues sleep: wake it to reset or start its credit
                        self.mv_awake.insert(m.0 as usize);
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

    /// Discharges every queue that holds vehicles and is awake, in movement
    /// order.
    pub(super) fn discharge(&mut self, t: f64) {
        let ts = step_index(t);
        while let Some(m) = self.mv_wake.pop_due(ts) {
            self.mv_awake.insert(m);
        }
        let mut next = self.mv_awake.next_from(0);
        while let Some(m) = next {
            self.discharge_movement(m, t, ts);
            next = self.mv_awake.next_from(m + 1);
        }
    }

    /// Discharges movement `m`'s queue at `t`: on green (after the start-up
    /// lost time) and within its saturation credit, ready heads move on to
    /// their next link while it has room; a head blocked for `stuck_time_s`
    /// teleports.
    ///
    /// Then it sleeps if it can only accrue credit until something it waits
    /// for happens (see the module docs).
    fn discharge_movement(&mut self, m: usize, t: f64, ts: u32) {
        if self.mv_accrues[m] {
            // the steps slept through since the last visit, all green
            let slept = ts.saturating_sub(self.mv_seen[m]).saturating_sub(1);
            self.accrue(m, slept);
        }
        self.mv_seen[m] = ts;
        self.mv_accrues[m] = false;
        if self.mq[m].is_empty() {
            self.mv_credit[m] = 0.0;
            self.mv_awake.remove(m);
            return;
        }
        if t < self.green_start[m] + self.mv_lost[m] {
            self.mv_credit[m] = 0.0;
            self.mv_blocked[m] = f64::NAN;
            if self.green_start[m] == f64::INFINITY && self.may_sleep() {
                // red: the switch to green wakes it
                self.mv_awake.remove(m);
            }
            return;
        }
        self.mv_accrues[m] = true;
        let cap = f64::from(self.net.movements[m].lanes).max(1.0);
        self.mv_credit[m] = self.mv_credit[m].min(cap) + self.mv_rate[m];
        let mut waits_for = None;
        while self.mv_credit[m] >= 1.0 - 1e-9 && self.mq[m].head_ready_s() <= t {
            let Some(Slot { vi, then, .. }) = self.mq[m].front() else {
                break;
            };
            let next = self.net.movements[m].to.0 as usize;
            let next_mv = then;
            let room = self.room(next, next_mv);
            if room != Room::Yes {
                if self.mv_blocked[m].is_nan() {
                    self.mv_blocked[m] = t;
                } else if t - self.mv_blocked[m] >= self.p.stuck_time_s {
                    self.mq_pop(m);
                    self.start_teleport(vi, t);
                    self.mv_blocked[m] = f64::NAN;
                    break;
                }
                if room == Room::WhenLeft {
                    waits_for = Some(next);
                }
                break;
            }
            self.mv_blocked[m] = f64::NAN;
            self.mq_pop(m);
            self.mv_credit[m] -= 1.0;
            let mv = &self.net.movements[m];
            let (cross_m, cross_v) = (mv.cross_m, mv.cross_speed_mps);
            self.leave(vi, t, cross_m);
            let v = &mut self.veh[vi as usize];
            v.pos += 1;
            let cross_s = cross_m / cross_v.min(self.net.links[next].speed_mps * v.sf);
            self.enter(vi, t, cross_s, next_mv);
        }
        let head_ready_s = self.mq[m].head_ready_s();
        if self.mq[m].is_empty() || !self.may_sleep() {
            // stays awake: the next visit resets its credit, as on any empty visit
        } else if head_ready_s > t {
            self.mv_awake.remove(m);
            self.mv_wake.at(step_at(head_ready_s), m);
        } else if let Some(l) = waits_for {
            self.mv_awake.remove(m);
            self.room_waiters[l].push(u32::try_from(m).expect("movement index fits u32"));
            // a visit one step early is harmless; one late would delay the teleport
            let due = step_at(self.mv_blocked[m] + self.p.stuck_time_s).saturating_sub(1);
            self.mv_wake.at(due.max(ts + 1), m);
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
        self.freed(l);
        let v = &mut self.veh[vi as usize];
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
            let mv = self.target(&self.veh[i], 0);
            self.waiting[o as usize].push_back((vi, mv));
            self.waiting_links.insert(o as usize);
        }
    }

    /// Waiting vehicles enter their first link, in link order, while it has
    /// room and entry capacity. An origin whose link is full sleeps until a
    /// vehicle leaves the link.
    pub(super) fn insert(&mut self, t: f64) {
        let mut next = self.waiting_links.next_from(0);
        while let Some(l) = next {
            let mut full = false;
            while let Some(&(vi, mv)) = self.waiting[l].front() {
                match self.room(l, mv) {
                    Room::Yes => {}
                    Room::NextSecond => break,
                    Room::WhenLeft => {
                        full = true;
                        break;
                    }
                }
                self.waiting[l].pop_front();
                self.trips[vi as usize].entered_s = t;
                self.enter(vi, t, 0.0, mv);
            }
            if self.waiting[l].is_empty() {
                self.waiting_links.remove(l);
            } else if full && self.may_sleep() {
                self.waiting_links.remove(l);
                self.origin_asleep[l] = true;
            }
            next = self.waiting_links.next_from(l + 1);
        }
    }

    /// Records each link's stop-line queue (the ready prefixes of its
    /// movements' queues) into the current bin's maximum. Between two
    /// growths of a ready prefix a link's queue only shrinks, so it is
    /// recorded where a prefix grows (at the steps the calendar gives) and,
    /// for every link, at the first step of each bin. Links without a queued
    /// vehicle have nothing to record.
    pub(super) fn record_queues(&mut self, t: f64) {
        let b = self.bin(t);
        #[cfg(test)]
        if self.visit_all {
            for m in 0..self.mq.len() {
                if !self.mq[m].is_empty() {
                    self.count_due.at(0, m);
                }
            }
            self.queue_bin = usize::MAX;
        }
        while let Some(m) = self.count_due.pop_due(step_index(t)) {
            let before = self.mq[m].nready();
            let after = self.mq[m].count_ready(t);
            if after > before {
                let l = self.mv_link[m] as usize;
                self.link_queue[l] += after - before;
                self.record_queue(l, b, self.link_queue[l]);
                self.count_due.at(step_at(self.mq[m].pending_ready_s()), m);
            }
        }
        if b != self.queue_bin {
            self.queue_bin = b;
            for l in 0..self.link_queue.len() {
                self.record_queue(l, b, self.link_queue[l]);
            }
        }
    }

    fn record_queue(&mut self, l: usize, b: usize, q: u32) {
        if q > 0 {
            let slot = &mut self.bin_queue[l * self.n_bins + b];
            *slot = (*slot).max(q);
        }
    }
}
