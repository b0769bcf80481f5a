//! The feeder as a `scenario::Engine`: one event per 15-minute step, so a
//! feeder run shares the scheduler, horizon and progress reporting of the
//! other engines.

use serde::Serialize;

use crate::complex::C64;
use crate::error::PfError;
use crate::kpi::{KpiAccumulator, Kpis, Limits};
use crate::network::Network;
use crate::powerflow::{PfOptions, Solver};
use crate::timeseries::{ElementSeries, STEP_HOURS, StepState};

/// Milliseconds in one step.
pub const STEP_MS: u64 = 15 * 60 * 1000;

/// What can happen to a feeder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeederEvent {
    /// Solve step `k` of the series.
    Step(usize),
}

/// The report of a feeder run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeederOutcome {
    /// KPIs of the steps done.
    pub kpis: Kpis,
    /// Steps solved.
    pub steps_done: usize,
    /// The failure that stopped the run, if any.
    pub error: Option<String>,
}

/// A feeder driven step by step by the scheduler.
#[derive(Debug, Clone)]
pub struct FeederEngine {
    net: Network,
    series: ElementSeries,
    solver: Solver,
    v: Vec<C64>,
    state: StepState,
    acc: KpiAccumulator,
    done: usize,
    error: Option<PfError>,
}

impl FeederEngine {
    /// A feeder over `series`; schedule [`FeederEvent::Step`]`(0)` at time zero to start.
    pub fn new(
        net: &Network,
        series: ElementSeries,
        limits: Limits,
        emission_factor_kg_per_kwh: f64,
    ) -> Result<Self, PfError> {
        Ok(Self {
            solver: Solver::new(net, PfOptions::default())?,
            acc: KpiAccumulator::new(net, limits, emission_factor_kg_per_kwh, STEP_HOURS),
            net: net.clone(),
            series,
            v: Vec::new(),
            state: StepState::default(),
            done: 0,
            error: None,
        })
    }

    /// The state after the last solved step.
    pub fn state(&self) -> &StepState {
        &self.state
    }
}

impl scenario::Engine for FeederEngine {
    type Event = FeederEvent;
    type Outcome = FeederOutcome;

    fn handle(
        &mut self,
        _now: scenario::SimTime,
        event: FeederEvent,
        sched: &mut scenario::Scheduler<FeederEvent>,
    ) {
        let FeederEvent::Step(k) = event;
        if self.error.is_some() || k >= self.series.steps {
            return;
        }
        self.series.apply(k, &mut self.net);
        match self.solver.step(&self.net, &mut self.v, &mut self.state) {
            Ok(()) => {
                self.acc.add(&self.state);
                self.done += 1;
                if k + 1 < self.series.steps {
                    sched.schedule_in(STEP_MS, FeederEvent::Step(k + 1));
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn outcome(&self) -> FeederOutcome {
        FeederOutcome {
            kpis: self.acc.finish(),
            steps_done: self.done,
            error: self.error.as_ref().map(ToString::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{default_load_shape, default_pv_shape};
    use crate::synthetic::{SyntheticSpec, synthetic_feeder};
    use crate::timeseries::run_series;
    use scenario::{Engine as _, NoProgress, Scheduler, SimTime, run_until};

    fn series(net: &Network, steps: usize) -> ElementSeries {
        let mut s = ElementSeries {
            steps,
            ..ElementSeries::default()
        };
        for k in 0..steps {
            let (l, p) = (default_load_shape(k), default_pv_shape(k));
            s.load_p_mw
                .push(net.load.iter().map(|x| x.p_mw * l * 3.0).collect());
            s.sgen_p_mw.push(
                net.sgen
                    .iter()
                    .map(|x| x.sn_mva.unwrap_or(0.0) * p)
                    .collect(),
            );
        }
        s
    }

    #[test]
    fn the_engine_matches_the_plain_series_loop_and_stops_at_the_horizon() {
        let net = synthetic_feeder(&SyntheticSpec {
            substations: 2,
            lv_buses: 20,
            seed: 5,
        });
        let s = series(&net, 96);
        let mut eng = FeederEngine::new(&net, s.clone(), Limits::default(), 0.5366).unwrap();
        let mut sched = Scheduler::new();
        sched.schedule(SimTime::ZERO, FeederEvent::Step(0));
        let n = run_until(
            &mut eng,
            &mut sched,
            SimTime::from_secs(95 * 900),
            &mut NoProgress,
        );
        assert_eq!(n, 96);
        let out = eng.outcome();
        assert_eq!(out.steps_done, 96);
        assert!(out.error.is_none());
        let mut acc = KpiAccumulator::new(&net, Limits::default(), 0.5366, STEP_HOURS);
        let mut n2 = net.clone();
        run_series(
            &mut n2,
            &s,
            PfOptions::default(),
            &mut NoProgress,
            |_, st| acc.add(st),
        )
        .unwrap();
        assert_eq!(out.kpis, acc.finish());
        // a shorter horizon stops early
        let mut eng = FeederEngine::new(&net, s, Limits::default(), 0.5366).unwrap();
        let mut sched = Scheduler::new();
        sched.schedule(SimTime::ZERO, FeederEvent::Step(0));
        run_until(
            &mut eng,
            &mut sched,
            SimTime::from_secs(9 * 900),
            &mut NoProgress,
        );
        assert_eq!(eng.outcome().steps_done, 10);
    }

    #[test]
    fn a_failed_step_stops_the_run_and_is_reported() {
        let net = synthetic_feeder(&SyntheticSpec {
            substations: 1,
            lv_buses: 5,
            seed: 5,
        });
        let mut s = series(&net, 4);
        s.load_p_mw[2] = vec![1e3; net.load.len()]; // a gigawatt per household: collapse
        let mut eng = FeederEngine::new(&net, s, Limits::default(), 0.5366).unwrap();
        let mut sched = Scheduler::new();
        sched.schedule(SimTime::ZERO, FeederEvent::Step(0));
        run_until(
            &mut eng,
            &mut sched,
            SimTime::from_secs(3600),
            &mut NoProgress,
        );
        let out = eng.outcome();
        assert_eq!(out.steps_done, 2);
        assert!(out.error.is_some());
    }
}
