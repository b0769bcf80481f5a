//! Order statistics of durations: percentiles of one slice by selection, and
//! of the union of many slices (a simulation's parts) without copying them
//! into one buffer.

/// The position `q` (0..=1) falls at among `n` sorted values: the lower
/// order statistic and the interpolation weight of the next one.
#[allow(clippy::cast_precision_loss)]
fn rank(n: usize, q: f64) -> (usize, f64) {
    let h = (n - 1) as f64 * q;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = h.floor() as usize;
    (lo, h - lo as f64)
}

#[allow(clippy::cast_precision_loss)]
fn lerp(a: u64, b: u64, w: f64) -> f64 {
    let a = a as f64;
    a + w * (b as f64 - a)
}

/// Linear-interpolation percentile (`q` in 0..=1) of a non-empty slice by
/// selection: reorders `v`.
pub(super) fn percentile(v: &mut [u64], q: f64) -> f64 {
    let (lo, w) = rank(v.len(), q);
    let (_, &mut a, rest) = v.select_nth_unstable(lo);
    // the next order statistic is the smallest value above position `lo`
    let b = rest.iter().copied().min().unwrap_or(a);
    lerp(a, b, w)
}

/// [`percentile`] of the union of `parts` (not all empty), for each `q`.
pub(super) fn percentiles_of_union(parts: &[&[u64]], qs: &[f64]) -> Vec<f64> {
    let n: usize = parts.iter().map(|p| p.len()).sum();
    let mut ranks = Vec::with_capacity(2 * qs.len());
    for &q in qs {
        let (lo, _) = rank(n, q);
        ranks.push(lo);
        ranks.push((lo + 1).min(n - 1));
    }
    let stats = order_statistics(parts, &ranks);
    qs.iter()
        .enumerate()
        .map(|(i, &q)| lerp(stats[2 * i], stats[2 * i + 1], rank(n, q).1))
        .collect()
}

/// The `ranks`-th smallest values (0-based, each below the total length) of
/// the union of `parts`, by one radix pass: a histogram of the top bits, then
/// a selection inside the few buckets that hold the wanted ranks.
fn order_statistics(parts: &[&[u64]], ranks: &[usize]) -> Vec<u64> {
    const BITS: u32 = 12;
    let max = parts
        .iter()
        .filter_map(|p| p.iter().copied().max())
        .max()
        .unwrap_or(0);
    let shift = (u64::BITS - max.leading_zeros()).saturating_sub(BITS);
    let bucket = |v: u64| usize::try_from(v >> shift).expect("below 2^BITS");
    let mut hist = vec![0usize; 1 << BITS];
    for p in parts {
        for &v in *p {
            hist[bucket(v)] += 1;
        }
    }
    // first rank of each bucket
    let mut start = Vec::with_capacity(hist.len());
    let mut acc = 0;
    for &h in &hist {
        start.push(acc);
        acc += h;
    }
    let home = |r: usize| start.partition_point(|&s| s <= r) - 1;
    let mut wanted: Vec<usize> = ranks.iter().map(|&r| home(r)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut slot = vec![u32::MAX; hist.len()];
    for (i, &b) in wanted.iter().enumerate() {
        slot[b] = u32::try_from(i).expect("few buckets");
    }
    let mut bins: Vec<Vec<u64>> = wanted
        .iter()
        .map(|&b| Vec::with_capacity(hist[b]))
        .collect();
    for p in parts {
        for &v in *p {
            let s = slot[bucket(v)];
            if s != u32::MAX {
                bins[s as usize].push(v);
            }
        }
    }
    ranks
        .iter()
        .map(|&r| {
            let b = home(r);
            let bin = &mut bins[slot[b] as usize];
            *bin.select_nth_unstable(r - start[b]).1
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn union_percentiles_equal_those_of_the_concatenation(
            parts in prop::collection::vec(prop::collection::vec(0u64..5_000_000_000, 0..60), 1..6),
            small in any::<bool>(),
        ) {
            // small values put everything in a few buckets
            let parts: Vec<Vec<u64>> = parts
                .into_iter()
                .map(|p| p.into_iter().map(|v| if small { v % 7 } else { v }).collect())
                .collect();
            let mut all: Vec<u64> = parts.concat();
            prop_assume!(!all.is_empty());
            let slices: Vec<&[u64]> = parts.iter().map(Vec::as_slice).collect();
            let qs = [0.0, 0.5, 0.9, 1.0];
            let got = percentiles_of_union(&slices, &qs);
            for (q, g) in qs.iter().zip(got) {
                prop_assert_eq!(g.to_bits(), percentile(&mut all, *q).to_bits());
            }
        }
    }
}
