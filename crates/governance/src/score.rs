//! Scoring: raw values -> normalised leaves in [0, 1] -> weighted score rates
//! (得分率 = Σ wᵢvᵢ / Σ wᵢ) per block -> composite index, with coverage,
//! confidence and the missing-data policy stated in every result.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::live::{EntityInputs, InputValue};
use crate::model::{Direction, FormulaOp, Indicator, MissingPolicy, Normalisation, Source};
use crate::profile::{Child, Profile};
use crate::stats::target_norm;

/// Where a leaf's raw value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// A live metric.
    Live,
    /// A static input (annual statistics).
    Static,
    /// A live indicator whose live value was absent, filled from the static input.
    StaticFallback,
    /// A scenario output.
    Scenario,
    /// Computed by a formula.
    Formula,
}

/// Something a caller should know about a result; the result is still valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// No value for the indicator; handled by the missing-data policy.
    Missing {
        /// Indicator id.
        indicator: String,
    },
    /// The value was NaN or infinite and was treated as missing.
    NonFinite {
        /// Indicator id.
        indicator: String,
    },
    /// A min-max indicator was scored without a reference set.
    NoReference {
        /// Indicator id.
        indicator: String,
    },
    /// All reference values are equal, so min-max is undefined; treated as missing.
    DegenerateRange {
        /// Indicator id.
        indicator: String,
    },
    /// A formula's arguments were missing or gave a division by zero.
    FormulaUndefined {
        /// Indicator id.
        indicator: String,
    },
    /// A block's weight coverage fell below the profile's `min_coverage`; it has no rate.
    InsufficientCoverage {
        /// Block id (`root` for the composite).
        block: String,
        /// Its coverage.
        coverage: f64,
    },
}

/// The score of one leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafScore {
    /// Indicator id (shared with the profile, so scoring many areas copies no strings).
    pub id: Arc<str>,
    /// Raw value, if known.
    pub raw: Option<f64>,
    /// Normalised value in [0, 1], if known.
    pub normalised: Option<f64>,
    /// Data quality of the raw value (0 when missing).
    pub quality: f64,
    /// Where the raw value came from.
    pub provenance: Option<Provenance>,
}

/// The score of one block (or of the root, id `root`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockScore {
    /// Block id (`root` for the composite).
    pub id: Arc<str>,
    /// Level (0 for the root).
    pub level: u8,
    /// Score rate in [0, 1] after deductions; `None` when coverage is insufficient.
    pub rate: Option<f64>,
    /// Share of the block's weight whose leaves have values.
    pub coverage: f64,
    /// Weighted mean data quality, missing leaves counting 0.
    pub confidence: f64,
    /// Score-rate points deducted.
    pub deduction: f64,
}

/// The result of scoring one area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Composite index (the root's score rate) in [0, 1].
    pub composite: Option<f64>,
    /// Share of the composite's weight with data.
    pub coverage: f64,
    /// Confidence in [0, 1]: coverage and data quality together.
    pub confidence: f64,
    /// The stage reached (highest stage whose `min_rate` <= composite).
    pub stage: Option<String>,
    /// The missing-data policy applied.
    pub policy: MissingPolicy,
    /// The coverage below which a block has no rate.
    pub min_coverage: f64,
    /// Every block, in profile file order.
    pub blocks: Vec<BlockScore>,
    /// Every indicator, in profile file order.
    pub leaves: Vec<LeafScore>,
    /// What was missing or degenerate.
    pub warnings: Vec<Warning>,
}

impl Score {
    /// The score of the block with this id.
    pub fn block(&self, id: &str) -> Option<&BlockScore> {
        self.blocks.iter().find(|b| &*b.id == id)
    }

    /// The score rate of the block with this id.
    pub fn rate(&self, id: &str) -> Option<f64> {
        self.block(id).and_then(|b| b.rate)
    }

    /// The score of the leaf with this id.
    pub fn leaf(&self, id: &str) -> Option<&LeafScore> {
        self.leaves.iter().find(|l| &*l.id == id)
    }
}

