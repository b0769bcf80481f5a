//! Closed forms for M/M/c queues: Erlang C, service levels, Cobham's
//! non-preemptive priority formula, and staffing by Erlang C.

use serde::{Deserialize, Serialize};

/// Why a closed form has no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueError {
    /// Rates must be finite and positive.
    #[error("rate {name} = {value} must be finite and > 0")]
    BadRate {
        /// Which rate.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A station needs at least one server.
    #[error("a station needs at least one server, got {0}")]
    NoServers(u32),
    /// Offered load at or above capacity: the queue grows without bound.
    #[error("unstable: offered load {offered_erlangs} >= {servers} servers")]
    Unstable {
        /// `lambda / mu`.
        offered_erlangs: f64,
        /// `c`.
        servers: u32,
    },
    /// No team size up to the search limit meets the target.
    #[error("no team of at most {max_servers} meets {share} within {within}")]
    Unreachable {
        /// The share asked for.
        share: f64,
        /// The time limit, in the rates' time unit.
        within: f64,
        /// Largest size tried.
        max_servers: u32,
    },
}

/// Steady-state figures of an M/M/c queue (times in the unit of `1/mu`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErlangC {
    /// Arrival rate.
    pub lambda: f64,
    /// Service rate per server.
    pub mu: f64,
    /// Servers.
    pub servers: u32,
    /// Offered load `a = lambda / mu` in erlangs.
    pub offered_erlangs: f64,
    /// Utilisation `rho = a / c`.
    pub rho: f64,
    /// Probability an arrival waits (Erlang C).
    pub p_wait: f64,
    /// Mean wait in queue.
    pub wq: f64,
    /// Mean time in system `wq + 1/mu`.
    pub w: f64,
    /// Mean queue length.
    pub lq: f64,
    /// Mean number in system.
    pub l: f64,
}

fn check_rate(name: &'static str, value: f64) -> Result<(), QueueError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(QueueError::BadRate { name, value })
    }
}

impl ErlangC {
    /// The M/M/c figures for arrival rate `lambda`, service rate `mu` and `c` servers.
    ///
    /// # Errors
    /// Bad rates, no servers, or `lambda >= c mu`.
    pub fn new(lambda: f64, mu: f64, servers: u32) -> Result<Self, QueueError> {
        check_rate("lambda", lambda)?;
        check_rate("mu", mu)?;
        if servers == 0 {
            return Err(QueueError::NoServers(servers));
        }
        let a = lambda / mu;
        let c = f64::from(servers);
        if a >= c {
            return Err(QueueError::Unstable {
                offered_erlangs: a,
                servers,
            });
        }
        // Erlang B by the stable recursion, then C from B.
        let mut b = 1.0;
        for k in 1..=servers {
            b = a * b / (f64::from(k) + a * b);
        }
        let p_wait = c * b / (c - a * (1.0 - b));
        let wq = p_wait / (c * mu - lambda);
        Ok(Self {
            lambda,
            mu,
            servers,
            offered_erlangs: a,
            rho: a / c,
            p_wait,
            wq,
            w: wq + 1.0 / mu,
            lq: lambda * wq,
            l: lambda * (wq + 1.0 / mu),
        })
    }

    /// `P(Wq <= t)`: the share of arrivals whose wait is at most `t`.
    pub fn p_wait_within(&self, t: f64) -> f64 {
        let theta = f64::from(self.servers) * self.mu - self.lambda;
        1.0 - self.p_wait * (-theta * t).exp()
    }

    /// `P(W <= t)`: the share of arrivals whose wait plus service is at most `t`.
    pub fn p_sojourn_within(&self, t: f64) -> f64 {
        let theta = f64::from(self.servers) * self.mu - self.lambda;
        let mu = self.mu;
        // Wq is 0 with prob 1-C, else Exp(theta); W = Wq + Exp(mu).
        let tail_hypo = if (theta - mu).abs() < 1e-12 * mu {
            (1.0 + mu * t) * (-mu * t).exp()
        } else {
            (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
        };
        let tail = (1.0 - self.p_wait) * (-mu * t).exp() + self.p_wait * tail_hypo;
        1.0 - tail
    }
}

/// Cobham's mean waits of an M/M/c queue with non-preemptive priority classes
/// (index 0 most urgent), all with service rate `mu`.
///
/// `Wq_k = C(c, a) / (c mu) / ((1 - s_{k-1}) (1 - s_k))` with
/// `s_k = sum_{i <= k} lambda_i / (c mu)`.
///
/// # Errors
/// Bad rates, no servers, or a total load at or above capacity.
pub fn cobham_waits(lambdas: &[f64], mu: f64, servers: u32) -> Result<Vec<f64>, QueueError> {
    for &l in lambdas {
        check_rate("lambda_k", l)?;
    }
    let total: f64 = lambdas.iter().sum();
    let ec = ErlangC::new(total, mu, servers)?;
    let cmu = f64::from(servers) * mu;
    let head = ec.p_wait / cmu;
    let mut sigma_prev = 0.0;
    Ok(lambdas
        .iter()
        .map(|l| {
            let sigma = sigma_prev + l / cmu;
            let w = head / ((1.0 - sigma_prev) * (1.0 - sigma));
            sigma_prev = sigma;
            w
        })
        .collect())
}

/// What a team must achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServiceTarget {
    /// The share of cases that must meet the limit (0.9 for 90%).
    pub share: f64,
    /// The time limit, in the unit of `1/mu` (hours when rates are per hour).
    pub within: f64,
    /// Which time is limited.
    pub measure: TargetMeasure,
}

/// The time a [`ServiceTarget`] limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetMeasure {
    /// Waiting until a worker starts (response).
    Wait,
    /// Waiting plus handling (resolution); on-time closure when `within` is the SLA.
    Sojourn,
}

impl ServiceTarget {
    /// The share this queue achieves.
    pub fn achieved(&self, q: &ErlangC) -> f64 {
        match self.measure {
            TargetMeasure::Wait => q.p_wait_within(self.within),
            TargetMeasure::Sojourn => q.p_sojourn_within(self.within),
        }
    }
}

/// The smallest team (at most `max_servers`) whose M/M/c service level meets
/// `target`, with its figures.
///
/// # Errors
/// Bad rates, or no size up to `max_servers` meets the target (for
/// [`TargetMeasure::Sojourn`] the handling time alone may already miss it).
pub fn staff_for(
    lambda: f64,
    mu: f64,
    target: &ServiceTarget,
    max_servers: u32,
) -> Result<ErlangC, QueueError> {
    check_rate("lambda", lambda)?;
    check_rate("mu", mu)?;
    // smallest stable size: floor(a) + 1
    let a = lambda / mu;
    let first = if a.fract() == 0.0 { a + 1.0 } else { a.ceil() };
    let first = if first >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        // `first` is a positive whole number below u32::MAX here
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let f = first as u32;
        f.max(1)
    };
    for c in first..=max_servers {
        let q = ErlangC::new(lambda, mu, c)?;
        if target.achieved(&q) >= target.share {
            return Ok(q);
        }
    }
    Err(QueueError::Unreachable {
        share: target.share,
        within: target.within,
        max_servers,
    })
}
