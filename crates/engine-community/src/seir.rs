//! SEIR across communities with mobility coupling, integrated by fixed-step RK4.
//!
//! For community `i`: `dS = -S λ_i`, `dE = S λ_i - σE`, `dI = σE - γI`,
//! `dR = γI`, with force of infection `λ_i = β(t) Σ_j M_ij I_j / N_j`. `M` is
//! the mixing (mobility) matrix: row `i` says where residents of `i` spend
//! their contacts. Controls scale `β` and shift off-diagonal mixing back home.

use serde::{Deserialize, Serialize};

/// A control measure active on `[from_day, to_day)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// First day it applies.
    pub from_day: f64,
    /// Day it is lifted (never if absent).
    #[serde(default)]
    pub to_day: Option<f64>,
    /// Fraction of transmission removed (0.6 cuts β by 60%).
    #[serde(default)]
    pub beta_reduction: f64,
    /// Fraction of cross-community mixing sent back home (0..1).
    #[serde(default)]
    pub mobility_reduction: f64,
}

/// An SEIR scenario. Rates are per day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeirParams {
    /// Community names (labels only).
    #[serde(default)]
    pub names: Vec<String>,
    /// Population per community.
    pub population: Vec<f64>,
    /// Initially exposed per community.
    pub e0: Vec<f64>,
    /// Initially infectious per community.
    pub i0: Vec<f64>,
    /// Transmission rate β.
    pub beta: f64,
    /// 1 / latent period.
    pub sigma: f64,
    /// 1 / infectious period.
    pub gamma: f64,
    /// Mixing matrix (rows sum to 1); identity if absent.
    #[serde(default)]
    pub mixing: Option<Vec<Vec<f64>>>,
    /// Control measures (they multiply when they overlap).
    #[serde(default)]
    pub controls: Vec<Control>,
    /// Days to simulate.
    pub days: u32,
    /// RK4 steps per day (the step is `1 / steps_per_day` day).
    pub steps_per_day: u32,
}

/// Daily states and summary figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeirResult {
    /// `[day][community]` susceptible, day 0 = initial state.
    pub s: Vec<Vec<f64>>,
    /// Exposed.
    pub e: Vec<Vec<f64>>,
    /// Infectious.
    pub i: Vec<Vec<f64>>,
    /// Removed.
    pub r: Vec<Vec<f64>>,
    /// Cumulative infections (initial E and I included) per day, all communities.
    pub cumulative_infections: Vec<f64>,
    /// Day with the most infectious people, per community (daily samples).
    pub peak_day: Vec<u32>,
    /// The most infectious people on a day, per community.
    pub peak_infectious: Vec<f64>,
    /// Share of each community ever infected by the last day.
    pub attack_rate: Vec<f64>,
    /// Day of the city-wide infectious peak.
    pub city_peak_day: u32,
    /// City-wide infectious at its peak.
    pub city_peak_infectious: f64,
    /// City-wide share ever infected by the last day.
    pub city_attack_rate: f64,
}

/// Why an SEIR scenario cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeirError {
    /// Vectors of different lengths.
    #[error("{field} has {found} entries, expected {expected}")]
    Length {
        /// Which field.
        field: &'static str,
        /// Entries found.
        found: usize,
        /// Entries expected.
        expected: usize,
    },
    /// A value out of range.
    #[error("{field} = {value} is out of range")]
    Range {
        /// Which field.
        field: &'static str,
        /// The value.
        value: f64,
    },
}

fn check(field: &'static str, v: f64, lo: f64) -> Result<(), SeirError> {
    if v.is_finite() && v >= lo {
        Ok(())
    } else {
        Err(SeirError::Range { field, value: v })
    }
}

struct Model<'a> {
    p: &'a SeirParams,
    n: usize,
    mixing: Vec<Vec<f64>>,
}

