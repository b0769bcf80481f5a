//! Scoring per H3 cell, district and city: ratio indicators aggregate by
//! summing counts, so a city built from its districts equals the city built
//! from all its cells, and the iso-37122-live profile scores cells from live data.

use std::collections::BTreeMap;

use governance::{EntityInputs, InputValue, Reference, builtin, score, score_set};
use proptest::prelude::*;

const METRICS: [&str; 3] = [
    "transit_realtime_share",
    "smart_signal_share",
    "camera_area_coverage",
];

fn cell(counts: &[(u32, u32)], response_days: f64, weight: f64) -> EntityInputs {
    let mut e = EntityInputs::default();
    for (m, &(num, den)) in METRICS.iter().zip(counts) {
        let (num, den) = (f64::from(num.min(den)), f64::from(den.max(1)));
        e.live.set(*m, InputValue::from_counts(num, den));
    }
    e.live.set(
        "inquiry_response_days",
        InputValue::new(response_days).with_weight(weight),
    );
    e
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_city_from_districts_equals_the_city_from_all_cells(
        cells in prop::collection::vec(
            (prop::collection::vec((0u32..500, 1u32..500), 3), 0.5f64..20.0, 1.0f64..100.0),
            2..40,
        ),
        split in 1usize..5,
    ) {
        let cells: Vec<EntityInputs> = cells.iter().map(|(c, d, w)| cell(c, *d, *w)).collect();
        let districts: Vec<EntityInputs> = cells
            .chunks(cells.len().div_ceil(split))
            .map(EntityInputs::aggregate)
            .collect();
        let via_districts = EntityInputs::aggregate(&districts);
        let direct = EntityInputs::aggregate(&cells);
        for m in METRICS {
            let (a, b) = (via_districts.live.get(m).unwrap(), direct.live.get(m).unwrap());
            prop_assert_eq!(a.ratio, b.ratio, "{} counts", m);
        }
        let (a, b) = (
            via_districts.live.get("inquiry_response_days").unwrap().value,
            direct.live.get("inquiry_response_days").unwrap().value,
        );
        prop_assert!((a - b).abs() <= 1e-9 * b.abs());
        let p = builtin("iso-37122-live").unwrap();
        let (sa, sb) = (score(&p, &via_districts, &Reference::none()), score(&p, &direct, &Reference::none()));
        for (x, y) in sa.blocks.iter().zip(&sb.blocks) {
            match (x.rate, y.rate) {
                (Some(x), Some(y)) => prop_assert!((x - y).abs() <= 1e-9),
                (x, y) => prop_assert_eq!(x, y),
            }
        }
    }
}

#[test]
fn every_h3_cell_gets_a_score_with_its_coverage() {
    let p = builtin("iso-37122-live").unwrap();
    let mut cells: BTreeMap<u64, EntityInputs> = BTreeMap::new();
    for k in 0..20u32 {
        let mut e = cell(&[(k, 20), (20 - k, 20), (10, 20)], 2.0 + f64::from(k), 1.0);
        if k % 2 == 0 {
            e.live.set(
                "smart_meter_share",
                InputValue::from_counts(f64::from(k), 20.0),
            );
            e.live.set("air_stations_count", InputValue::new(1.0));
            e.statics
                .insert("city_area_km2".into(), InputValue::new(0.1));
        }
        cells.insert(0x0891_0000_0000_0000 + u64::from(k), e);
    }
    let (scores, _) = score_set(&p, &cells);
    assert_eq!(scores.len(), 20);
    for (k, s) in &scores {
        let even = (k - 0x0891_0000_0000_0000) % 2 == 0;
        // odd cells lack energy and environment data: lower coverage, stated,
        // and below the profile's minimum no composite is invented
        assert_eq!(s.rate("energy").is_some(), even, "cell {k:x}");
        assert_eq!(s.composite.is_some(), even, "cell {k:x}");
        if even {
            assert!(s.coverage > 0.6);
            // the formula indicator: 1 station / 0.1 km² = 10 per km², above the 0.05 target
            assert_eq!(
                s.leaf("air_stations_per_km2").unwrap().normalised,
                Some(1.0)
            );
        } else {
            // governance and safety complete, transportation 2 of 3: coverage 4/9 < 0.5
            assert!((s.coverage - 4.0 / 9.0).abs() < 1e-12);
            assert!(s.coverage < s.min_coverage);
            assert!(
                s.warnings
                    .iter()
                    .any(|w| matches!(w, governance::Warning::FormulaUndefined { .. }))
            );
        }
    }
}
