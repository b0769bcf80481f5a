//! Prometheus histograms read from the server's `/metrics` text, and their
//! quantiles over a window (the difference of two scrapes), estimated the
//! way PromQL's `histogram_quantile` does: linear within the bucket.

/// A cumulative histogram: `(upper bound, count <= bound)` in ascending
/// bound order (the last bound is `+Inf`), plus sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Cumulative bucket counts.
    pub buckets: Vec<(f64, f64)>,
    /// Sum of the samples.
    pub sum: f64,
    /// Number of samples.
    pub count: f64,
}

/// The histogram `name` in exposition `text` (label sets other than `le`
/// are summed). A summary yields only its sum and count (no buckets).
/// `None` when the metric is absent.
pub fn histogram(text: &str, name: &str) -> Option<Histogram> {
    let bucket = format!("{name}_bucket");
    let mut h = Histogram::default();
    let mut seen = false;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((key, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (metric, labels) = key.split_once('{').unwrap_or((key, ""));
        if metric == bucket {
            let Some(le) = labels
                .split(',')
                .find_map(|l| l.trim().strip_prefix("le=\""))
                .map(|l| l.trim_end_matches(['"', '}']))
            else {
                continue;
            };
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                let Ok(v) = le.parse() else { continue };
                v
            };
            match h.buckets.iter_mut().find(|(b, _)| *b == le) {
                Some((_, c)) => *c += value,
                None => h.buckets.push((le, value)),
            }
        } else if metric == format!("{name}_sum") {
            h.sum += value;
            seen = true;
        } else if metric == format!("{name}_count") {
            h.count += value;
            seen = true;
        }
    }
    h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    (!h.buckets.is_empty() || seen).then_some(h)
}

impl Histogram {
    /// The samples recorded after `earlier` (a scrape of the same histogram).
    pub fn since(&self, earlier: Option<&Histogram>) -> Histogram {
        let Some(e) = earlier else {
            return self.clone();
        };
        let before = |le: f64| {
            e.buckets
                .iter()
                .find(|(b, _)| *b == le)
                .map_or(0.0, |(_, c)| *c)
        };
        Histogram {
            buckets: self
                .buckets
                .iter()
                .map(|&(le, c)| (le, c - before(le)))
                .collect(),
            sum: self.sum - e.sum,
            count: self.count - e.count,
        }
    }

    /// The `q` quantile (0-1), interpolated linearly inside its bucket; a
    /// quantile in the `+Inf` bucket is reported as the largest finite bound.
    /// `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total;
        let mut prev_bound = 0.0;
        let mut prev_count = 0.0;
        for &(le, c) in &self.buckets {
            if c >= rank {
                if le.is_infinite() {
                    return Some(prev_bound);
                }
                let in_bucket = c - prev_count;
                let frac = if in_bucket > 0.0 {
                    (rank - prev_count) / in_bucket
                } else {
                    1.0
                };
                return Some(prev_bound + (le - prev_bound) * frac);
            }
            prev_bound = le;
            prev_count = c;
        }
        Some(prev_bound)
    }

    /// Mean of the samples.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE lat histogram\n\
        lat_bucket{le=\"0.1\"} 10\n\
        lat_bucket{le=\"0.2\"} 30\n\
        lat_bucket{le=\"0.5\"} 40\n\
        lat_bucket{le=\"+Inf\"} 40\n\
        lat_sum 6\n\
        lat_count 40\n\
        other_bucket{le=\"0.1\"} 99\n";

    #[test]
    fn buckets_sum_and_count_are_read() {
        let h = histogram(TEXT, "lat").unwrap();
        assert_eq!(h.buckets.len(), 4);
        assert_eq!(h.buckets[1], (0.2, 30.0));
        assert!(h.buckets[3].0.is_infinite());
        assert_eq!((h.sum, h.count), (6.0, 40.0));
        assert_eq!(h.mean(), Some(0.15));
        assert!(histogram(TEXT, "missing").is_none());
    }

    #[test]
    fn a_summary_gives_its_mean_but_no_quantiles() {
        let text = "s{quantile=\"0.5\"} 3\ns_sum 12\ns_count 4\n";
        let h = histogram(text, "s").unwrap();
        assert_eq!(h.mean(), Some(3.0));
        assert_eq!(h.quantile(0.5), None);
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let h = histogram(TEXT, "lat").unwrap();
        // rank 20 of 40: half-way through the (0.1, 0.2] bucket (10 -> 30)
        assert!((h.quantile(0.5).unwrap() - 0.15).abs() < 1e-12);
        // rank 5: half of the first bucket, which starts at 0
        assert!((h.quantile(0.125).unwrap() - 0.05).abs() < 1e-12);
        // rank 39.6 of 40: 96% through (0.2, 0.5]
        assert!((h.quantile(0.99).unwrap() - 0.488).abs() < 1e-12);
    }

    #[test]
    fn a_window_is_the_difference_of_two_scrapes() {
        let later = TEXT
            .replace("} 30", "} 70")
            .replace("0.5\"} 40", "0.5\"} 80")
            .replace("Inf\"} 40", "Inf\"} 90")
            .replace("lat_count 40", "lat_count 90")
            .replace("lat_sum 6", "lat_sum 26");
        let (a, b) = (
            histogram(TEXT, "lat").unwrap(),
            histogram(&later, "lat").unwrap(),
        );
        let w = b.since(Some(&a));
        assert_eq!(
            w.buckets,
            vec![(0.1, 0.0), (0.2, 40.0), (0.5, 40.0), (f64::INFINITY, 50.0)]
        );
        assert_eq!((w.sum, w.count), (20.0, 50.0));
        // 10 of the 50 window samples are above 0.5: p99 is the largest finite bound
        assert_eq!(w.quantile(0.99), Some(0.5));
        // rank 25: 25/40 through (0.1, 0.2]
        assert!((w.quantile(0.5).unwrap() - 0.1625).abs() < 1e-12);
    }
}
