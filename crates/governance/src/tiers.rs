//! Tiers of cities: 引领者 leader, 发展者 developer, 建设者 builder, 起步者 starter.
//!
//! Every method produces three interior cuts `c1 <= c2 <= c3`, and the **edge rule**
//! is the same for all of them: a value's tier index (0 = 起步者 … 3 = 引领者) is the
//! number of cuts `c` with `x >= c`. A value exactly on a cut goes to the upper tier.
//!
//! - [`TierMethod::EqualWidth`] (the evaluation report's quartile principle):
//!   `w = (max - min)/4`, `c_k = min + k·w` computed exactly this way in f64.
//!   (Computing `floor((x - min)/w)` instead puts `x == c_2` in the wrong tier.)
//!   The cuts depend only on the observed minimum and maximum, so adding a city
//!   inside the observed range moves no cut.
//! - [`TierMethod::Quantile`]: population quartiles (linear interpolation, numpy's default).
//! - [`TierMethod::MeanSd`]: `mean - sd`, `mean`, `mean + sd` (ddof stated).
//! - [`TierMethod::Fixed`]: cuts given by the profile or the user.

use serde::{Deserialize, Serialize};

use crate::stats::{self, Ddof, StatsError};

/// One of the four tiers, bottom first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 起步者: the bottom tier.
    Starter,
    /// 建设者.
    Builder,
    /// 发展者.
    Developer,
    /// 引领者: the top tier.
    Leader,
}

impl Tier {
    /// All tiers, bottom first.
    pub const ALL: [Tier; 4] = [Tier::Starter, Tier::Builder, Tier::Developer, Tier::Leader];

    /// The tier with this index (0 = bottom); indices above 3 saturate.
    pub fn from_index(i: usize) -> Tier {
        Tier::ALL[i.min(3)]
    }

    /// Index 0 (bottom) to 3 (top).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Tier::Starter => "起步者",
            Tier::Builder => "建设者",
            Tier::Developer => "发展者",
            Tier::Leader => "引领者",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Tier::Starter => "starter",
            Tier::Builder => "builder",
            Tier::Developer => "developer",
            Tier::Leader => "leader",
        }
    }
}

/// How the three tier cuts are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum TierMethod {
    /// Equal-width quartering of the observed range (the report's quartile principle).
    EqualWidth,
    /// Population quartiles, linear interpolation.
    Quantile,
    /// Mean minus one SD, mean, mean plus one SD.
    MeanSd {
        /// ddof of the SD.
        ddof: Ddof,
    },
    /// Fixed cuts, ascending.
    Fixed {
        /// The three cuts.
        cuts: [f64; 3],
    },
}

/// Why tiers cannot be assigned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TierError {
    /// Not enough values.
    #[error("tiering needs at least 2 values, got {n}")]
    TooFew {
        /// Values given.
        n: usize,
    },
    /// A value is NaN or infinite.
    #[error("value at index {index} is not finite")]
    NonFinite {
        /// Index.
        index: usize,
    },
    /// Fixed cuts are not ascending.
    #[error("tier cuts {cuts:?} are not ascending")]
    Unordered {
        /// The cuts.
        cuts: [f64; 3],
    },
    /// A statistic failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// The tiers of a set of values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tiering {
    /// The method used.
    pub method: TierMethod,
    /// Interior cuts, ascending; tier = number of cuts `<= x`.
    pub cuts: [f64; 3],
    /// Observed minimum.
    pub min: f64,
    /// Observed maximum.
    pub max: f64,
    /// Tier of each value, in input order.
    pub tiers: Vec<Tier>,
    /// Count per tier, bottom first.
    pub counts: [usize; 4],
    /// Mean per tier, bottom first (`None` for an empty tier).
    pub means: [Option<f64>; 4],
}

/// The tier index of `x` under `cuts`: the number of cuts `c` with `x >= c`.
pub fn tier_of(x: f64, cuts: &[f64; 3]) -> Tier {
    Tier::from_index(cuts.iter().filter(|&&c| x >= c).count())
}

/// Equal-width cuts of `[min, max]`: `min + k·(max - min)/4`, k = 1, 2, 3.
pub fn equal_width_cuts(min: f64, max: f64) -> [f64; 3] {
    let w = (max - min) / 4.0;
    [min + w, min + 2.0 * w, min + 3.0 * w]
}

/// Assigns tiers to `values` with `method`.
pub fn assign(values: &[f64], method: &TierMethod) -> Result<Tiering, TierError> {
    if values.len() < 2 {
        return Err(TierError::TooFew { n: values.len() });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(TierError::NonFinite { index });
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let cuts = match method {
        TierMethod::EqualWidth => equal_width_cuts(min, max),
        TierMethod::Quantile => {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            [0.25, 0.5, 0.75].map(|q| stats::quantile_sorted(&sorted, q))
        }
        TierMethod::MeanSd { ddof } => {
            let m = stats::mean(values)?;
            let sd = stats::std_dev(values, *ddof)?;
            [m - sd, m, m + sd]
        }
        TierMethod::Fixed { cuts } => {
            if !(cuts[0] <= cuts[1] && cuts[1] <= cuts[2]) {
                return Err(TierError::Unordered { cuts: *cuts });
            }
            *cuts
        }
    };
    let tiers: Vec<Tier> = values.iter().map(|&x| tier_of(x, &cuts)).collect();
    let mut counts = [0usize; 4];
    let mut sums = [0.0f64; 4];
    for (t, v) in tiers.iter().zip(values) {
        counts[t.index()] += 1;
        sums[t.index()] += v;
    }
    let means = std::array::from_fn(|i| (counts[i] > 0).then(|| sums[i] / counts[i] as f64));
    Ok(Tiering {
        method: method.clone(),
        cuts,
        min,
        max,
        tiers,
        counts,
        means,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_on_a_cut_go_to_the_upper_tier() {
        let cuts = equal_width_cuts(0.0, 1.0);
        assert_eq!(tier_of(0.0, &cuts), Tier::Starter);
        assert_eq!(tier_of(0.25, &cuts), Tier::Builder);
        assert_eq!(tier_of(0.5, &cuts), Tier::Developer);
        assert_eq!(tier_of(0.75, &cuts), Tier::Leader);
        assert_eq!(tier_of(1.0, &cuts), Tier::Leader);
    }

    #[test]
    fn fixed_cuts_must_ascend() {
        let m = TierMethod::Fixed {
            cuts: [0.5, 0.4, 0.9],
        };
        assert!(matches!(
            assign(&[0.1, 0.2], &m),
            Err(TierError::Unordered { .. })
        ));
    }
}
