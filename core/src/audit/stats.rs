//! What the frequencies of one column show: concentration of encodings and, for filters, how
//! skewed their bits and weights are.

use serde::Serialize;

use super::attack::{ranked, Key};
use crate::encode::Bloom;

/// How concentrated the encodings of one column are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concentration {
    /// Records with a value in the column.
    pub records: u64,
    /// Distinct encodings.
    pub distinct: u64,
    /// Share of the records whose encoding occurs only once in the file.
    pub unique_share: f64,
    /// Share of the records holding the most frequent encoding.
    pub top1_share: f64,
    /// Share of the records holding one of the 10 most frequent encodings.
    pub top10_share: f64,
}

impl Concentration {
    /// The concentration of `keys` (missing values skipped).
    pub fn of(keys: &[Option<Key>]) -> Concentration {
        let counts = ranked(keys.iter().flatten().copied());
        let records: u64 = counts.iter().map(|(_, n)| n).sum();
        let share = |n: u64| {
            if records == 0 {
                0.0
            } else {
                n as f64 / records as f64
            }
        };
        Concentration {
            records,
            distinct: counts.len() as u64,
            unique_share: share(counts.iter().filter(|(_, n)| *n == 1).count() as u64),
            top1_share: share(counts.first().map_or(0, |c| c.1)),
            top10_share: share(counts.iter().take(10).map(|(_, n)| n).sum()),
        }
    }
}

/// Bit statistics of the filters of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BitStats {
    /// Filter length in bits.
    pub bits: u64,
    /// Mean number of bits set.
    pub mean_weight: f64,
    /// Standard deviation of the number of bits set: 0 for balanced filters; otherwise it
    /// follows the length of the values, which an attacker can read.
    pub weight_sd: f64,
    /// Lowest share of filters with a given bit set, over the bit positions.
    pub min_bit_frequency: f64,
    /// Highest share of filters with a given bit set.
    pub max_bit_frequency: f64,
    /// Skew of the bit frequencies: their standard deviation divided by their mean (0 when
    /// every position is set equally often). Frequent q-grams make a few positions stand out,
    /// which is what q-gram frequency attacks (Kuzu et al. 2011) exploit.
    pub bit_frequency_cv: f64,
}

impl BitStats {
    /// The statistics of `filters` (missing ones skipped); `None` when there is none.
    pub fn of<'a>(filters: impl IntoIterator<Item = &'a Bloom>) -> Option<BitStats> {
        let mut per_bit: Vec<u64> = Vec::new();
        let (mut n, mut sum, mut sum_sq) = (0u64, 0f64, 0f64);
        for f in filters {
            if per_bit.is_empty() {
                per_bit = vec![0; f.bits()];
            }
            if f.bits() != per_bit.len() {
                continue;
            }
            n += 1;
            let w = f64::from(f.count_ones());
            sum += w;
            sum_sq += w * w;
            for (i, word) in f.0.iter().enumerate() {
                let mut x = *word;
                while x != 0 {
                    let b = x.trailing_zeros() as usize;
                    if let Some(c) = per_bit.get_mut(i * 64 + b) {
                        *c += 1;
                    }
                    x &= x - 1;
                }
            }
        }
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let mean = sum / nf;
        let freqs: Vec<f64> = per_bit.iter().map(|&c| c as f64 / nf).collect();
        let fmean = freqs.iter().sum::<f64>() / freqs.len().max(1) as f64;
        let fvar =
            freqs.iter().map(|f| (f - fmean).powi(2)).sum::<f64>() / freqs.len().max(1) as f64;
        Some(BitStats {
            bits: per_bit.len() as u64,
            mean_weight: mean,
            weight_sd: (sum_sq / nf - mean * mean).max(0.0).sqrt(),
            min_bit_frequency: freqs.iter().copied().fold(f64::INFINITY, f64::min),
            max_bit_frequency: freqs.iter().copied().fold(0.0, f64::max),
            bit_frequency_cv: if fmean > 0.0 {
                fvar.sqrt() / fmean
            } else {
                0.0
            },
        })
    }
}

/// A filter as a [`Key`]: the first 16 bytes of BLAKE3 of its words.
pub fn filter_key(f: &Bloom) -> Key {
    let mut h = blake3::Hasher::new();
    for w in f.0.iter() {
        h.update(&w.to_le_bytes());
    }
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.finalize().as_bytes()[..16]);
    u128::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concentration_counts() {
        let keys = [Some(1), Some(1), Some(2), None, Some(3)];
        let c = Concentration::of(&keys);
        assert_eq!(c.records, 4);
        assert_eq!(c.distinct, 3);
        assert_eq!(c.unique_share, 0.5);
        assert_eq!(c.top1_share, 0.5);
        assert_eq!(c.top10_share, 1.0);
    }

    #[test]
    fn bit_stats_of_known_filters() {
        let a = Bloom(vec![0b1011u64].into_boxed_slice());
        let b = Bloom(vec![0b0001u64].into_boxed_slice());
        let s = BitStats::of([&a, &b]).unwrap();
        assert_eq!(s.bits, 64);
        assert_eq!(s.mean_weight, 2.0);
        assert_eq!(s.weight_sd, 1.0);
        assert_eq!(s.max_bit_frequency, 1.0);
        assert_eq!(s.min_bit_frequency, 0.0);
        assert!(s.bit_frequency_cv > 1.0);
        assert!(BitStats::of(std::iter::empty()).is_none());
        assert_ne!(filter_key(&a), filter_key(&b));
    }
}
