//! Entry points: one run, or a baseline and a variant with deltas.

use scenario::{Engine as _, Progress, fork, run_until, seeded};

use crate::Error;
use crate::demand::Demand;
use crate::edits::Scenario;
use crate::network::Network;
use crate::params::Params;
use crate::report::{Comparison, Report};
use crate::sim::{RunMeta, Simulation};

/// Runs `demand` on `net` with the edits of `scenario` for `horizon_s`
/// simulated seconds and returns the report.
///
/// Deterministic: the same inputs and `seed` give an identical report. The
/// master rng is forked once per subsystem, in this order: demand scaling,
/// vehicle speed factors.
///
/// # Errors
/// [`Error::BadParam`] for invalid parameters, [`Error::BadEdit`] for edits
/// that do not apply to `net`.
pub fn simulate(
    net: &Network,
    demand: &Demand,
    scenario: &Scenario,
    params: &Params,
    seed: u64,
    horizon_s: u32,
    progress: &mut dyn Progress,
) -> Result<Report, Error> {
    params.validate()?;
    let mut sim = prepare(net, demand, scenario, params, seed, horizon_s)?;
    let mut sched = sim.scheduler();
    let h = sim.horizon();
    run_until(&mut sim, &mut sched, h, progress);
    Ok(sim.outcome())
}

/// Builds the simulation of [`simulate`] without running it, for callers
/// that drive the event loop themselves, e.g. in slices so that they can
/// stop early: `scenario::run_until` on it and its
/// [`Simulation::scheduler`] up to [`Simulation::horizon`] (in one call or
/// several with growing horizons), then `outcome()`, gives [`simulate`]'s
/// report.
///
/// # Errors
/// As [`simulate`].
pub fn simulation(
    net: &Network,
    demand: &Demand,
    scenario: &Scenario,
    params: &Params,
    seed: u64,
    horizon_s: u32,
) -> Result<Simulation, Error> {
    params.validate()?;
    prepare(net, demand, scenario, params, seed, horizon_s)
}

/// Builds the simulation without running it.
pub(crate) fn prepare(
    net: &Network,
    demand: &Demand,
    scenario: &Scenario,
    params: &Params,
    seed: u64,
    horizon_s: u32,
) -> Result<Simulation, Error> {
    let mut master = seeded(seed);
    let mut rng_demand = fork(&mut master);
    let rng_speed = fork(&mut master);
    let net = scenario.apply_to_network(net)?;
    let timed = scenario.timed(&net)?;
    let d = &scenario.demand;
    if !(d.scale >= 0.0 && d.scale.is_finite() && d.shift_s.is_finite()) {
        return Err(Error::BadEdit {
            edit: "demand".into(),
            reason: format!("scale {} shift {}", d.scale, d.shift_s),
        });
    }
    let mut demand = if (d.scale - 1.0).abs() > f64::EPSILON {
        demand.scaled(d.scale, &mut rng_demand)
    } else {
        demand.clone()
    };
    if d.shift_s != 0.0 {
        demand = demand.shifted(d.shift_s);
    }
    Ok(Simulation::new(
        net,
        demand.trips().to_vec(),
        timed,
        params.clone(),
        rng_speed,
        RunMeta {
            seed,
            horizon_s,
            scenario_name: scenario.name.clone(),
        },
    ))
}

/// Runs the baseline (no edits) and the variant (`scenario`) with the same
/// seed (common random numbers) and returns both reports with their deltas.
/// Progress counts both runs.
///
/// # Errors
/// As [`simulate`].
pub fn compare(
    net: &Network,
    demand: &Demand,
    scenario: &Scenario,
    params: &Params,
    seed: u64,
    horizon_s: u32,
    progress: &mut dyn Progress,
) -> Result<Comparison, Error> {
    let total = 2 * u64::from(horizon_s) * 1000;
    let baseline = simulate(
        net,
        demand,
        &Scenario::default(),
        params,
        seed,
        horizon_s,
        &mut |d: u64, _t: u64| progress.update(d, total),
    )?;
    let half = u64::from(horizon_s) * 1000;
    let variant = simulate(
        net,
        demand,
        scenario,
        params,
        seed,
        horizon_s,
        &mut |d: u64, _t: u64| progress.update(half + d, total),
    )?;
    let deltas = scenario::compare(&baseline.kpis.to_map(), &variant.kpis.to_map());
    Ok(Comparison {
        baseline,
        variant,
        deltas,
    })
}
