//! Statistics of the evaluation report: descriptive statistics with an explicit
//! ddof, Pearson and Spearman correlations with two-sided p-values, ordinary
//! least squares, min-max and target normalisation, and entropy weights.
//!
//! Conventions follow numpy/scipy/statsmodels so results can be compared with
//! them: Pearson p from the t distribution with `n - 2` degrees of freedom (what
//! `scipy.stats.pearsonr` computes through the beta distribution), Spearman as
//! Pearson on average ranks with the same t approximation
//! (`scipy.stats.spearmanr`), OLS as `statsmodels.OLS` with a constant.

mod special;

use serde::{Deserialize, Serialize};

pub use special::{beta_inc, f_sf, ln_gamma, t_cdf, t_two_sided_p};

/// Why a statistic cannot be computed. Each variant carries the offending sizes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Two series that must be paired have different lengths.
    #[error("series lengths differ: {left} vs {right}")]
    LengthMismatch {
        /// Length of the first series.
        left: usize,
        /// Length of the second series.
        right: usize,
    },
    /// Too few observations for the statistic.
    #[error("need at least {min} observations, got {n}")]
    TooFew {
        /// Observations given.
        n: usize,
        /// Observations needed.
        min: usize,
    },
    /// A series has zero variance, so the statistic is undefined.
    #[error("series {which} has zero variance")]
    ZeroVariance {
        /// Which series (`"x"`, `"y"`, or a column index).
        which: String,
    },
    /// A value is NaN or infinite.
    #[error("value at index {index} is not finite")]
    NonFinite {
        /// Index of the value.
        index: usize,
    },
    /// The regressors are linearly dependent.
    #[error("design matrix is rank deficient (column {column})")]
    Singular {
        /// The first column found dependent on the previous ones (0 = constant).
        column: usize,
    },
    /// A column of an entropy-weight matrix sums to zero.
    #[error("indicator column {column} sums to zero")]
    ZeroColumn {
        /// Column index.
        column: usize,
    },
    /// A value that must be non-negative is negative.
    #[error("value {value} at row {row}, column {column} is negative")]
    Negative {
        /// Row index.
        row: usize,
        /// Column index.
        column: usize,
        /// The value.
        value: f64,
    },
}

/// Delta degrees of freedom of a variance: divide by `n - ddof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ddof {
    /// Population statistic, divide by `n` (numpy's default, `ddof = 0`).
    Population,
    /// Sample statistic, divide by `n - 1` (`ddof = 1`, pandas' default).
    Sample,
}

impl Ddof {
    /// The integer ddof.
    pub fn as_usize(self) -> usize {
        match self {
            Ddof::Population => 0,
            Ddof::Sample => 1,
        }
    }
}

fn check_finite(xs: &[f64]) -> Result<(), StatsError> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { index }),
        None => Ok(()),
    }
}

/// Arithmetic mean, summed in slice order.
pub fn mean(xs: &[f64]) -> Result<f64, StatsError> {
    if xs.is_empty() {
        return Err(StatsError::TooFew { n: 0, min: 1 });
    }
    check_finite(xs)?;
    Ok(xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Standard deviation with the given ddof (two-pass algorithm).
pub fn std_dev(xs: &[f64], ddof: Ddof) -> Result<f64, StatsError> {
    let min = ddof.as_usize() + 1;
    if xs.len() < min {
        return Err(StatsError::TooFew { n: xs.len(), min });
    }
    let m = mean(xs)?;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Ok((ss / (xs.len() - ddof.as_usize()) as f64).sqrt())
}

/// A correlation coefficient with its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// The coefficient in [-1, 1].
    pub r: f64,
    /// Two-sided p-value of the test `r = 0`.
    pub p: f64,
    /// Number of pairs.
    pub n: usize,
}

fn correlation_p(r: f64, n: usize) -> f64 {
    let df = (n - 2) as f64;
    if r.abs() >= 1.0 {
        return 0.0;
    }
    let t = r * (df / ((1.0 - r) * (1.0 + r))).sqrt();
    t_two_sided_p(t, df)
}

fn pearson_r(x: &[f64], y: &[f64]) -> Result<f64, StatsError> {
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            left: x.len(),
            right: y.len(),
        });
    }
    if x.len() < 3 {
        return Err(StatsError::TooFew { n: x.len(), min: 3 });
    }
    check_finite(x)?;
    check_finite(y)?;
    let mx = mean(x)?;
    let my = mean(y)?;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx == 0.0 {
        return Err(StatsError::ZeroVariance { which: "x".into() });
    }
    if syy == 0.0 {
        return Err(StatsError::ZeroVariance { which: "y".into() });
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Pearson's product-moment correlation with a two-sided p-value (t test, `n - 2` df).
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Correlation, StatsError> {
    let r = pearson_r(x, y)?;
    Ok(Correlation {
        r,
        p: correlation_p(r, x.len()),
        n: x.len(),
    })
}

/// Ranks 1..=n with ties given their average rank (scipy's `rankdata(method="average")`).
pub fn average_ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(a.cmp(&b)));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && xs[idx[j]] == xs[idx[i]] {
            j += 1;
        }
        // positions i..j (0-based) share the mean of ranks i+1..=j
        let avg = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = avg;
        }
        i = j;
    }
    ranks
}

