//! A lean M/M/c simulation with priority classes and batch-means estimates,
//! used to confirm the closed forms and staffing results.

use rand_distr::{Distribution as _, Exp1};
use scenario::{ChaCha8Rng, Engine, Progress, Scheduler, SimTime, fork, seeded};
use serde::{Deserialize, Serialize};

use crate::erlang::QueueError;
use crate::station::Station;

/// Milliseconds per hour: rates in the M/M/c helpers are per hour.
pub const HOUR_MS: f64 = 3_600_000.0;

/// An M/M/c experiment. Rates are per hour; class 0 is the most urgent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MmcExperiment {
    /// Arrival rate of each priority class (one entry for a single class).
    pub lambdas: Vec<f64>,
    /// Service rate per server.
    pub mu: f64,
    /// Servers.
    pub servers: u32,
    /// Jobs measured after the warm-up.
    pub jobs: u64,
    /// Jobs discarded at the start (the queue starts empty).
    pub warmup_jobs: u64,
    /// Batches for the batch-means confidence intervals (at least 2).
    pub batches: u32,
    /// Service-level limit in hours for `P(Wq <= t)` and `P(W <= t)`.
    pub sla_h: f64,
    /// Master seed.
    pub seed: u64,
}

/// A batch-means estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean of the batch means.
    pub mean: f64,
    /// Half-width of the 95% confidence interval (Student t over batches).
    pub ci95: f64,
}

/// Estimates for one priority class (or all jobs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassEstimates {
    /// Jobs measured.
    pub jobs: u64,
    /// Mean wait in queue, hours.
    pub wq_h: Estimate,
    /// Share of jobs that waited (`wait > 0`).
    pub p_wait: Estimate,
    /// Share with `Wq <= sla_h`.
    pub p_wq_within: Estimate,
    /// Share with `W <= sla_h`.
    pub p_w_within: Estimate,
}

/// What an experiment measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MmcReport {
    /// All classes together.
    pub all: ClassEstimates,
    /// One entry per class.
    pub classes: Vec<ClassEstimates>,
    /// Scheduler events handled (arrivals plus departures).
    pub events: u64,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Arrive(u8),
    Depart,
}

#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: u64,
    wait_ms: f64,
    waited: u64,
    wq_in: u64,
    w_in: u64,
}

struct Mmc {
    station: Station,
    rngs: Vec<ChaCha8Rng>,
    next_arrival_ms: Vec<f64>,
    mean_gap_ms: Vec<f64>,
    mean_service_ms: f64,
    sla_ms: u64,
    /// waiting jobs: (arrival, service, class, index)
    slab: Vec<(u64, u64, u8, u64)>,
    free: Vec<u32>,
    arrived: u64,
    total: u64,
    warmup: u64,
    batch_len: u64,
    /// [batch][class + 1]; slot 0 is all classes
    acc: Vec<Vec<Acc>>,
}

impl Mmc {
    fn start(&mut self, now: u64, job: (u64, u64, u8, u64), sched: &mut Scheduler<Ev>) {
        let (arrival, service, class, index) = job;
        sched.schedule(SimTime(now + service), Ev::Depart);
        if index < self.warmup {
            return;
        }
        let batch = usize::try_from((index - self.warmup) / self.batch_len).expect("small");
        let wait = now - arrival;
        for slot in [0, usize::from(class) + 1] {
            let a = &mut self.acc[batch][slot];
            a.n += 1;
            #[allow(clippy::cast_precision_loss)]
            {
                a.wait_ms += wait as f64;
            }
            a.waited += u64::from(wait > 0);
            a.wq_in += u64::from(wait <= self.sla_ms);
            a.w_in += u64::from(wait + service <= self.sla_ms);
        }
    }

