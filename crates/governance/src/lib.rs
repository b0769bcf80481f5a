//! Governance indicators: executable indicator profiles, scoring of cities,
//! districts and H3 cells from live and static inputs, and the statistics of
//! the annual smart-city evaluation report.
//!
//! This crate is pure: no I/O, no clock, no logging. Profiles arrive as text,
//! inputs as plain data, and every result is deterministic (sorted maps, fixed
//! summation order, seeded generators).
//!
//! # Terminology
//! - **Profile**: an indicator system as a tree: first-level blocks (一级指标,
//!   the *pillars*), second-level blocks (二级指标), and indicators at the leaves
//!   ([`Profile`]; builtin files in `crates/governance/profiles/`).
//! - **Indicator**: a leaf with a unit, a [`Direction`], a [`Normalisation`], a
//!   weight and a [`Source`] (live metric, static input, scenario output, formula).
//! - **Ratio indicator**: its inputs keep numerator and denominator, so areas
//!   aggregate by summing counts before dividing.
//! - **Normalised value**: a leaf mapped to [0, 1], 1 being best.
//! - **Score rate (得分率)**: a block's `Σ wᵢvᵢ / Σ wᵢ` over its children; the
//!   **composite index** is the root's score rate.
//! - **Coverage**: the share of a block's weight whose leaves have values.
//!   **Missing-data policy** ([`MissingPolicy`]): renormalise over present
//!   children (default) or count missing as 0; below the profile's
//!   `min_coverage` a block has no rate.
//! - **Confidence**: weighted mean data quality with missing leaves counting 0.
//! - **Deduction item (扣分项)**: lowers a block's score rate by a capped amount.
//! - **Stage**: a named band of the composite (起步 … 引领).
//! - **Tier**: a city's band relative to the others (引领者 leader, 发展者
//!   developer, 建设者 builder, 起步者 starter), by default from equal-width
//!   quartering of the observed range ([`tiers`]).
//! - **Macro-region**: one of China's six regions (华北, 东北, 华东, 中南, 西南,
//!   西北) a province belongs to ([`MacroRegion`]).
//! - **Live inputs**: metric id -> value with quality ([`LiveInputs`]), filled by
//!   the server from the twin and the engines; the ids are in [`LIVE_METRICS`].

mod dataset;
mod live;
mod model;
mod profile;
mod regions;
mod report;
mod score;
pub mod stats;
mod synth;
pub mod tiers;

pub use dataset::{CityMeta, CsvError, Dataset, TidyRow, parse_tidy_csv, read_csv, write_tidy_csv};
pub use live::{
    EntityInputs, InputValue, LIVE_METRICS, LiveInputs, LiveMetric, aggregate_values,
    is_live_metric,
};
pub use model::{
    Block, Deduction, Direction, FormulaOp, Indicator, MissingPolicy, Normalisation, Source, Stage,
};
pub use profile::{BUILTIN_PROFILES, Profile, ProfileError, ProfileFile, ProfileMeta, builtin};
pub use regions::{MacroRegion, macro_region};
pub use report::{
    BlockInfo, CityResult, ClusterRow, CorrelationMatrix, CoverageSummary, PillarRow, Placement,
    REPORT_SCHEMA, RankChange, RankRegression, RegionRow, Report, ReportError, ReportOptions,
    TierBlockRow, TierRow, TierSummary, TierSummaryCuts, WeightRow, YearSpread, build_report,
    place, render_html,
};
pub use score::{
    BlockScore, LeafScore, Provenance, RawValues, Reference, Score, Warning, normalise, raw_values,
    score, score_raw, score_set,
};
pub use synth::{SynthParams, synthetic_rows};
pub use tiers::{Tier, TierMethod, Tiering};