impl Model<'_> {
    /// β and mixing in force at time `t` (days).
    fn at(&self, t: f64) -> (f64, Vec<Vec<f64>>) {
        let mut beta = self.p.beta;
        let mut m = self.mixing.clone();
        for c in &self.p.controls {
            if t >= c.from_day && c.to_day.is_none_or(|e| t < e) {
                beta *= 1.0 - c.beta_reduction;
                if c.mobility_reduction > 0.0 {
                    for (i, row) in m.iter_mut().enumerate() {
                        let mut moved = 0.0;
                        for (j, x) in row.iter_mut().enumerate() {
                            if i != j {
                                let d = *x * c.mobility_reduction;
                                *x -= d;
                                moved += d;
                            }
                        }
                        row[i] += moved;
                    }
                }
            }
        }
        (beta, m)
    }

    /// Derivative of the state `[S.., E.., I.., R.., C]` (C = cumulative infections).
    fn rhs(&self, beta: f64, m: &[Vec<f64>], y: &[f64], out: &mut [f64]) {
        let n = self.n;
        let prev: Vec<f64> = (0..n)
            .map(|j| y[2 * n + j] / self.p.population[j])
            .collect();
        let mut total_inf = 0.0;
        for i in 0..n {
            let lam = beta * m[i].iter().zip(&prev).map(|(a, b)| a * b).sum::<f64>();
            let inf = y[i] * lam;
            out[i] = -inf;
            out[n + i] = inf - self.p.sigma * y[n + i];
            out[2 * n + i] = self.p.sigma * y[n + i] - self.p.gamma * y[2 * n + i];
            out[3 * n + i] = self.p.gamma * y[2 * n + i];
            total_inf += inf;
        }
        out[4 * n] = total_inf;
    }
}

