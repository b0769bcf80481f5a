//! Baseline versus variant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The change of one KPI between a baseline and a variant run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiDelta {
    /// KPI name.
    pub kpi: String,
    /// Baseline value.
    pub baseline: f64,
    /// Variant value.
    pub variant: f64,
    /// `variant - baseline`.
    pub delta: f64,
    /// `delta / |baseline|`, `None` when the baseline is zero.
    pub relative: Option<f64>,
}

/// Deltas for every KPI present in both runs, in name order.
pub fn compare(baseline: &BTreeMap<String, f64>, variant: &BTreeMap<String, f64>) -> Vec<KpiDelta> {
    baseline
        .iter()
        .filter_map(|(k, &b)| {
            let &v = variant.get(k)?;
            let delta = v - b;
            Some(KpiDelta {
                kpi: k.clone(),
                baseline: b,
                variant: v,
                delta,
                relative: (b != 0.0).then(|| delta / b.abs()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_cover_common_kpis_only() {
        let b = BTreeMap::from([("att_s".to_string(), 200.0), ("only_b".to_string(), 1.0)]);
        let v = BTreeMap::from([("att_s".to_string(), 250.0), ("zero".to_string(), 0.0)]);
        let d = compare(&b, &v);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].delta, 50.0);
        assert_eq!(d[0].relative, Some(0.25));
    }
}