/// The raw values of every indicator of one area, before normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct RawValues {
    values: Vec<Option<(f64, f64, Provenance)>>,
    warnings: Vec<Warning>,
}

impl RawValues {
    /// The raw value of indicator number `i` (profile file order).
    pub fn get(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().flatten().map(|(v, _, _)| v)
    }
}

/// Min-max ranges of the reference set, per indicator.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reference {
    ranges: Vec<Option<(f64, f64)>>,
}

impl Reference {
    /// No reference set: min-max indicators are reported as `NoReference`.
    pub fn none() -> Self {
        Self::default()
    }

    /// The observed ranges over a set of areas.
    pub fn from_raw<'a>(profile: &Profile, raws: impl IntoIterator<Item = &'a RawValues>) -> Self {
        let mut ranges: Vec<Option<(f64, f64)>> = vec![None; profile.indicators().len()];
        for raw in raws {
            for (slot, v) in ranges.iter_mut().zip(&raw.values) {
                if let Some((x, _, _)) = v {
                    *slot = Some(match *slot {
                        None => (*x, *x),
                        Some((lo, hi)) => (lo.min(*x), hi.max(*x)),
                    });
                }
            }
        }
        Self { ranges }
    }

    /// The observed `(min, max)` of indicator number `i`.
    pub fn range(&self, i: usize) -> Option<(f64, f64)> {
        self.ranges.get(i).copied().flatten()
    }
}

fn lookup(
    source: &Source,
    own_id: &str,
    inputs: &EntityInputs,
) -> Option<(InputValue, Provenance)> {
    match source {
        Source::Live { metric } => inputs
            .live
            .get(metric)
            .map(|v| (*v, Provenance::Live))
            .or_else(|| {
                inputs
                    .statics
                    .get(own_id)
                    .map(|v| (*v, Provenance::StaticFallback))
            }),
        Source::Static => inputs.statics.get(own_id).map(|v| (*v, Provenance::Static)),
        Source::Scenario { engine, kpi } => inputs
            .scenario
            .get(&format!("{engine}.{kpi}"))
            .map(|v| (*v, Provenance::Scenario)),
        Source::Formula { .. } => None,
    }
}

fn apply_formula(op: FormulaOp, args: &[Option<f64>]) -> Option<f64> {
    let all: Option<Vec<f64>> = args.iter().copied().collect();
    let v = match op {
        FormulaOp::Mean => {
            let present: Vec<f64> = args.iter().flatten().copied().collect();
            if present.is_empty() {
                return None;
            }
            present.iter().sum::<f64>() / present.len() as f64
        }
        FormulaOp::Sum => all?.iter().sum(),
        FormulaOp::Product => all?.iter().product(),
        FormulaOp::Min => all?.iter().copied().fold(f64::INFINITY, f64::min),
        FormulaOp::Max => all?.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        FormulaOp::Ratio => {
            let a = all?;
            if a[1] == 0.0 {
                return None;
            }
            a[0] / a[1]
        }
        FormulaOp::Difference => {
            let a = all?;
            a[0] - a[1]
        }
    };
    v.is_finite().then_some(v)
}

/// Resolves the raw value of every indicator of one area (formulas included).
pub fn raw_values(profile: &Profile, inputs: &EntityInputs) -> RawValues {
    let inds = profile.indicators();
    let mut values: Vec<Option<(f64, f64, Provenance)>> = vec![None; inds.len()];
    let mut warnings = Vec::new();
    for &i in &profile.indicator_order {
        let ind = &inds[i];
        let resolved = match &ind.source {
            Source::Formula { op, args } => {
                let arg_vals: Vec<Option<(f64, f64, Provenance)>> = args
                    .iter()
                    .map(|a| profile.indicator_index.get(a).and_then(|&j| values[j]))
                    .collect();
                let raw: Vec<Option<f64>> = arg_vals.iter().map(|a| a.map(|x| x.0)).collect();
                match apply_formula(*op, &raw) {
                    Some(v) => {
                        let q = arg_vals.iter().flatten().map(|a| a.1).fold(1.0, f64::min);
                        Some((v, q, Provenance::Formula))
                    }
                    None => {
                        warnings.push(Warning::FormulaUndefined {
                            indicator: ind.id.clone(),
                        });
                        None
                    }
                }
            }
            src => match lookup(src, &ind.id, inputs) {
                Some((v, p)) if v.value.is_finite() => Some((v.value, v.quality, p)),
                Some(_) => {
                    warnings.push(Warning::NonFinite {
                        indicator: ind.id.clone(),
                    });
                    None
                }
                None => {
                    warnings.push(Warning::Missing {
                        indicator: ind.id.clone(),
                    });
                    None
                }
            },
        };
        values[i] = resolved;
    }
    RawValues { values, warnings }
}