/// Spearman's rank correlation (Pearson on average ranks) with a two-sided
/// p-value from the t approximation with `n - 2` df, as `scipy.stats.spearmanr`.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Correlation, StatsError> {
    if x.len() != y.len() {
        return Err(StatsError::LengthMismatch {
            left: x.len(),
            right: y.len(),
        });
    }
    check_finite(x)?;
    check_finite(y)?;
    pearson(&average_ranks(x), &average_ranks(y))
}

/// One estimated coefficient of an OLS fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// Regressor name (`"const"` for the intercept).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub std_err: f64,
    /// t statistic `estimate / std_err`.
    pub t: f64,
    /// Two-sided p-value of the t test (`df_resid` degrees of freedom).
    pub p: f64,
}

/// An ordinary least squares fit with a constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OlsFit {
    /// Observations.
    pub n: usize,
    /// Coefficients, the constant first.
    pub coefficients: Vec<Coefficient>,
    /// Coefficient of determination (centred).
    pub r_squared: f64,
    /// Adjusted R²: `1 - (1 - R²)(n - 1)/(n - k)`.
    pub adj_r_squared: f64,
    /// F statistic of the regression against the constant-only model.
    pub f_statistic: f64,
    /// Upper-tail p-value of the F statistic.
    pub f_p_value: f64,
    /// Residual degrees of freedom `n - k` (k counts the constant).
    pub df_resid: f64,
    /// Model degrees of freedom `k - 1`.
    pub df_model: f64,
    /// Residual variance `SSR / df_resid`.
    pub sigma2: f64,
}

impl OlsFit {
    /// The coefficient with this name.
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }
}

/// OLS of `y` on a constant and the named regressor columns, solved by
/// Householder QR (no normal equations), with classical (non-robust) standard errors.
pub fn ols(y: &[f64], regressors: &[(&str, &[f64])]) -> Result<OlsFit, StatsError> {
    let n = y.len();
    let k = regressors.len() + 1;
    for (_, col) in regressors {
        if col.len() != n {
            return Err(StatsError::LengthMismatch {
                left: n,
                right: col.len(),
            });
        }
        check_finite(col)?;
    }
    check_finite(y)?;
    if n <= k {
        return Err(StatsError::TooFew { n, min: k + 1 });
    }
    // Column-major design matrix.
    let mut a: Vec<Vec<f64>> = Vec::with_capacity(k);
    a.push(vec![1.0; n]);
    for (_, col) in regressors {
        a.push(col.to_vec());
    }
    let mut qty = y.to_vec();
    let mut r = vec![vec![0.0; k]; k];
    let col_norms: Vec<f64> = a
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    for j in 0..k {
        // Householder vector for column j, rows j..n.
        let norm: f64 = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm <= 1e-12 * col_norms[j].max(f64::MIN_POSITIVE) {
            return Err(StatsError::Singular { column: j });
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|x| x * x).sum();
        let apply = |col: &mut [f64]| {
            let dot: f64 = v.iter().zip(col.iter()).map(|(p, q)| p * q).sum();
            let f = 2.0 * dot / vnorm2;
            for (c, vi) in col.iter_mut().zip(&v) {
                *c -= f * vi;
            }
        };
        for col in a.iter_mut().skip(j) {
            apply(&mut col[j..]);
        }
        apply(&mut qty[j..]);
        for (i, row) in r.iter_mut().enumerate().take(j + 1) {
            row[j] = a[j][i];
        }
    }
    // Back-substitution R b = Q'y.
    let mut b = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|c| r[i][c] * b[c]).sum();
        b[i] = (qty[i] - s) / r[i][i];
    }
    let ssr: f64 = qty[k..].iter().map(|v| v * v).sum();
    let ybar = mean(y)?;
    let sst: f64 = y.iter().map(|v| (v - ybar) * (v - ybar)).sum();
    if sst == 0.0 {
        return Err(StatsError::ZeroVariance { which: "y".into() });
    }
    let df_resid = (n - k) as f64;
    let df_model = (k - 1) as f64;
    let sigma2 = ssr / df_resid;
    // R^{-1} (upper triangular), then diag((R'R)^{-1}) = row norms² of R^{-1}.
    let mut rinv = vec![vec![0.0; k]; k];
    for c in 0..k {
        rinv[c][c] = 1.0 / r[c][c];
        for i in (0..c).rev() {
            let s: f64 = (i + 1..=c).map(|m| r[i][m] * rinv[m][c]).sum();
            rinv[i][c] = -s / r[i][i];
        }
    }
    let names = std::iter::once("const").chain(regressors.iter().map(|(name, _)| *name));
    let coefficients = names
        .enumerate()
        .map(|(i, name)| {
            let var: f64 = rinv[i].iter().map(|v| v * v).sum::<f64>() * sigma2;
            let std_err = var.sqrt();
            let t = b[i] / std_err;
            Coefficient {
                name: name.to_string(),
                estimate: b[i],
                std_err,
                t,
                p: t_two_sided_p(t, df_resid),
            }
        })
        .collect();
    let r_squared = 1.0 - ssr / sst;
    let adj_r_squared = 1.0 - (1.0 - r_squared) * (n - 1) as f64 / df_resid;
    let f_statistic = (r_squared / df_model) / ((1.0 - r_squared) / df_resid);
    Ok(OlsFit {
        n,
        coefficients,
        r_squared,
        adj_r_squared,
        f_statistic,
        f_p_value: f_sf(f_statistic, df_model, df_resid),
        df_resid,
        df_model,
        sigma2,
    })
}

