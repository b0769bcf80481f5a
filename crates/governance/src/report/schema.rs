//! The report's output types: `report.json` is a serialised [`Report`]
//! (schema [`REPORT_SCHEMA`], documented in `docs/specs/indicators.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::regions::MacroRegion;
use crate::stats::{Correlation, Ddof, OlsFit};
use crate::tiers::{Tier, TierMethod};

/// The report's JSON schema id; bumped on any incompatible change.
pub const REPORT_SCHEMA: &str = "citybrain.indicators.report/1";

/// Identity of a block in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Id.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Parent block (second level only).
    pub parent: Option<String>,
    /// Configured weight share among its siblings.
    pub weight_share: f64,
}

/// One city in the analysed year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityResult {
    /// City.
    pub city: String,
    /// Province.
    pub province: String,
    /// Macro-region.
    pub region: MacroRegion,
    /// City clusters.
    pub clusters: Vec<String>,
    /// Rank by composite (1 = best).
    pub rank: usize,
    /// Tier.
    pub tier: Tier,
    /// Composite index.
    pub composite: f64,
    /// Pillar score rates, in `Report::pillars` order.
    pub pillars: Vec<Option<f64>>,
    /// Second-level score rates, in `Report::second_level` order.
    pub second_level: Vec<Option<f64>>,
    /// Coverage of the composite.
    pub coverage: f64,
    /// Confidence of the composite.
    pub confidence: f64,
    /// Stage reached.
    pub stage: Option<String>,
    /// Number of warnings.
    pub warnings: usize,
}

/// One row of the tier table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierRow {
    /// Tier.
    pub tier: Tier,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Lowest value of the band (a cut, or the observed minimum).
    pub lower: f64,
    /// Upper end of the band (a cut, exclusive, or the observed maximum, inclusive).
    pub upper: f64,
    /// Cities in the tier.
    pub count: usize,
    /// Share of cities.
    pub share: f64,
    /// Mean of the tiered value (composite or block score rate) in the tier.
    pub mean: Option<f64>,
}

/// The tier summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    /// Method and cuts.
    pub tiering: TierSummaryCuts,
    /// Rows, top tier first.
    pub rows: Vec<TierRow>,
    /// The edge rule in words.
    pub edge_rule: String,
}

/// Method, cuts and range of the tiering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummaryCuts {
    /// What is tiered: `composite` or a block id.
    pub basis: String,
    /// Method.
    pub method: TierMethod,
    /// Cuts, ascending.
    pub cuts: [f64; 3],
    /// Observed minimum.
    pub min: f64,
    /// Observed maximum.
    pub max: f64,
}

/// Mean score rate of a second-level block per tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierBlockRow {
    /// Block id.
    pub block: String,
    /// Mean per tier, bottom first.
    pub means: [Option<f64>; 4],
}

/// Regional statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionRow {
    /// Region.
    pub region: MacroRegion,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Cities.
    pub n: usize,
    /// Mean composite.
    pub composite_mean: Option<f64>,
    /// SD of the composite (report ddof).
    pub composite_std: Option<f64>,
    /// Mean pillar score rates.
    pub pillar_means: Vec<Option<f64>>,
    /// SD of pillar score rates.
    pub pillar_stds: Vec<Option<f64>>,
}

/// Summary of one pillar across cities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarRow {
    /// Pillar id.
    pub id: String,
    /// Cities with a rate.
    pub n: usize,
    /// Mean score rate.
    pub mean: f64,
    /// SD (report ddof).
    pub std: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

/// Pillar means and spread in one year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearSpread {
    /// Year.
    pub year: i32,
    /// Cities scored.
    pub n: usize,
    /// Mean composite.
    pub composite_mean: f64,
    /// Mean score rate per pillar.
    pub means: Vec<Option<f64>>,
    /// SD of score rates per pillar (report ddof).
    pub stds: Vec<Option<f64>>,
}

/// Pairwise correlations among the pillars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationMatrix {
    /// Pillar ids, row and column order.
    pub ids: Vec<String>,
    /// Cities used (those with every pillar rate).
    pub n: usize,
    /// Pearson r (`None` where undefined, e.g. a pillar without spread; see `Report::notes`).
    pub pearson_r: Vec<Vec<Option<f64>>>,
    /// Two-sided p of Pearson r.
    pub pearson_p: Vec<Vec<Option<f64>>>,
    /// Spearman rho.
    pub spearman_rho: Vec<Vec<Option<f64>>>,
    /// Two-sided p of Spearman rho.
    pub spearman_p: Vec<Vec<Option<f64>>>,
}