    fn sample_ms(rng: &mut ChaCha8Rng, mean_ms: f64) -> f64 {
        let e: f64 = Exp1.sample(rng);
        e * mean_ms
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_ms(x: f64) -> u64 {
    // callers pass finite, non-negative values well below 2^53
    x.round() as u64
}

impl Engine for Mmc {
    type Event = Ev;
    type Outcome = ();

    fn handle(&mut self, now: SimTime, event: Ev, sched: &mut Scheduler<Ev>) {
        let now = now.as_millis();
        match event {
            Ev::Arrive(class) => {
                let k = usize::from(class);
                if self.arrived >= self.total {
                    // another class reached the job count first
                    return;
                }
                let index = self.arrived;
                self.arrived += 1;
                let rng = &mut self.rngs[k];
                let service = to_ms(Self::sample_ms(rng, self.mean_service_ms));
                let gap = Self::sample_ms(rng, self.mean_gap_ms[k]);
                self.next_arrival_ms[k] += gap;
                if self.arrived < self.total {
                    sched.schedule(
                        SimTime(to_ms(self.next_arrival_ms[k]).max(now)),
                        Ev::Arrive(class),
                    );
                }
                let slot = if let Some(s) = self.free.pop() {
                    self.slab[s as usize] = (now, service, class, index);
                    s
                } else {
                    self.slab.push((now, service, class, index));
                    u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 waiting")
                };
                if self.station.arrive(slot, class) {
                    self.free.push(slot);
                    self.start(now, (now, service, class, index), sched);
                }
            }
            Ev::Depart => {
                if let Some(slot) = self.station.finish() {
                    self.free.push(slot);
                    let job = self.slab[slot as usize];
                    self.start(now, job, sched);
                }
            }
        }
    }

    fn outcome(&self) {}
}

/// Two-sided 95% Student t quantile for `df` degrees of freedom
/// (Cornish-Fisher expansion; within 0.2% of the exact value for `df >= 5`).
fn t95(df: u32) -> f64 {
    let z: f64 = 1.959_963_985;
    let v = f64::from(df.max(1));
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
}

fn estimate(values: &[f64]) -> Estimate {
    #[allow(clippy::cast_precision_loss)]
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let df = u32::try_from(values.len() - 1).unwrap_or(u32::MAX);
    Estimate {
        mean,
        ci95: t95(df) * (var / n).sqrt(),
    }
}

fn summarise(batches: &[Vec<Acc>], slot: usize) -> ClassEstimates {
    let per = |f: &dyn Fn(&Acc) -> f64| -> Vec<f64> {
        batches
            .iter()
            .filter(|b| b[slot].n > 0)
            .map(|b| f(&b[slot]))
            .collect()
    };
    #[allow(clippy::cast_precision_loss)]
    let share = |x: u64, n: u64| x as f64 / n as f64;
    ClassEstimates {
        jobs: batches.iter().map(|b| b[slot].n).sum(),
        #[allow(clippy::cast_precision_loss)]
        wq_h: estimate(&per(&|a| a.wait_ms / a.n as f64 / HOUR_MS)),
        p_wait: estimate(&per(&|a| share(a.waited, a.n))),
        p_wq_within: estimate(&per(&|a| share(a.wq_in, a.n))),
        p_w_within: estimate(&per(&|a| share(a.w_in, a.n))),
    }
}

/// Runs an M/M/c experiment through the same station code as the city model.
///
/// # Errors
/// Bad rates, no servers, no classes, fewer than 2 batches or fewer jobs than
/// batches, or an unstable load.
pub fn simulate_mmc(
    exp: &MmcExperiment,
    progress: &mut dyn Progress,
) -> Result<MmcReport, QueueError> {
    let total_rate: f64 = exp.lambdas.iter().sum();
    // validates rates, servers and stability
    crate::erlang::ErlangC::new(total_rate, exp.mu, exp.servers)?;
    if exp.lambdas.is_empty() || exp.lambdas.len() > 255 {
        return Err(QueueError::BadRate {
            name: "lambdas.len",
            #[allow(clippy::cast_precision_loss)]
            value: exp.lambdas.len() as f64,
        });
    }
    if exp.batches < 2 || exp.jobs < u64::from(exp.batches) {
        return Err(QueueError::BadRate {
            name: "batches",
            value: f64::from(exp.batches),
        });
    }
    for &l in &exp.lambdas {
        if !(l.is_finite() && l > 0.0) {
            return Err(QueueError::BadRate {
                name: "lambda_k",
                value: l,
            });
        }
    }
    let mut master = seeded(exp.seed);
    let mut rngs: Vec<ChaCha8Rng> = exp.lambdas.iter().map(|_| fork(&mut master)).collect();
    let mean_gap_ms: Vec<f64> = exp.lambdas.iter().map(|l| HOUR_MS / l).collect();
    let mut sched = Scheduler::new();
    let mut next_arrival_ms = Vec::with_capacity(rngs.len());
    for (k, rng) in rngs.iter_mut().enumerate() {
        let first = Mmc::sample_ms(rng, mean_gap_ms[k]);
        next_arrival_ms.push(first);
        sched.schedule(
            SimTime(to_ms(first)),
            Ev::Arrive(u8::try_from(k).expect("at most 255 classes")),
        );
    }
    let batch_len = exp.jobs / u64::from(exp.batches);
    let mut engine = Mmc {
        station: Station::new(exp.servers),
        rngs,
        next_arrival_ms,
        mean_gap_ms,
        mean_service_ms: HOUR_MS / exp.mu,
        sla_ms: to_ms(exp.sla_h * HOUR_MS),
        slab: Vec::new(),
        free: Vec::new(),
        arrived: 0,
        total: exp.warmup_jobs + batch_len * u64::from(exp.batches),
        warmup: exp.warmup_jobs,
        batch_len,
        acc: vec![vec![Acc::default(); exp.lambdas.len() + 1]; exp.batches as usize],
    };
    let mut events = 0u64;
    while let Some((now, ev)) = sched.pop() {
        engine.handle(now, ev, &mut sched);
        events += 1;
        if events.is_multiple_of(1 << 16) {
            progress.update(engine.arrived, engine.total);
        }
    }
    progress.update(engine.total, engine.total);
    let classes = (1..=exp.lambdas.len())
        .map(|slot| summarise(&engine.acc, slot))
        .collect();
    Ok(MmcReport {
        all: summarise(&engine.acc, 0),
        classes,
        events,
    })
}
