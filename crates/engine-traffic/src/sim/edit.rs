//! Timed edits (closures, lane closures, capacity changes) starting and
//! ending during a run, and re-routing around closed links.

use super::queue::Slot;
use super::{SINK, Simulation, State};
use crate::edits::Effect;

impl Simulation {
    /// Starts (`start`) or ends timed edit `i` at `t`.
    pub(super) fn edit(&mut self, i: usize, start: bool, t: f64) {
        if self.active[i] == start {
            return;
        }
        self.active[i] = start;
        let e = self.timed[i];
        let l = e.link.0 as usize;
        match e.effect {
            Effect::Close => {
                if start {
                    self.closed[l] += 1;
                } else {
                    self.closed[l] -= 1;
                }
            }
            Effect::CutLanes(k) => {
                if start {
                    self.cut[l] += k;
                } else {
                    self.cut[l] -= k;
                }
                if self.cut[l] >= self.net.links[l].lanes {
                    // every lane blocked: the link is closed meanwhile
                    let was = self.closed[l];
                    self.closed[l] = was.max(1);
                } else if matches!(e.effect, Effect::CutLanes(_)) && !start {
                    let closures = (0..self.timed.len())
                        .filter(|&j| {
                            self.active[j]
                                && self.timed[j].link == e.link
                                && self.timed[j].effect == Effect::Close
                        })
                        .count();
                    self.closed[l] = u16::try_from(closures).unwrap_or(u16::MAX);
                }
            }
            Effect::Capacity(_) => {}
        }
        self.capf[l] = (0..self.timed.len())
            .filter(|&j| self.active[j] && self.timed[j].link == e.link)
            .map(|j| match self.timed[j].effect {
                Effect::Capacity(f) => f,
                _ => 1.0,
            })
            .product();
        self.refresh_link(l);
        self.any_closed = self.closed.iter().any(|&c| c > 0);
        if start && self.closed[l] > 0 {
            self.reroute_around_closures(t);
        }
        // storage, rates and closures changed: every sleeping queue looks again
        self.wake_all();
    }

    /// Re-routes every vehicle whose remaining path uses a closed link.
    fn reroute_around_closures(&mut self, _t: f64) {
        for vi in 0..self.veh.len() {
            let v = &self.veh[vi];
            if !matches!(v.state, State::Waiting | State::OnLink | State::Teleporting) {
                continue;
            }
            let from = if v.state == State::Waiting { 0 } else { v.pos };
            let path = v.path(&self.paths);
            if !path[from as usize + 1..]
                .iter()
                .any(|l| self.closed[l.0 as usize] > 0)
            {
                continue;
            }
            let (cur, dest) = (path[from as usize], path[path.len() - 1]);
            let path = if self.closed[dest.0 as usize] > 0 {
                None
            } else {
                self.router
                    .shortest(&self.net, &self.tt_est, &self.closed, cur, dest)
            };
            let vi32 = u32::try_from(vi).expect("vehicle index");
            match path {
                Some(p) => {
                    self.set_path(vi, from, &p);
                    if self.veh[vi].state == State::OnLink {
                        let new_mv = self.target(&self.veh[vi], from);
                        let old_mv = self.veh[vi].mv;
                        if new_mv != old_mv {
                            self.remove_from_queue(vi32, old_mv);
                            self.veh[vi].mv = new_mv;
                            let slot = Slot {
                                ready_s: self.veh[vi].ready_s,
                                vi: vi32,
                                then: self.target(&self.veh[vi], from + 1),
                            };
                            self.enqueue(cur.0 as usize, new_mv, slot);
                        } else if new_mv != SINK {
                            let then = self.target(&self.veh[vi], from + 1);
                            self.mq[new_mv as usize].set_then(vi32, then);
                        }
                    } else if self.veh[vi].state == State::Waiting {
                        let mv = self.target(&self.veh[vi], 0);
                        if let Some(w) = self.waiting[cur.0 as usize]
                            .iter_mut()
                            .find(|w| w.0 == vi32)
                        {
                            w.1 = mv;
                        }
                    }
                }
                None => {
                    let v = &self.veh[vi];
                    match v.state {
                        State::OnLink => {
                            self.remove_from_queue(vi32, v.mv);
                            self.occ[cur.0 as usize] -= 1;
                            self.freed(cur.0 as usize);
                        }
                        State::Waiting => {
                            let q = &mut self.waiting[cur.0 as usize];
                            if let Some(k) = q.iter().position(|&(x, _)| x == vi32) {
                                q.remove(k);
                            }
                        }
                        _ => self.teleporting.retain(|&x| x != vi32),
                    }
                    self.veh[vi].state = State::Removed;
                }
            }
        }
    }

    fn remove_from_queue(&mut self, vi: u32, mv: u32) {
        let l = self.veh[vi as usize].link(&self.paths);
        if mv == SINK {
            self.sink[l].remove(vi);
        } else {
            self.mq_remove(mv as usize, vi);
        }
    }
}
