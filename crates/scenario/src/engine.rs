//! The engine trait and a generic event loop.

use domain::SimTime;

use crate::{Progress, Scheduler};

/// A discrete-event simulation model.
///
/// Engines own their state and their rngs; the scheduler owns the future.
/// Construction is engine-specific (from a twin snapshot, from benchmark files,
/// from a spec), and so is the outcome type.
pub trait Engine {
    /// What can happen.
    type Event;
    /// What a run reports.
    type Outcome: serde::Serialize;

    /// Handles one event at `now`, scheduling follow-ups.
    fn handle(&mut self, now: SimTime, event: Self::Event, sched: &mut Scheduler<Self::Event>);

    /// The report of the run so far.
    fn outcome(&self) -> Self::Outcome;
}

/// Runs `engine` until the scheduler is empty or the next event is after
/// `horizon`. Reports progress in simulated milliseconds about 200 times.
/// Returns the number of events handled.
pub fn run_until<E: Engine>(
    engine: &mut E,
    sched: &mut Scheduler<E::Event>,
    horizon: SimTime,
    progress: &mut dyn Progress,
) -> u64 {
    let step = (horizon.as_millis() / 200).max(1);
    let mut next_report = 0;
    let mut handled = 0;
    while let Some(t) = sched.peek_time() {
        if t > horizon {
            break;
        }
        let Some((now, ev)) = sched.pop() else { break };
        engine.handle(now, ev, sched);
        handled += 1;
        if now.as_millis() >= next_report {
            progress.update(now.as_millis(), horizon.as_millis());
            next_report = now.as_millis() + step;
        }
    }
    progress.update(horizon.as_millis(), horizon.as_millis());
    handled
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter that re-schedules itself every second.
    struct Ticker {
        ticks: u64,
    }

    impl Engine for Ticker {
        type Event = ();
        type Outcome = u64;
        fn handle(&mut self, _now: SimTime, _e: (), sched: &mut Scheduler<()>) {
            self.ticks += 1;
            sched.schedule_in(1000, ());
        }
        fn outcome(&self) -> u64 {
            self.ticks
        }
    }

    #[test]
    fn run_stops_at_the_horizon_inclusive() {
        let mut e = Ticker { ticks: 0 };
        let mut s = Scheduler::new();
        s.schedule(SimTime::ZERO, ());
        let mut reports = Vec::new();
        let n = run_until(&mut e, &mut s, SimTime::from_secs(10), &mut |d, t| {
            reports.push((d, t))
        });
        assert_eq!(n, 11); // t = 0, 1, ..., 10 s
        assert_eq!(e.outcome(), 11);
        assert_eq!(reports.last(), Some(&(10_000, 10_000)));
    }
}