/// Normalises one raw value of `ind` to [0, 1]; `range` is the reference set's
/// `(min, max)` for min-max indicators. `Err` carries the warning when undefined.
pub fn normalise(ind: &Indicator, x: f64, range: Option<(f64, f64)>) -> Result<f64, Warning> {
    let higher = ind.direction == Direction::Higher;
    let between = |lo: f64, hi: f64| {
        let t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
        if higher { t } else { 1.0 - t }
    };
    match ind.normalisation {
        Normalisation::MinMax => match range {
            None => Err(Warning::NoReference {
                indicator: ind.id.clone(),
            }),
            Some((lo, hi)) if hi <= lo => Err(Warning::DegenerateRange {
                indicator: ind.id.clone(),
            }),
            Some((lo, hi)) => Ok(if higher {
                ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
            } else {
                ((hi - x) / (hi - lo)).clamp(0.0, 1.0)
            }),
        },
        Normalisation::Fixed { min, max } => Ok(between(min, max)),
        Normalisation::Target { baseline, target } => Ok(target_norm(x, baseline, target)),
        Normalisation::Share => Ok(between(0.0, 1.0)),
    }
}

#[derive(Clone, Copy)]
struct NodeValue {
    rate: Option<f64>,
    coverage: f64,
    confidence: f64,
}

