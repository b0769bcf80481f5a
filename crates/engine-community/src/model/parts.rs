//! Splitting a city into parts that never interact, and running the parts on
//! several threads.
//!
//! Two arrival streams interact when they share a team (a queue) or a
//! community (its KPIs); replayed events all draw from one random stream, so
//! their streams interact too. A part is a connected component of that
//! relation, with its teams (a team that serves no stream is a part of its
//! own: its shifts are still events). Inside a part the events happen in the
//! same order as on one scheduler for the whole city, so the split changes
//! no job's times.

use std::sync::atomic::{AtomicUsize, Ordering};

use scenario::Progress;

use super::{EventQueue, Job, PartOutcome, Rngs, Sim};
use crate::kpi::{Groups, Scratch};
use crate::spec::Compiled;

/// One part of a city: spec indices, ascending.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    pub(crate) streams: Vec<u32>,
    pub(crate) teams: Vec<u32>,
    pub(crate) communities: Vec<u32>,
    /// indices into the replayed events
    pub(crate) replays: Vec<u32>,
    /// for every community (team) of the city, its position in its own
    /// part's list (shared by all parts of a split)
    community_slot: std::sync::Arc<[u32]>,
    team_slot: std::sync::Arc<[u32]>,
}

fn indices(n: usize) -> Vec<u32> {
    (0..u32::try_from(n).expect("fewer than 2^32 items")).collect()
}

/// Union-find root with path halving.
fn root(up: &mut [usize], mut x: usize) -> usize {
    while up[x] != x {
        up[x] = up[up[x]];
        x = up[x];
    }
    x
}

impl Part {
    /// The whole city as one part.
    pub(crate) fn whole(c: &Compiled) -> Self {
        let communities = indices(c.communities.len());
        let teams = indices(c.teams.len());
        Self {
            streams: indices(c.streams.len()),
            community_slot: communities.clone().into(),
            team_slot: teams.clone().into(),
            teams,
            communities,
            replays: indices(c.replay.len()),
        }
    }

    /// The parts of a city, ordered by their first team.
    pub(crate) fn split(c: &Compiled) -> Vec<Self> {
        let nt = c.teams.len();
        // nodes: teams, then communities
        let mut up: Vec<usize> = (0..nt + c.communities.len()).collect();
        let mut join = |a: usize, b: usize| {
            let (ra, rb) = (root(&mut up, a), root(&mut up, b));
            up[ra.max(rb)] = ra.min(rb);
        };
        for s in &c.streams {
            join(s.team as usize, nt + s.community as usize);
        }
        if let Some(&(first, ..)) = c.replay.first() {
            let t0 = c.streams[first as usize].team as usize;
            for &(s, ..) in &c.replay {
                join(t0, c.streams[s as usize].team as usize);
            }
        }
        let mut part_of = vec![usize::MAX; up.len()];
        let mut parts: Vec<Self> = Vec::new();
        let mut team_slot = vec![0u32; nt];
        for (t, slot) in team_slot.iter_mut().enumerate() {
            let r = root(&mut up, t);
            if part_of[r] == usize::MAX {
                part_of[r] = parts.len();
                parts.push(Self::default());
            }
            let p = &mut parts[part_of[r]];
            *slot = u32::try_from(p.teams.len()).expect("u32");
            p.teams.push(u32::try_from(t).expect("u32"));
        }
        let mut community_slot = vec![0u32; c.communities.len()];
        for (k, slot) in community_slot.iter_mut().enumerate() {
            // a community without streams has no incidents and no part
            let r = root(&mut up, nt + k);
            if let Some(p) = parts.get_mut(part_of[r]) {
                *slot = u32::try_from(p.communities.len()).expect("u32");
                p.communities.push(u32::try_from(k).expect("u32"));
            }
        }
        for (s, st) in c.streams.iter().enumerate() {
            let p = part_of[root(&mut up, st.team as usize)];
            parts[p].streams.push(u32::try_from(s).expect("u32"));
        }
        for (i, &(s, ..)) in c.replay.iter().enumerate() {
            let p = part_of[root(&mut up, c.streams[s as usize].team as usize)];
            parts[p].replays.push(u32::try_from(i).expect("u32"));
        }
        let (cs, ts): (std::sync::Arc<[u32]>, std::sync::Arc<[u32]>) =
            (community_slot.into(), team_slot.into());
        for p in &mut parts {
            p.community_slot = cs.clone();
            p.team_slot = ts.clone();
        }
        parts
    }

    pub(crate) fn community_groups(&self) -> Groups<'_> {
        Groups {
            ids: &self.communities,
            slot: &self.community_slot,
        }
    }

    pub(crate) fn team_groups(&self) -> Groups<'_> {
        Groups {
            ids: &self.teams,
            slot: &self.team_slot,
        }
    }
}

/// A thread's buffers, reused from one part to the next.
#[derive(Default)]
struct Worker {
    jobs: Vec<Job>,
    scratch: Scratch,
}

impl Worker {
    fn run(&mut self, c: &Compiled, part: &Part, rngs: &Rngs) -> PartOutcome {
        let mut queue = EventQueue::default();
        let mut sim = Sim::new(c, part, rngs, std::mem::take(&mut self.jobs), &mut queue);
        sim.run(c, &mut queue);
        let out = sim.outcome(c, part, &mut self.scratch);
        self.jobs = sim.into_jobs();
        out
    }

