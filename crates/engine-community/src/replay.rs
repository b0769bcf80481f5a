//! Trace replay: given every job's arrival, service time and class, compute
//! when each starts and ends on `c` servers.

use scenario::{Engine, NoProgress, Scheduler, SimTime, run_until};
use serde::{Deserialize, Serialize};

use crate::station::Station;

/// How a station picks the next waiting job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    /// First come, first served; the class is ignored.
    Fifo,
    /// Non-preemptive priority: the lowest class number first, FIFO inside a class.
    Priority,
}

impl std::str::FromStr for Discipline {
    type Err = ReplayError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fifo" => Ok(Self::Fifo),
            "priority" => Ok(Self::Priority),
            other => Err(ReplayError::UnknownDiscipline(other.to_string())),
        }
    }
}

/// One job of a trace. Times are integer *ticks* (milliseconds for `SimTime`
/// runs; any unit works as long as all fields share it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceJob {
    /// The job's id, copied to its [`JobTiming`].
    pub id: u64,
    /// Arrival time.
    pub arrival: u64,
    /// Service duration.
    pub service: u64,
    /// Class: 0 is the most urgent.
    pub class: u8,
}

/// When a replayed job started and ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTiming {
    /// The job's id.
    pub id: u64,
    /// Service start.
    pub start: u64,
    /// Service end (`start + service`).
    pub end: u64,
    /// `start - arrival`.
    pub wait: u64,
}

/// Why a trace cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// A station needs at least one server.
    #[error("a station needs at least one server, got {0}")]
    NoServers(u32),
    /// The discipline name is neither `fifo` nor `priority`.
    #[error("unknown discipline {0:?} (expected fifo or priority)")]
    UnknownDiscipline(String),
    /// An arrival plus its service overflows the clock.
    #[error("job {id}: arrival {arrival} + service {service} overflows")]
    Overflow {
        /// The job.
        id: u64,
        /// Its arrival.
        arrival: u64,
        /// Its service.
        service: u64,
    },
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Arrive(u32),
    Depart,
}

struct Replay<'a> {
    jobs: &'a [TraceJob],
    station: Station,
    discipline: Discipline,
    out: Vec<Option<JobTiming>>,
}

impl Replay<'_> {
    fn start(&mut self, now: SimTime, i: u32, sched: &mut Scheduler<Ev>) {
        let job = &self.jobs[i as usize];
        let start = now.as_millis();
        let end = start + job.service;
        self.out[i as usize] = Some(JobTiming {
            id: job.id,
            start,
            end,
            wait: start - job.arrival,
        });
        sched.schedule(SimTime(end), Ev::Depart);
    }
}

impl Engine for Replay<'_> {
    type Event = Ev;
    type Outcome = ();

    fn handle(&mut self, now: SimTime, event: Ev, sched: &mut Scheduler<Ev>) {
        match event {
            Ev::Arrive(i) => {
                let class = match self.discipline {
                    Discipline::Fifo => 0,
                    Discipline::Priority => self.jobs[i as usize].class,
                };
                if self.station.arrive(i, class) {
                    self.start(now, i, sched);
                }
            }
            Ev::Depart => {
                if let Some(next) = self.station.finish() {
                    self.start(now, next, sched);
                }
            }
        }
    }

    fn outcome(&self) {}
}

/// Replays `jobs` on `servers` identical servers and returns each job's
/// timing, in input order.
///
/// Tie-break: arrivals at the same tick are taken in `(class, input order)`
/// order, and at one tick all arrivals are handled before departures (so a
/// job arriving when another leaves is queued, then the freed server picks
/// the most urgent waiting job). Jobs may be given in any order.
///
/// # Errors
/// [`ReplayError::NoServers`] if `servers == 0`; [`ReplayError::Overflow`] if
/// an arrival plus its service does not fit in `u64`.
pub fn replay(
    jobs: &[TraceJob],
    servers: u32,
    discipline: Discipline,
) -> Result<Vec<JobTiming>, ReplayError> {
    if servers == 0 {
        return Err(ReplayError::NoServers(servers));
    }
    let mut order: Vec<u32> =
        (0..u32::try_from(jobs.len()).expect("fewer than 2^32 jobs")).collect();
    for j in jobs {
        // the longest possible end: every job's service back to back after the last arrival
        if j.arrival.checked_add(j.service).is_none() {
            return Err(ReplayError::Overflow {
                id: j.id,
                arrival: j.arrival,
                service: j.service,
            });
        }
    }
    let total_service = jobs
        .iter()
        .try_fold(0u64, |acc, j| acc.checked_add(j.service));
    let last_arrival = jobs.iter().map(|j| j.arrival).max().unwrap_or(0);
    if total_service
        .and_then(|s| s.checked_add(last_arrival))
        .is_none()
    {
        let j = jobs
            .iter()
            .max_by_key(|j| j.service)
            .expect("non-empty when overflowing");
        return Err(ReplayError::Overflow {
            id: j.id,
            arrival: j.arrival,
            service: j.service,
        });
    }
    order.sort_by_key(|&i| {
        let j = &jobs[i as usize];
        let class = match discipline {
            Discipline::Fifo => 0,
            Discipline::Priority => j.class,
        };
        (j.arrival, class, i)
    });
    let mut sched = Scheduler::new();
    for &i in &order {
        sched.schedule(SimTime(jobs[i as usize].arrival), Ev::Arrive(i));
    }
    let mut engine = Replay {
        jobs,
        station: Station::new(servers),
        discipline,
        out: vec![None; jobs.len()],
    };
    run_until(&mut engine, &mut sched, SimTime(u64::MAX), &mut NoProgress);
    Ok(engine
        .out
        .into_iter()
        .map(|t| t.expect("every job starts once the scheduler drains"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, arrival: u64, service: u64, class: u8) -> TraceJob {
        TraceJob {
            id,
            arrival,
            service,
            class,
        }
    }

    #[test]
    fn single_server_fifo_by_hand() {
        let jobs = [job(0, 0, 10, 1), job(1, 2, 5, 1), job(2, 3, 1, 0)];
        let t = replay(&jobs, 1, Discipline::Fifo).unwrap();
        assert_eq!(
            t.iter()
                .map(|t| (t.start, t.end, t.wait))
                .collect::<Vec<_>>(),
            vec![(0, 10, 0), (10, 15, 8), (15, 16, 12)]
        );
        let p = replay(&jobs, 1, Discipline::Priority).unwrap();
        assert_eq!(
            p.iter()
                .map(|t| (t.start, t.end, t.wait))
                .collect::<Vec<_>>(),
            vec![(0, 10, 0), (11, 16, 9), (10, 11, 7)]
        );
    }

    #[test]
    fn equal_arrivals_go_by_class_then_input_order() {
        let jobs = [job(7, 5, 3, 2), job(8, 5, 3, 0)];
        let p = replay(&jobs, 1, Discipline::Priority).unwrap();
        assert_eq!((p[1].start, p[0].start), (5, 8));
        let f = replay(&jobs, 1, Discipline::Fifo).unwrap();
        assert_eq!((f[0].start, f[1].start), (5, 8));
    }

    #[test]
    fn zero_servers_is_an_error() {
        assert_eq!(
            replay(&[], 0, Discipline::Fifo),
            Err(ReplayError::NoServers(0))
        );
        assert_eq!(
            "lifo".parse::<Discipline>(),
            Err(ReplayError::UnknownDiscipline("lifo".into()))
        );
    }
}