/// Regression of an external index's rank on the composite rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRegression {
    /// The external index id.
    pub index: String,
    /// Cities with both.
    pub n: usize,
    /// Pearson correlation of the ranks.
    pub pearson: Correlation,
    /// Spearman correlation of the values.
    pub spearman: Correlation,
    /// OLS `index_rank ~ const + composite_rank`.
    pub fit: OlsFit,
    /// `(composite_rank, index_rank)` per city.
    pub points: Vec<(f64, f64)>,
}

/// Configured versus entropy weights of the pillars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightRow {
    /// Pillar id.
    pub pillar: String,
    /// Configured weight share.
    pub configured: f64,
    /// Entropy `e_j` of the pillar's score rates.
    pub entropy: f64,
    /// Entropy weight `w_j`.
    pub entropy_weight: f64,
}

/// A city's rank change between two years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankChange {
    /// City.
    pub city: String,
    /// Earlier year.
    pub from_year: i32,
    /// Later year.
    pub to_year: i32,
    /// Rank in the earlier year.
    pub from_rank: usize,
    /// Rank in the later year.
    pub to_rank: usize,
    /// `from_rank - to_rank` (positive = moved up).
    pub change: i64,
}

/// A city cluster's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRow {
    /// Cluster name.
    pub cluster: String,
    /// Cities.
    pub n: usize,
    /// Mean composite.
    pub mean: f64,
    /// SD of the composite (None for one city).
    pub std: Option<f64>,
    /// Best city.
    pub best_city: String,
    /// Its composite.
    pub best: f64,
}

/// Where a city stands in the comparison set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Name.
    pub name: String,
    /// Composite index.
    pub composite: f64,
    /// Rank among the report's cities plus this one (1 = best).
    pub rank: usize,
    /// Out of this many.
    pub of: usize,
    /// Tier under the report's cuts (applied to the same basis as the report's tiers).
    pub tier: Tier,
    /// Whether the composite lies outside the report's observed range.
    pub outside_range: bool,
    /// Pillar score rates, in `Report::pillars` order.
    pub pillars: Vec<Option<f64>>,
}

/// Data coverage across the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Cities in the data for the year.
    pub cities_in_data: usize,
    /// Cities with a composite (the rest lacked coverage).
    pub cities_scored: usize,
    /// Mean coverage of scored cities.
    pub mean_coverage: f64,
    /// Mean confidence of scored cities.
    pub mean_confidence: f64,
    /// Warning counts by kind.
    pub warnings: BTreeMap<String, usize>,
}

/// The evaluation report (serialised as `report.json`, schema [`REPORT_SCHEMA`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Schema id.
    pub schema: String,
    /// Profile id.
    pub profile_id: String,
    /// Profile name (Chinese).
    pub profile_name_zh: String,
    /// Profile name (English).
    pub profile_name_en: String,
    /// The missing-data policy, in words.
    pub missing_policy: String,
    /// ddof of every SD.
    pub ddof: Ddof,
    /// The analysed year.
    pub year: i32,
    /// All years in the data.
    pub years: Vec<i32>,
    /// Note on the data.
    pub note: Option<String>,
    /// First-level blocks.
    pub pillars: Vec<BlockInfo>,
    /// Second-level blocks.
    pub second_level: Vec<BlockInfo>,
    /// Cities of the analysed year, best first.
    pub cities: Vec<CityResult>,
    /// Tier table.
    pub tiers: TierSummary,
    /// Second-level score rates by tier.
    pub tier_second_level: Vec<TierBlockRow>,
    /// Regional means and SDs.
    pub regions: Vec<RegionRow>,
    /// Pillar score rates across cities.
    pub pillar_summary: Vec<PillarRow>,
    /// Pillar means and SDs per year.
    pub spread_by_year: Vec<YearSpread>,
    /// Pillar correlations.
    pub correlation: CorrelationMatrix,
    /// External index rank on composite rank.
    pub rank_regression: Option<RankRegression>,
    /// External index on the pillar score rates (multiple OLS).
    pub index_on_pillars: Option<OlsFit>,
    /// Configured versus entropy weights.
    pub weights: Vec<WeightRow>,
    /// Rank changes from the previous year, largest rise first.
    pub rank_changes: Vec<RankChange>,
    /// City clusters.
    pub clusters: Vec<ClusterRow>,
    /// The placed city.
    pub placement: Option<Placement>,
    /// Coverage.
    pub coverage: CoverageSummary,
    /// Analyses that were left out or are partly undefined, and why.
    pub notes: Vec<String>,
}
