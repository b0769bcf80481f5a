//! Profiles: indicator systems as editable data files (TOML or JSON), validated on load.
//!
//! A file has a `[profile]` table and arrays of `[[block]]`, `[[indicator]]`,
//! `[[deduction]]` and `[[stage]]` tables; `docs/specs/indicators.md` is the
//! manual. [`Profile::from_toml`] and [`Profile::from_json`] parse and validate;
//! [`builtin`] returns the profiles shipped in `crates/governance/profiles/`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::live::is_live_metric;
use crate::model::{
    Block, Deduction, Direction, FormulaOp, Indicator, MissingPolicy, Normalisation, Source, Stage,
};

/// Why a profile file was rejected. Each variant names the offending item.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// The file is not valid TOML/JSON or does not match the schema.
    #[error("cannot parse {format} profile: {message}")]
    Parse {
        /// `toml` or `json`.
        format: &'static str,
        /// The parser's message (with line and column).
        message: String,
    },
    /// No builtin profile has this name.
    #[error("unknown profile {name:?} (builtin: {known})")]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The builtin names, comma-separated.
        known: String,
    },
    /// An id is empty, too long, or not `[a-z0-9_]`.
    #[error("id {id:?} must be 1-64 characters of [a-z0-9_]")]
    BadId {
        /// The id.
        id: String,
    },
    /// Two items share an id.
    #[error("id {id:?} is used twice")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// A block or indicator names a parent block that does not exist.
    #[error("{id:?} names unknown parent block {parent:?}")]
    UnknownParent {
        /// The child.
        id: String,
        /// The missing parent.
        parent: String,
    },
    /// A level does not equal the parent's level plus one.
    #[error("{id:?} has level {level}, expected {expected}")]
    LevelMismatch {
        /// The item.
        id: String,
        /// Its level.
        level: u8,
        /// Parent level + 1.
        expected: u8,
    },
    /// A weight is negative or not finite.
    #[error("{id:?} has invalid weight {weight}")]
    BadWeight {
        /// The item.
        id: String,
        /// The weight.
        weight: f64,
    },
    /// A block has no children.
    #[error("block {id:?} has no children")]
    EmptyBlock {
        /// The block (`root` for the profile itself).
        id: String,
    },
    /// The children of a block all have weight 0.
    #[error("the children of block {id:?} have zero total weight")]
    ZeroWeights {
        /// The block.
        id: String,
    },
    /// A live source names a metric that no adapter provides.
    #[error("indicator {indicator:?} uses unknown live metric {metric:?}")]
    UnknownMetric {
        /// The indicator or deduction.
        indicator: String,
        /// The metric id.
        metric: String,
    },
    /// A formula names an indicator that does not exist.
    #[error("formula of {indicator:?} references unknown indicator {reference:?}")]
    UnknownReference {
        /// The formula indicator.
        indicator: String,
        /// The missing reference.
        reference: String,
    },
    /// A formula has the wrong number of arguments.
    #[error("formula {op:?} of {indicator:?} takes {expected} arguments, got {got}")]
    FormulaArity {
        /// The formula indicator.
        indicator: String,
        /// The operation.
        op: FormulaOp,
        /// What it takes.
        expected: &'static str,
        /// What it got.
        got: usize,
    },
    /// Parents or formulas form a cycle.
    #[error("cycle: {}", path.join(" -> "))]
    Cycle {
        /// The ids along the cycle, the first repeated at the end.
        path: Vec<String>,
    },
    /// A normalisation's parameters are unusable.
    #[error("normalisation of {id:?}: {reason}")]
    BadNormalisation {
        /// The indicator.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A deduction names an unknown block or has unusable rates.
    #[error("deduction {id:?}: {reason}")]
    BadDeduction {
        /// The deduction.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// Stages are not ascending in [0, 1].
    #[error("stage {id:?}: min_rate {min_rate} must ascend within [0, 1]")]
    BadStage {
        /// The stage.
        id: String,
        /// Its threshold.
        min_rate: f64,
    },
    /// `min_coverage` is outside [0, 1].
    #[error("min_coverage {value} must be within [0, 1]")]
    BadCoverage {
        /// The value.
        value: f64,
    },
}

fn default_min_coverage() -> f64 {
    0.5
}

/// The `[profile]` table: identity and scoring policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileMeta {
    /// Id (`six_pillar`); the builtin name uses dashes (`six-pillar`).
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Version or edition of the system.
    pub version: String,
    /// What the system measures and where its weights come from.
    pub description: String,
    /// Missing-data policy.
    #[serde(default)]
    pub missing: MissingPolicy,
    /// A block whose weight coverage is below this has no score rate.
    #[serde(default = "default_min_coverage")]
    pub min_coverage: f64,
}

