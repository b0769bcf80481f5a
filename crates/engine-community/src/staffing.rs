//! Staffing: the smallest team meeting a service target by Erlang C,
//! confirmed by simulating that size and one fewer.

use scenario::Progress;
use serde::{Deserialize, Serialize};

use crate::erlang::{ErlangC, QueueError, ServiceTarget, TargetMeasure, staff_for};
use crate::mmc::{Estimate, MmcExperiment, simulate_mmc};

/// A staffing recommendation and its check by simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffingReport {
    /// Arrivals per hour.
    pub lambda_per_h: f64,
    /// Mean handling time, hours.
    pub mean_service_h: f64,
    /// The target.
    pub target: ServiceTarget,
    /// Smallest team meeting the target by Erlang C.
    pub servers: u32,
    /// Its M/M/c figures.
    pub analytic: ErlangC,
    /// Share meeting the limit by Erlang C.
    pub analytic_share: f64,
    /// Share meeting the limit with one worker fewer (`None` if unstable).
    pub analytic_share_one_fewer: Option<f64>,
    /// Simulated share with `servers` workers (batch means).
    pub simulated_share: Estimate,
    /// Simulated share with one fewer (`None` if unstable).
    pub simulated_share_one_fewer: Option<Estimate>,
    /// Whether the simulation agrees: `servers` meets the target and one
    /// fewer misses it, each within its 95% confidence interval.
    pub confirmed: bool,
}

/// Recommends a team size for Poisson arrivals at `lambda_per_h` and
/// exponential handling with mean `mean_service_h`, and confirms it with
/// `sim_jobs` simulated jobs per size.
///
/// # Errors
/// Bad rates, an unreachable target, or too few simulated jobs.
pub fn recommend_staff(
    lambda_per_h: f64,
    mean_service_h: f64,
    target: ServiceTarget,
    max_servers: u32,
    sim_jobs: u64,
    seed: u64,
    progress: &mut dyn Progress,
) -> Result<StaffingReport, QueueError> {
    let mu = 1.0 / mean_service_h;
    let q = staff_for(lambda_per_h, mu, &target, max_servers)?;
    let c = q.servers;
    let fewer = if c > 1 {
        ErlangC::new(lambda_per_h, mu, c - 1).ok()
    } else {
        None
    };
    let pick = |r: &crate::mmc::MmcReport| match target.measure {
        TargetMeasure::Wait => r.all.p_wq_within,
        TargetMeasure::Sojourn => r.all.p_w_within,
    };
    let exp = |servers: u32| MmcExperiment {
        lambdas: vec![lambda_per_h],
        mu,
        servers,
        jobs: sim_jobs,
        warmup_jobs: sim_jobs / 20,
        batches: 20,
        sla_h: target.within,
        seed,
    };
    let mut half = |d: u64, t: u64| progress.update(d, 2 * t);
    let sim = pick(&simulate_mmc(&exp(c), &mut half)?);
    let mut second = |d: u64, t: u64| progress.update(t + d, 2 * t);
    let sim_fewer = match fewer {
        Some(_) => Some(pick(&simulate_mmc(&exp(c - 1), &mut second)?)),
        None => None,
    };
    let meets = sim.mean + sim.ci95 >= target.share;
    let fewer_misses = sim_fewer.is_none_or(|e| e.mean - e.ci95 < target.share);
    Ok(StaffingReport {
        lambda_per_h,
        mean_service_h,
        target,
        servers: c,
        analytic_share: target.achieved(&q),
        analytic: q,
        analytic_share_one_fewer: fewer.map(|f| target.achieved(&f)),
        simulated_share: sim,
        simulated_share_one_fewer: sim_fewer,
        confirmed: meets && fewer_misses,
    })
}