/// Scores one area from its already resolved raw values.
pub fn score_raw(
    profile: &Profile,
    raw: &RawValues,
    reference: &Reference,
    inputs: &EntityInputs,
) -> Score {
    let meta = profile.meta();
    let inds = profile.indicators();
    let mut warnings = raw.warnings.clone();
    let mut leaves = Vec::with_capacity(inds.len());
    let mut leaf_values = Vec::with_capacity(inds.len());
    for (i, ind) in inds.iter().enumerate() {
        let (raw_v, quality, provenance) = match raw.values[i] {
            Some((v, q, p)) => (Some(v), q, Some(p)),
            None => (None, 0.0, None),
        };
        let normalised = raw_v.and_then(|x| match normalise(ind, x, reference.range(i)) {
            Ok(v) => Some(v),
            Err(w) => {
                warnings.push(w);
                None
            }
        });
        leaf_values.push(NodeValue {
            rate: normalised,
            coverage: if normalised.is_some() { 1.0 } else { 0.0 },
            confidence: if normalised.is_some() { quality } else { 0.0 },
        });
        leaves.push(LeafScore {
            id: profile.leaf_ids[i].clone(),
            raw: raw_v,
            normalised,
            quality: if normalised.is_some() { quality } else { 0.0 },
            provenance,
        });
    }
    let deduction_of = |ks: &[usize]| -> f64 {
        ks.iter()
            .map(|&k| {
                let d = &profile.deductions()[k];
                lookup(&d.source, &d.id, inputs)
                    .map(|(v, _)| v.value)
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .map_or(0.0, |v| (v * d.rate_per_unit).min(d.max_rate))
            })
            .sum()
    };
    let mut block_values: Vec<Option<NodeValue>> = vec![None; profile.blocks().len()];
    let mut block_deduction = vec![0.0; profile.blocks().len()];
    let combine = |children: &[Child], block_values: &[Option<NodeValue>]| -> NodeValue {
        let (mut total_w, mut present_w, mut sum, mut cov, mut conf) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &c in children {
            let w = profile.child_weight(c);
            let nv = match c {
                Child::Indicator(i) => leaf_values[i],
                Child::Block(b) => block_values[b].expect("blocks are evaluated deepest first"),
            };
            total_w += w;
            cov += w * nv.coverage;
            conf += w * nv.confidence;
            if let Some(v) = nv.rate {
                present_w += w;
                sum += w * v;
            }
        }
        let rate = match meta.missing {
            _ if present_w <= 0.0 => None,
            MissingPolicy::Renormalise => Some(sum / present_w),
            MissingPolicy::Zero => Some(sum / total_w),
        };
        NodeValue {
            rate,
            coverage: cov / total_w,
            confidence: conf / total_w,
        }
    };
    let finish = |id: &str, mut nv: NodeValue, deduction: f64, warnings: &mut Vec<Warning>| {
        if nv.coverage < meta.min_coverage {
            if nv.rate.is_some() {
                warnings.push(Warning::InsufficientCoverage {
                    block: id.to_string(),
                    coverage: nv.coverage,
                });
            }
            nv.rate = None;
        }
        nv.rate = nv.rate.map(|r| (r - deduction).clamp(0.0, 1.0));
        nv
    };
    for &b in &profile.block_order {
        let nv = combine(&profile.block_children[b], &block_values);
        let d = deduction_of(&profile.block_deductions[b]);
        block_deduction[b] = d;
        block_values[b] = Some(finish(&profile.blocks()[b].id, nv, d, &mut warnings));
    }
    let root_d = deduction_of(&profile.root_deductions);
    let root = finish(
        "root",
        combine(&profile.root_children, &block_values),
        root_d,
        &mut warnings,
    );
    let mut blocks = Vec::with_capacity(profile.blocks().len() + 1);
    blocks.push(BlockScore {
        id: profile.root_id.clone(),
        level: 0,
        rate: root.rate,
        coverage: root.coverage,
        confidence: root.confidence,
        deduction: root_d,
    });
    for (b, block) in profile.blocks().iter().enumerate() {
        let nv = block_values[b].expect("every block evaluated");
        blocks.push(BlockScore {
            id: profile.block_ids[b].clone(),
            level: block.level,
            rate: nv.rate,
            coverage: nv.coverage,
            confidence: nv.confidence,
            deduction: block_deduction[b],
        });
    }
    let stage = root.rate.and_then(|c| {
        profile
            .stages()
            .iter()
            .rev()
            .find(|s| c >= s.min_rate)
            .map(|s| s.id.clone())
    });
    Score {
        composite: root.rate,
        coverage: root.coverage,
        confidence: root.confidence,
        stage,
        policy: meta.missing,
        min_coverage: meta.min_coverage,
        blocks,
        leaves,
        warnings,
    }
}

/// Scores one area. Min-max indicators use `reference` (see [`score_set`] to
/// score a set of areas against itself).
pub fn score(profile: &Profile, inputs: &EntityInputs, reference: &Reference) -> Score {
    let raw = raw_values(profile, inputs);
    score_raw(profile, &raw, reference, inputs)
}

/// Scores a set of areas (cities, districts or H3 cells) with min-max indicators
/// normalised over the set itself. Returns the scores and the reference used.
pub fn score_set<K: Ord + Clone>(
    profile: &Profile,
    areas: &BTreeMap<K, EntityInputs>,
) -> (BTreeMap<K, Score>, Reference) {
    let raws: Vec<(&K, RawValues, &EntityInputs)> = areas
        .iter()
        .map(|(k, inputs)| (k, raw_values(profile, inputs), inputs))
        .collect();
    let reference = Reference::from_raw(profile, raws.iter().map(|(_, r, _)| r));
    let scores = raws
        .iter()
        .map(|(k, raw, inputs)| ((*k).clone(), score_raw(profile, raw, &reference, inputs)))
        .collect();
    (scores, reference)
}

#[cfg(test)]
mod tests;