/// The file schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// Identity and policy.
    pub profile: ProfileMeta,
    /// Inner nodes.
    #[serde(default, rename = "block")]
    pub blocks: Vec<Block>,
    /// Leaves.
    #[serde(default, rename = "indicator")]
    pub indicators: Vec<Indicator>,
    /// Deduction items.
    #[serde(default, rename = "deduction")]
    pub deductions: Vec<Deduction>,
    /// Named stages, ascending.
    #[serde(default, rename = "stage")]
    pub stages: Vec<Stage>,
}

/// A child of a block: another block or an indicator (indices into the profile's lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Child {
    Block(usize),
    Indicator(usize),
}

/// A validated profile, ready for scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    file: ProfileFile,
    /// Children of the root (first-level blocks, or indicators at level 1).
    pub(crate) root_children: Vec<Child>,
    /// Children of each block, in file order.
    pub(crate) block_children: Vec<Vec<Child>>,
    /// Blocks in evaluation order (deepest level first).
    pub(crate) block_order: Vec<usize>,
    /// Indicators in evaluation order (formula arguments before formulas).
    pub(crate) indicator_order: Vec<usize>,
    /// Indicator id -> index (lookup only).
    pub(crate) indicator_index: BTreeMap<String, usize>,
    /// Deduction indices per block (`None` key = root).
    pub(crate) block_deductions: Vec<Vec<usize>>,
    pub(crate) root_deductions: Vec<usize>,
    /// Shared ids for score results: indicators, blocks, and `root`.
    pub(crate) leaf_ids: Vec<Arc<str>>,
    pub(crate) block_ids: Vec<Arc<str>>,
    pub(crate) root_id: Arc<str>,
}

/// The builtin profiles: `(name, file text)`.
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    ("six-pillar", include_str!("../profiles/six-pillar.toml")),
    ("gbt-33356", include_str!("../profiles/gbt-33356.toml")),
    (
        "iso-37122-live",
        include_str!("../profiles/iso-37122-live.toml"),
    ),
];

/// A builtin profile by name (`six-pillar`, `gbt-33356`, `iso-37122-live`).
pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
    let (_, text) = BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ProfileError::UnknownProfile {
            name: name.to_string(),
            known: BUILTIN_PROFILES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    Profile::from_toml(text)
}

fn check_id(id: &str) -> Result<(), ProfileError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok && id != "root" {
        Ok(())
    } else {
        Err(ProfileError::BadId { id: id.to_string() })
    }
}

fn check_weight(id: &str, weight: f64) -> Result<(), ProfileError> {
    if weight.is_finite() && weight >= 0.0 {
        Ok(())
    } else {
        Err(ProfileError::BadWeight {
            id: id.to_string(),
            weight,
        })
    }
}

fn check_normalisation(ind: &Indicator) -> Result<(), ProfileError> {
    let bad = |reason: String| ProfileError::BadNormalisation {
        id: ind.id.clone(),
        reason,
    };
    match ind.normalisation {
        Normalisation::MinMax | Normalisation::Share => Ok(()),
        Normalisation::Fixed { min, max } => {
            if min.is_finite() && max.is_finite() && min < max {
                Ok(())
            } else {
                Err(bad(format!(
                    "fixed bounds need min < max, got {min}..{max}"
                )))
            }
        }
        Normalisation::Target { baseline, target } => {
            if !(baseline.is_finite() && target.is_finite()) || baseline == target {
                return Err(bad(format!(
                    "target {target} and baseline {baseline} must be finite and differ"
                )));
            }
            match (ind.direction, target > baseline) {
                (Direction::Higher, true) | (Direction::Lower, false) => Ok(()),
                (Direction::Higher, false) => Err(bad(format!(
                    "higher is better, so target {target} must exceed baseline {baseline}"
                ))),
                (Direction::Lower, true) => Err(bad(format!(
                    "lower is better, so target {target} must be below baseline {baseline}"
                ))),
            }
        }
    }
}