    /// Takes parts from `next` until none is left; `done` is called after each.
    fn drain(
        &mut self,
        c: &Compiled,
        parts: &[Part],
        rngs: &Rngs,
        next: &AtomicUsize,
        done: &mut dyn FnMut(),
    ) -> Vec<(usize, PartOutcome)> {
        let mut outs = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(i) else {
                return outs;
            };
            outs.push((i, self.run(c, part, rngs)));
            done();
        }
    }
}

/// Runs `parts` on up to `threads` threads (the calling one included) and
/// returns their outcomes in part order. Progress is in simulated ms: the
/// horizon times the share of parts done.
pub(crate) fn run(
    c: &Compiled,
    parts: &[Part],
    threads: usize,
    progress: &mut dyn Progress,
) -> Vec<PartOutcome> {
    let rngs = Rngs::new(c);
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let total = parts.len().max(1) as u64;
    let horizon = c.horizon_ms;
    let threads = threads.clamp(1, parts.len().max(1));
    let mut outs: Vec<(usize, PartOutcome)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads)
            .map(|_| {
                s.spawn(|| {
                    Worker::default().drain(c, parts, &rngs, &next, &mut || {
                        finished.fetch_add(1, Ordering::Relaxed);
                    })
                })
            })
            .collect();
        let mut outs = Worker::default().drain(c, parts, &rngs, &next, &mut || {
            let n = finished.fetch_add(1, Ordering::Relaxed) as u64 + 1;
            progress.update(horizon / total * n.min(total), horizon);
        });
        for h in helpers {
            outs.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        outs
    });
    progress.update(horizon, horizon);
    outs.sort_by_key(|&(i, _)| i);
    outs.into_iter().map(|(_, o)| o).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::CitySpec;

    fn compiled(text: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Compiled {
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        edit(&mut v);
        let spec: CitySpec = serde_json::from_value(v).unwrap();
        spec.compile(None).unwrap()
    }

    /// Every stream, team and replayed event is in exactly one part, with
    /// its team and community.
    fn check_cover(c: &Compiled, parts: &[Part]) {
        let mut streams: Vec<u32> = parts.iter().flat_map(|p| p.streams.clone()).collect();
        let mut teams: Vec<u32> = parts.iter().flat_map(|p| p.teams.clone()).collect();
        let mut replays: Vec<u32> = parts.iter().flat_map(|p| p.replays.clone()).collect();
        streams.sort_unstable();
        teams.sort_unstable();
        replays.sort_unstable();
        assert_eq!(streams, indices(c.streams.len()));
        assert_eq!(teams, indices(c.teams.len()));
        assert_eq!(replays, indices(c.replay.len()));
        for p in parts {
            for &s in &p.streams {
                let st = &c.streams[s as usize];
                assert!(p.teams.contains(&st.team));
                assert!(p.communities.contains(&st.community));
                assert_eq!(
                    p.communities[p.community_slot[st.community as usize] as usize],
                    st.community
                );
                assert_eq!(p.teams[p.team_slot[st.team as usize] as usize], st.team);
            }
        }
    }

    #[test]
    fn communities_with_their_own_teams_are_parts_of_their_own() {
        let c = compiled(include_str!("../../reference/city_month.json"), |_| {});
        let parts = Part::split(&c);
        check_cover(&c, &parts);
        assert_eq!(parts.len(), 20);
        for (k, p) in parts.iter().enumerate() {
            assert_eq!(
                (p.teams.len(), p.communities.len(), p.streams.len()),
                (1, 1, 4)
            );
            assert_eq!(p.teams[0] as usize, k);
        }
    }

    #[test]
    fn shared_teams_and_replayed_events_join_parts() {
        let text = include_str!("../../tests/golden/features_spec.json");
        // a city-wide team and replays in every community: one part
        let c = compiled(text, |_| {});
        let parts = Part::split(&c);
        check_cover(&c, &parts);
        assert_eq!(parts.len(), 1);
        // flooding (the city-wide team's type) and replays in the east only,
        // plus a team without streams: north, south, east + drainage, spare
        let c = compiled(text, |v| {
            v["arrivals"]
                .as_array_mut()
                .unwrap()
                .retain(|a| a["kind"] != "flooding" || a["community"] == "east");
            v["replay"]
                .as_array_mut()
                .unwrap()
                .retain(|r| r["community"] == "east");
            v["teams"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({"name": "spare", "kinds": [], "shifts": {"constant": 1}}));
        });
        let parts = Part::split(&c);
        check_cover(&c, &parts);
        let teams: Vec<Vec<&str>> = parts
            .iter()
            .map(|p| {
                p.teams
                    .iter()
                    .map(|&t| c.team_names[t as usize].as_str())
                    .collect()
            })
            .collect();
        assert_eq!(
            teams,
            vec![
                vec!["grid-north"],
                vec!["grid-south"],
                vec!["grid-east", "drainage"],
                vec!["spare"]
            ]
        );
        assert!(parts[3].streams.is_empty() && parts[3].communities.is_empty());
        assert_eq!(parts[2].replays.len(), c.replay.len());
    }
}