/// Integrates an SEIR scenario with fixed-step RK4. Within a step the
/// controls in force at the step's midpoint apply, so a control that starts
/// or ends on a step boundary is integrated exactly piecewise.
///
/// # Errors
/// Mismatched lengths, non-positive populations, negative rates or initial
/// values, or zero steps.
pub fn simulate_seir(p: &SeirParams) -> Result<SeirResult, SeirError> {
    let n = p.population.len();
    for (field, v) in [("e0", &p.e0), ("i0", &p.i0)] {
        if v.len() != n {
            return Err(SeirError::Length {
                field,
                found: v.len(),
                expected: n,
            });
        }
        for &x in v {
            check(field, x, 0.0)?;
        }
    }
    for &x in &p.population {
        check("population", x, f64::MIN_POSITIVE)?;
    }
    check("beta", p.beta, 0.0)?;
    check("sigma", p.sigma, 0.0)?;
    check("gamma", p.gamma, 0.0)?;
    if p.steps_per_day == 0 {
        return Err(SeirError::Range {
            field: "steps_per_day",
            value: 0.0,
        });
    }
    for c in &p.controls {
        check("controls.from_day", c.from_day, f64::NEG_INFINITY)?;
        if !(0.0..=1.0).contains(&c.beta_reduction) {
            return Err(SeirError::Range {
                field: "controls.beta_reduction",
                value: c.beta_reduction,
            });
        }
        if !(0.0..=1.0).contains(&c.mobility_reduction) {
            return Err(SeirError::Range {
                field: "controls.mobility_reduction",
                value: c.mobility_reduction,
            });
        }
    }
    let mixing = match &p.mixing {
        None => (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect(),
        Some(m) => {
            if m.len() != n {
                return Err(SeirError::Length {
                    field: "mixing",
                    found: m.len(),
                    expected: n,
                });
            }
            for row in m {
                if row.len() != n {
                    return Err(SeirError::Length {
                        field: "mixing row",
                        found: row.len(),
                        expected: n,
                    });
                }
                for &x in row {
                    check("mixing", x, 0.0)?;
                }
            }
            m.clone()
        }
    };
    let model = Model { p, n, mixing };
    let mut y = vec![0.0; 4 * n + 1];
    for i in 0..n {
        y[i] = p.population[i] - p.e0[i] - p.i0[i];
        y[n + i] = p.e0[i];
        y[2 * n + i] = p.i0[i];
        y[4 * n] += p.e0[i] + p.i0[i];
    }
    let days = p.days as usize;
    let mut res = SeirResult {
        s: Vec::with_capacity(days + 1),
        e: Vec::with_capacity(days + 1),
        i: Vec::with_capacity(days + 1),
        r: Vec::with_capacity(days + 1),
        cumulative_infections: Vec::with_capacity(days + 1),
        peak_day: vec![0; n],
        peak_infectious: vec![0.0; n],
        attack_rate: vec![0.0; n],
        city_peak_day: 0,
        city_peak_infectious: 0.0,
        city_attack_rate: 0.0,
    };
    let record = |res: &mut SeirResult, y: &[f64]| {
        res.s.push(y[..n].to_vec());
        res.e.push(y[n..2 * n].to_vec());
        res.i.push(y[2 * n..3 * n].to_vec());
        res.r.push(y[3 * n..4 * n].to_vec());
        res.cumulative_infections.push(y[4 * n]);
    };
    record(&mut res, &y);
    let dt = 1.0 / f64::from(p.steps_per_day);
    let len = y.len();
    let (mut k1, mut k2, mut k3, mut k4, mut tmp) = (
        vec![0.0; len],
        vec![0.0; len],
        vec![0.0; len],
        vec![0.0; len],
        vec![0.0; len],
    );
    for day in 0..p.days {
        for step in 0..p.steps_per_day {
            let t0 = f64::from(day) + f64::from(step) * dt;
            let (beta, m) = model.at(t0 + dt / 2.0);
            model.rhs(beta, &m, &y, &mut k1);
            for k in 0..len {
                tmp[k] = y[k] + dt / 2.0 * k1[k];
            }
            model.rhs(beta, &m, &tmp, &mut k2);
            for k in 0..len {
                tmp[k] = y[k] + dt / 2.0 * k2[k];
            }
            model.rhs(beta, &m, &tmp, &mut k3);
            for k in 0..len {
                tmp[k] = y[k] + dt * k3[k];
            }
            model.rhs(beta, &m, &tmp, &mut k4);
            for k in 0..len {
                y[k] += dt / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k]);
            }
        }
        record(&mut res, &y);
    }
    let total_pop: f64 = p.population.iter().sum();
    for c in 0..n {
        let (d, v) = res
            .i
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |(bd, bv), (d, row)| {
                if row[c] > bv { (d, row[c]) } else { (bd, bv) }
            });
        res.peak_day[c] = u32::try_from(d).expect("days fit u32");
        res.peak_infectious[c] = v;
        res.attack_rate[c] = 1.0 - res.s[days][c] / p.population[c];
    }
    let (d, v) = res
        .i
        .iter()
        .enumerate()
        .fold((0, f64::MIN), |(bd, bv), (d, row)| {
            let s: f64 = row.iter().sum();
            if s > bv { (d, s) } else { (bd, bv) }
        });
    res.city_peak_day = u32::try_from(d).expect("days fit u32");
    res.city_peak_infectious = v;
    res.city_attack_rate = 1.0 - res.s[days].iter().sum::<f64>() / total_pop;
    Ok(res)
}

/// The final size `z` of an SIR/SEIR epidemic with basic reproduction number
/// `r0` and initial susceptible share `s0`: the root of `z = 1 - s0 exp(-r0 z)`
/// in `(0, 1]` (by Newton's method from 1). `None` if `r0 <= 0` or `s0` is
/// outside `(0, 1]`.
pub fn final_size(r0: f64, s0: f64) -> Option<f64> {
    if !(r0 > 0.0 && s0 > 0.0 && s0 <= 1.0) {
        return None;
    }
    let mut z = 1.0f64;
    for _ in 0..200 {
        let f = z - 1.0 + s0 * (-r0 * z).exp();
        let df = 1.0 - r0 * s0 * (-r0 * z).exp();
        let next = z - f / df;
        if (next - z).abs() < 1e-16 {
            return Some(next);
        }
        z = next;
    }
    Some(z)
}