fn check_source(
    owner: &str,
    source: &Source,
    indicators: &BTreeSet<&str>,
) -> Result<(), ProfileError> {
    match source {
        Source::Live { metric } => {
            if is_live_metric(metric) {
                Ok(())
            } else {
                Err(ProfileError::UnknownMetric {
                    indicator: owner.to_string(),
                    metric: metric.clone(),
                })
            }
        }
        Source::Static | Source::Scenario { .. } => Ok(()),
        Source::Formula { op, args } => {
            let (ok, expected) = match op {
                FormulaOp::Ratio | FormulaOp::Difference => (args.len() == 2, "2"),
                _ => (!args.is_empty(), "1 or more"),
            };
            if !ok {
                return Err(ProfileError::FormulaArity {
                    indicator: owner.to_string(),
                    op: *op,
                    expected,
                    got: args.len(),
                });
            }
            match args.iter().find(|a| !indicators.contains(a.as_str())) {
                Some(missing) => Err(ProfileError::UnknownReference {
                    indicator: owner.to_string(),
                    reference: missing.clone(),
                }),
                None => Ok(()),
            }
        }
    }
}

impl Profile {
    /// Parses and validates a TOML profile.
    pub fn from_toml(text: &str) -> Result<Profile, ProfileError> {
        let file: ProfileFile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            format: "toml",
            message: e.to_string(),
        })?;
        Profile::new(file)
    }

    /// Parses and validates a JSON profile (same schema as TOML).
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let file: ProfileFile = serde_json::from_str(text).map_err(|e| ProfileError::Parse {
            format: "json",
            message: e.to_string(),
        })?;
        Profile::new(file)
    }

    /// Validates a parsed file: ids, parents and levels, cycles, weights,
    /// normalisations, live metric ids, formulas, deductions and stages.
    pub fn new(file: ProfileFile) -> Result<Profile, ProfileError> {
        let meta = &file.profile;
        if !(0.0..=1.0).contains(&meta.min_coverage) {
            return Err(ProfileError::BadCoverage {
                value: meta.min_coverage,
            });
        }
        // Ids: grammar and uniqueness across all item kinds.
        let mut seen = BTreeSet::new();
        let all_ids = file
            .blocks
            .iter()
            .map(|b| &b.id)
            .chain(file.indicators.iter().map(|i| &i.id))
            .chain(file.deductions.iter().map(|d| &d.id));
        for id in all_ids {
            check_id(id)?;
            if !seen.insert(id.as_str()) {
                return Err(ProfileError::DuplicateId { id: id.clone() });
            }
        }
        let block_index: BTreeMap<&str, usize> = file
            .blocks
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.as_str(), i))
            .collect();
        // Parents exist, parent chains are acyclic, levels consistent.
        for b in &file.blocks {
            check_weight(&b.id, b.weight)?;
            if let Some(p) = &b.parent
                && !block_index.contains_key(p.as_str())
            {
                return Err(ProfileError::UnknownParent {
                    id: b.id.clone(),
                    parent: p.clone(),
                });
            }
        }
        for b in &file.blocks {
            let mut path = vec![b.id.clone()];
            let mut cur = b;
            while let Some(p) = &cur.parent {
                let next = &file.blocks[block_index[p.as_str()]];
                path.push(next.id.clone());
                if next.id == b.id {
                    return Err(ProfileError::Cycle { path });
                }
                if path.len() > file.blocks.len() + 1 {
                    break; // a cycle not through `b`; found when its members are checked
                }
                cur = next;
            }
        }
        let level_of = |id: &str| file.blocks[block_index[id]].level;
        for b in &file.blocks {
            let expected = b
                .parent
                .as_deref()
                .map_or(1, |p| level_of(p).saturating_add(1));
            if b.level != expected {
                return Err(ProfileError::LevelMismatch {
                    id: b.id.clone(),
                    level: b.level,
                    expected,
                });
            }
        }
        let indicator_ids: BTreeSet<&str> = file.indicators.iter().map(|i| i.id.as_str()).collect();
        for ind in &file.indicators {
            check_weight(&ind.id, ind.weight)?;
            let Some(&p) = block_index.get(ind.parent.as_str()) else {
                return Err(ProfileError::UnknownParent {
                    id: ind.id.clone(),
                    parent: ind.parent.clone(),
                });
            };
            let expected = file.blocks[p].level.saturating_add(1);
            if ind.level != expected {
                return Err(ProfileError::LevelMismatch {
                    id: ind.id.clone(),
                    level: ind.level,
                    expected,
                });
            }
            check_normalisation(ind)?;
            check_source(&ind.id, &ind.source, &indicator_ids)?;
        }
        // Children lists and weights.
        let mut root_children = Vec::new();
        let mut block_children = vec![Vec::new(); file.blocks.len()];
        for (i, b) in file.blocks.iter().enumerate() {
            match &b.parent {
                Some(p) => block_children[block_index[p.as_str()]].push(Child::Block(i)),
                None => root_children.push(Child::Block(i)),
            }
        }
        for (i, ind) in file.indicators.iter().enumerate() {
            block_children[block_index[ind.parent.as_str()]].push(Child::Indicator(i));
        }
        let weight = |c: &Child| match *c {
            Child::Block(i) => file.blocks[i].weight,
            Child::Indicator(i) => file.indicators[i].weight,
        };
        if root_children.is_empty() {
            return Err(ProfileError::EmptyBlock { id: "root".into() });
        }
        if root_children.iter().map(weight).sum::<f64>() <= 0.0 {
            return Err(ProfileError::ZeroWeights { id: "root".into() });
        }
        for (i, children) in block_children.iter().enumerate() {
            let id = file.blocks[i].id.clone();
            if children.is_empty() {
                return Err(ProfileError::EmptyBlock { id });
            }
            if children.iter().map(weight).sum::<f64>() <= 0.0 {
                return Err(ProfileError::ZeroWeights { id });
            }
        }
        let mut block_order: Vec<usize> = (0..file.blocks.len()).collect();
        block_order.sort_by_key(|&i| std::cmp::Reverse(file.blocks[i].level));
        let indicator_index: BTreeMap<String, usize> = file
            .indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| (ind.id.clone(), i))
            .collect();
        let indicator_order = formula_order(&file.indicators, &indicator_index)?;
        // Deductions.
        let mut block_deductions = vec![Vec::new(); file.blocks.len()];
        let mut root_deductions = Vec::new();
        for (k, d) in file.deductions.iter().enumerate() {
            let bad = |reason: String| ProfileError::BadDeduction {
                id: d.id.clone(),
                reason,
            };
            let rates_ok = d.rate_per_unit.is_finite()
                && d.rate_per_unit >= 0.0
                && (0.0..=1.0).contains(&d.max_rate);
            if !rates_ok {
                return Err(bad(format!(
                    "rate_per_unit {} must be >= 0 and max_rate {} within [0, 1]",
                    d.rate_per_unit, d.max_rate
                )));
            }
            check_source(&d.id, &d.source, &indicator_ids)?;
            if d.block == "root" {
                root_deductions.push(k);
            } else if let Some(&b) = block_index.get(d.block.as_str()) {
                block_deductions[b].push(k);
            } else {
                return Err(bad(format!("unknown block {:?}", d.block)));
            }
        }
        // Stages ascend within [0, 1].
        let mut prev = f64::NEG_INFINITY;
        for s in &file.stages {
            if !(0.0..=1.0).contains(&s.min_rate) || s.min_rate <= prev {
                return Err(ProfileError::BadStage {
                    id: s.id.clone(),
                    min_rate: s.min_rate,
                });
            }
            prev = s.min_rate;
        }
        let leaf_ids = file
            .indicators
            .iter()
            .map(|i| Arc::from(i.id.as_str()))
            .collect();
        let block_ids = file
            .blocks
            .iter()
            .map(|b| Arc::from(b.id.as_str()))
            .collect();
        Ok(Profile {
            leaf_ids,
            block_ids,
            root_id: Arc::from("root"),
            file,
            root_children,
            block_children,
            block_order,
            indicator_order,
            indicator_index,
            block_deductions,
            root_deductions,
        })
    }

    /// Identity and policy.
    pub fn meta(&self) -> &ProfileMeta {
        &self.file.profile
    }

    /// The validated file contents (for serialisation and display).
    pub fn file(&self) -> &ProfileFile {
        &self.file
    }

    /// Inner nodes, in file order.
    pub fn blocks(&self) -> &[Block] {
        &self.file.blocks
    }

    /// Leaves, in file order.
    pub fn indicators(&self) -> &[Indicator] {
        &self.file.indicators
    }

    /// Deduction items.
    pub fn deductions(&self) -> &[Deduction] {
        &self.file.deductions
    }

    /// Named stages, ascending.
    pub fn stages(&self) -> &[Stage] {
        &self.file.stages
    }

    /// The indicator with this id.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicator_index
            .get(id)
            .map(|&i| &self.file.indicators[i])
    }

    /// First-level blocks (the pillars), in file order.
    pub fn pillars(&self) -> Vec<&Block> {
        self.file.blocks.iter().filter(|b| b.level == 1).collect()
    }

    /// Blocks at `level`, in file order.
    pub fn blocks_at(&self, level: u8) -> Vec<&Block> {
        self.file
            .blocks
            .iter()
            .filter(|b| b.level == level)
            .collect()
    }

    /// The live metric ids this profile reads (indicators and deductions), sorted.
    pub fn live_metrics(&self) -> BTreeSet<&str> {
        let sources = self
            .file
            .indicators
            .iter()
            .map(|i| &i.source)
            .chain(self.file.deductions.iter().map(|d| &d.source));
        sources
            .filter_map(|s| match s {
                Source::Live { metric } => Some(metric.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The effective weight of each indicator in the composite (product of
    /// sibling-normalised weights down the tree), by indicator id.
    pub fn effective_weights(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let mut stack: Vec<(&[Child], f64)> = vec![(&self.root_children, 1.0)];
        while let Some((children, share)) = stack.pop() {
            let total: f64 = children.iter().map(|c| self.child_weight(*c)).sum();
            for c in children {
                let w = share * self.child_weight(*c) / total;
                match *c {
                    Child::Block(b) => stack.push((&self.block_children[b], w)),
                    Child::Indicator(i) => {
                        out.insert(self.file.indicators[i].id.clone(), w);
                    }
                }
            }
        }
        out
    }

    pub(crate) fn child_weight(&self, c: Child) -> f64 {
        match c {
            Child::Block(i) => self.file.blocks[i].weight,
            Child::Indicator(i) => self.file.indicators[i].weight,
        }
    }
}

/// Topological order of indicators so that formula arguments come first; a cycle is an error.
fn formula_order(
    indicators: &[Indicator],
    index: &BTreeMap<String, usize>,
) -> Result<Vec<usize>, ProfileError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        i: usize,
        indicators: &[Indicator],
        index: &BTreeMap<String, usize>,
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
        order: &mut Vec<usize>,
    ) -> Result<(), ProfileError> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Active => {
                let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut path: Vec<String> = stack[start..]
                    .iter()
                    .map(|&s| indicators[s].id.clone())
                    .collect();
                path.push(indicators[i].id.clone());
                return Err(ProfileError::Cycle { path });
            }
            Mark::New => {}
        }
        marks[i] = Mark::Active;
        stack.push(i);
        if let Source::Formula { args, .. } = &indicators[i].source {
            for a in args {
                if let Some(&j) = index.get(a) {
                    visit(j, indicators, index, marks, stack, order)?;
                }
            }
        }
        stack.pop();
        marks[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; indicators.len()];
    let mut order = Vec::with_capacity(indicators.len());
    let mut stack = Vec::new();
    for i in 0..indicators.len() {
        visit(i, indicators, index, &mut marks, &mut stack, &mut order)?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests;
