//! The indicator model: blocks and indicators of a profile's tree, their
//! direction, normalisation, weight and source.

use serde::{Deserialize, Serialize};

/// Whether a higher or a lower raw value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher raw values score higher (coverage, on-time share).
    Higher,
    /// Lower raw values score higher (response time, PM2.5).
    Lower,
}

/// How a raw value is mapped to a normalised value in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normalisation {
    /// Min-max over the reference set (the cities or cells scored together):
    /// `(x - min)/(max - min)`, or `(max - x)/(max - min)` when lower is better.
    MinMax,
    /// Min-max over fixed bounds, clamped to [0, 1].
    Fixed {
        /// Raw value mapped to 0 (higher is better) or 1 (lower is better).
        min: f64,
        /// Raw value mapped to 1 (higher is better) or 0 (lower is better).
        max: f64,
    },
    /// Distance to a target: `clamp((x - baseline)/(target - baseline), 0, 1)`.
    /// For a lower-is-better indicator the baseline is the worst acceptable value
    /// and lies above the target.
    Target {
        /// Raw value scoring 0.
        baseline: f64,
        /// Raw value scoring 1.
        target: f64,
    },
    /// The raw value is already a share in [0, 1] (clamped; inverted when lower is better).
    Share,
}

/// Arithmetic of a formula indicator over the raw values of other indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormulaOp {
    /// Sum of all arguments.
    Sum,
    /// Mean of the available arguments.
    Mean,
    /// First argument divided by the second.
    Ratio,
    /// First argument minus the second.
    Difference,
    /// Product of all arguments.
    Product,
    /// Smallest argument.
    Min,
    /// Largest argument.
    Max,
}

/// Where an indicator's raw value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A live metric of the twin or an engine (see [`crate::LIVE_METRICS`]).
    /// When the live value is absent, a static value under the indicator's own id
    /// (an annual figure) is used and the leaf's provenance says so.
    Live {
        /// Live metric id.
        metric: String,
    },
    /// A static input: annual statistics entered or imported, keyed by the indicator id.
    Static,
    /// An output of a scenario run, keyed by `engine.kpi`.
    Scenario {
        /// Engine name (`traffic`, `community`, `energy`).
        engine: String,
        /// KPI name in the engine's outcome.
        kpi: String,
    },
    /// A formula over the raw values of other indicators of the same profile.
    Formula {
        /// The operation.
        op: FormulaOp,
        /// Indicator ids, in argument order.
        args: Vec<String>,
    },
}

/// An indicator: a leaf of a profile's tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Id, `[a-z0-9_]`, unique in the profile.
    pub id: String,
    /// The parent block's id.
    pub parent: String,
    /// Level in the tree (parent level + 1).
    pub level: u8,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Unit of the raw value (`ratio`, `min`, `µg/m³`, `count`, ...).
    pub unit: String,
    /// Whether higher or lower is better.
    pub direction: Direction,
    /// Normalisation to [0, 1].
    pub normalisation: Normalisation,
    /// Weight among its siblings (relative; siblings are renormalised).
    pub weight: f64,
    /// Where the raw value comes from.
    pub source: Source,
    /// A ratio indicator: inputs carry numerator and denominator, and areas
    /// aggregate by summing both before dividing.
    #[serde(default)]
    pub ratio: bool,
    /// Weight 0 indicators that only feed formulas are marked auxiliary.
    #[serde(default)]
    pub auxiliary: bool,
    /// Where the definition comes from (standard clause, report section).
    #[serde(default)]
    pub reference: String,
}

/// An inner node of a profile's tree (a first- or second-level indicator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// Id, `[a-z0-9_]`, unique in the profile.
    pub id: String,
    /// The parent block's id; absent for a first-level block.
    #[serde(default)]
    pub parent: Option<String>,
    /// Level in the tree (1 for first-level blocks).
    pub level: u8,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Weight among its siblings.
    pub weight: f64,
    /// Where the definition comes from.
    #[serde(default)]
    pub reference: String,
}

/// A deduction item (扣分项): lowers a block's score rate by
/// `min(max_rate, rate_per_unit · value)` (score-rate points in [0, 1]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deduction {
    /// Id, `[a-z0-9_]`, unique in the profile.
    pub id: String,
    /// The block whose score rate is lowered (`"root"` for the composite).
    pub block: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Where the count comes from.
    pub source: Source,
    /// Score-rate points deducted per unit of the value.
    pub rate_per_unit: f64,
    /// Largest deduction.
    pub max_rate: f64,
}

/// A named stage (阶段) reached when the composite score rate is at least `min_rate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Lowest composite score rate of the stage.
    pub min_rate: f64,
}

/// What to do with an indicator whose value is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Leave it out and renormalise the remaining siblings' weights (default).
    #[default]
    Renormalise,
    /// Count it as 0 (the worst score).
    Zero,
}
