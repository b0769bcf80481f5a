//! Acceptance 3: properties of scoring and tiering.

use std::collections::BTreeMap;

use governance::tiers::{self, TierMethod};
use governance::{
    EntityInputs, InputValue, Profile, SynthParams, builtin, parse_tidy_csv, score_set,
    synthetic_rows, write_tidy_csv,
};
use proptest::prelude::*;

fn six() -> Profile {
    builtin("six-pillar").unwrap()
}

/// The six-pillar profile with the given weights cycled over blocks and indicators.
fn reweighted(weights: &[f64]) -> Profile {
    let mut file = six().file().clone();
    let mut w = weights.iter().cycle();
    for b in &mut file.blocks {
        b.weight = *w.next().unwrap();
    }
    for i in &mut file.indicators {
        i.weight = *w.next().unwrap();
    }
    // keep every sibling set's total positive
    for b in &mut file.blocks {
        b.weight += 0.01;
    }
    for i in &mut file.indicators {
        i.weight += 0.01;
    }
    Profile::new(file).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn weights_and_normalisation_keep_every_score_in_unit_interval(
        weights in prop::collection::vec(0.0f64..10.0, 1..40),
        raw in prop::collection::vec(prop::option::weighted(0.8, -1e3f64..1e3), 1..40),
        quality in 0.0f64..=1.0,
        n_areas in 2usize..6,
    ) {
        let p = reweighted(&weights);
        let mut areas = BTreeMap::new();
        for a in 0..n_areas {
            let mut e = EntityInputs::default();
            for (k, ind) in p.indicators().iter().enumerate() {
                if let Some(v) = raw[(k + a * 7) % raw.len()] {
                    let v = v * (a as f64 + 1.0) / 100.0;
                    e.statics.insert(ind.id.clone(), InputValue::new(v).with_quality(quality));
                }
            }
            areas.insert(a, e);
        }
        let (scores, _) = score_set(&p, &areas);
        for s in scores.values() {
            let unit = |v: f64| (0.0..=1.0).contains(&v);
            prop_assert!(s.composite.is_none_or(unit));
            prop_assert!(unit(s.coverage) && unit(s.confidence));
            for b in &s.blocks {
                prop_assert!(b.rate.is_none_or(unit), "{} {:?}", b.id, b.rate);
                prop_assert!(unit(b.coverage) && unit(b.confidence));
            }
            for l in &s.leaves {
                prop_assert!(l.normalised.is_none_or(unit));
            }
        }
    }

    #[test]
    fn a_profile_score_is_invariant_to_row_order(
        seed in 0u64..1000,
        perm in Just((0..(12 * 26)).collect::<Vec<usize>>()).prop_shuffle(),
    ) {
        let p = six();
        let params = SynthParams { cities: 12, years: 1, seed, ..SynthParams::default() };
        let rows = synthetic_rows(&p, &params);
        prop_assert_eq!(rows.len(), perm.len());
        let shuffled: Vec<_> = perm.iter().map(|&i| rows[i].clone()).collect();
        let a = parse_tidy_csv(&write_tidy_csv(&rows)).unwrap();
        let b = parse_tidy_csv(&write_tidy_csv(&shuffled)).unwrap();
        let year = params.first_year;
        let (sa, _) = score_set(&p, &a.years[&year]);
        let (sb, _) = score_set(&p, &b.years[&year]);
        prop_assert_eq!(sa, sb);
    }

    #[test]
    fn adding_a_city_inside_the_observed_range_changes_no_tier_edge(
        values in prop::collection::vec(0.0f64..1.0, 2..200),
        t in 0.0f64..=1.0,
    ) {
        let before = tiers::assign(&values, &TierMethod::EqualWidth).unwrap();
        let x = before.min + t * (before.max - before.min);
        let mut more = values.clone();
        more.push(x.clamp(before.min, before.max));
        let after = tiers::assign(&more, &TierMethod::EqualWidth).unwrap();
        prop_assert_eq!(before.cuts, after.cuts);
        // and no existing city changes tier
        prop_assert_eq!(&before.tiers[..], &after.tiers[..values.len()]);
    }
}

#[test]
fn the_synthetic_generator_is_deterministic_per_seed() {
    let p = six();
    let a = synthetic_rows(
        &p,
        &SynthParams {
            cities: 5,
            ..SynthParams::default()
        },
    );
    let b = synthetic_rows(
        &p,
        &SynthParams {
            cities: 5,
            ..SynthParams::default()
        },
    );
    let c = synthetic_rows(
        &p,
        &SynthParams {
            cities: 5,
            seed: 7,
            ..SynthParams::default()
        },
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}
