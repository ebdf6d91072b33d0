//! Log-linear histograms of durations in nanoseconds: 32 buckets per power of two, so
//! any quantile is within about 3% of the true value. [`SharedHistogram`] is recorded into
//! from every connection without locks; [`Histogram`] is its plain, mergeable snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bits of precision below the leading one.
const SUB_BITS: u32 = 5;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB_BUCKETS;

fn index(value: u64) -> usize {
    if value < SUB_BUCKETS as u64 {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros();
    let shift = exponent - SUB_BITS;
    let group = (exponent - SUB_BITS + 1) as usize;
    group * SUB_BUCKETS + ((value >> shift) as usize & (SUB_BUCKETS - 1))
}

/// The largest value that falls in bucket `index`.
fn upper_bound(index: usize) -> u64 {
    if index < SUB_BUCKETS {
        return index as u64;
    }
    let group = (index / SUB_BUCKETS) as u32;
    let sub = (index % SUB_BUCKETS) as u64;
    let shift = group - 1;
    let lower = (SUB_BUCKETS as u64 + sub) << shift;
    lower + ((1u64 << shift) - 1)
}

/// Counts of values, with their exact maximum.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            count: 0,
            max: 0,
        }
    }
}

impl Histogram {
    /// Adds one value.
    pub fn record(&mut self, value: u64) {
        self.counts[index(value)] += 1;
        self.count += 1;
        self.max = self.max.max(value);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value recorded (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value below which a fraction `q` (0 to 1) of the values lie, rounded up to its
    /// bucket's upper bound and never above the maximum; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return upper_bound(i).min(self.max);
            }
        }
        self.max
    }
}

/// A histogram many threads record into at once.
pub struct SharedHistogram {
    counts: Box<[AtomicU64]>,
    max: AtomicU64,
}

impl Default for SharedHistogram {
    fn default() -> Self {
        SharedHistogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }
}

impl SharedHistogram {
    /// Adds one value.
    pub fn record(&self, value: u64) {
        self.counts[index(value)].fetch_add(1, Ordering::Relaxed);
        // Reading first spares the cache line a write when the maximum stands.
        if value > self.max.load(Ordering::Relaxed) {
            self.max.fetch_max(value, Ordering::Relaxed);
        }
    }

    /// Takes the values recorded so far, leaving it empty. Values recorded meanwhile land
    /// either in this snapshot or in the next one.
    pub fn drain(&self) -> Histogram {
        let mut histogram = Histogram::default();
        for (slot, counter) in histogram.counts.iter_mut().zip(self.counts.iter()) {
            *slot = counter.swap(0, Ordering::Relaxed);
            histogram.count += *slot;
        }
        histogram.max = self.max.swap(0, Ordering::Relaxed);
        histogram
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_their_values() {
        for value in [
            0,
            1,
            31,
            32,
            33,
            63,
            64,
            65,
            1000,
            123_456_789,
            u64::MAX / 3,
        ] {
            let i = index(value);
            assert!(upper_bound(i) >= value, "{value} above bucket {i}");
            assert!(
                i == 0 || upper_bound(i - 1) < value,
                "{value} below bucket {i}"
            );
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_a_few_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        for (q, exact) in [
            (0.5, 50_000_000f64),
            (0.99, 99_000_000.0),
            (0.999, 99_900_000.0),
        ] {
            let got = h.quantile(q) as f64;
            assert!(
                got >= exact && got <= exact * 1.035,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.quantile(1.0), 100_000_000);
        assert_eq!(h.max(), 100_000_000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }

    #[test]
    fn shared_histogram_drains_and_merges() {
        let shared = SharedHistogram::default();
        shared.record(10);
        shared.record(5_000);
        let first = shared.drain();
        assert_eq!((first.count(), first.max()), (2, 5_000));
        assert_eq!(shared.drain().count(), 0);
        shared.record(7);
        let mut total = first;
        total.merge(&shared.drain());
        assert_eq!(
            (total.count(), total.max(), total.quantile(0.0)),
            (3, 5_000, 7)
        );
    }
}