/// Min-max normalisation over the given set: `(x - min)/(max - min)` when higher
/// is better, `(max - x)/(max - min)` when lower is better. A set whose values are
/// all equal has no spread and is an error.
pub fn minmax(xs: &[f64], higher_is_better: bool) -> Result<Vec<f64>, StatsError> {
    check_finite(xs)?;
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if xs.is_empty() {
        return Err(StatsError::TooFew { n: 0, min: 2 });
    }
    if hi == lo {
        return Err(StatsError::ZeroVariance { which: "x".into() });
    }
    Ok(xs
        .iter()
        .map(|&x| {
            if higher_is_better {
                (x - lo) / (hi - lo)
            } else {
                (hi - x) / (hi - lo)
            }
        })
        .collect())
}

/// Distance-to-target normalisation `clamp((x - baseline)/(target - baseline), 0, 1)`.
/// For a lower-is-better indicator pass the worst acceptable value as
/// `baseline` and a target below it: the formula becomes `(worst - x)/(worst - target)`.
pub fn target_norm(x: f64, baseline: f64, target: f64) -> f64 {
    ((x - baseline) / (target - baseline)).clamp(0.0, 1.0)
}

/// Entropy weights of the columns of a non-negative matrix (rows = objects,
/// columns = indicators): `p_ij = z_ij / Σ_i z_ij`,
/// `e_j = -(1/ln m) Σ_i p_ij ln p_ij` with `0 ln 0 = 0`,
/// `w_j = (1 - e_j) / Σ_k (1 - e_k)`. Returns `(e, w)`.
pub fn entropy_weights(rows: &[Vec<f64>]) -> Result<(Vec<f64>, Vec<f64>), StatsError> {
    let m = rows.len();
    if m < 2 {
        return Err(StatsError::TooFew { n: m, min: 2 });
    }
    let k = rows[0].len();
    for row in rows {
        if row.len() != k {
            return Err(StatsError::LengthMismatch {
                left: k,
                right: row.len(),
            });
        }
    }
    let ln_m = (m as f64).ln();
    let mut e = Vec::with_capacity(k);
    for j in 0..k {
        let mut sum = 0.0;
        for (i, row) in rows.iter().enumerate() {
            let z = row[j];
            if !z.is_finite() {
                return Err(StatsError::NonFinite { index: i });
            }
            if z < 0.0 {
                return Err(StatsError::Negative {
                    row: i,
                    column: j,
                    value: z,
                });
            }
            sum += z;
        }
        if sum == 0.0 {
            return Err(StatsError::ZeroColumn { column: j });
        }
        let h: f64 = rows
            .iter()
            .map(|row| {
                let p = row[j] / sum;
                if p > 0.0 { p * p.ln() } else { 0.0 }
            })
            .sum();
        e.push(-h / ln_m);
    }
    let total: f64 = e.iter().map(|v| 1.0 - v).sum();
    if total <= 0.0 {
        // every column is perfectly even: fall back to equal weights
        return Ok((e, vec![1.0 / k as f64; k]));
    }
    let w = e.iter().map(|v| (1.0 - v) / total).collect();
    Ok((e, w))
}

/// Linear-interpolation quantile of sorted data (numpy's default `method="linear"`).
///
/// # Panics
/// Never for non-empty input; returns NaN for empty input.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's _lerp: a + t (b - a), computed from the upper end when t >= 1/2
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

#[cfg(test)]
mod tests;
