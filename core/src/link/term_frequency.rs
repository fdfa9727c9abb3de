//! Term-frequency adjustment of exact agreement (cleartext mode).
//!
//! For a comparison with `term_frequency: true` whose first level is one whole field, the u
//! probability of agreeing at that level on a value `v` is replaced by the value's relative
//! frequency in the data being linked, all sources pooled:
//!
//! ```text
//! u_tf(v) = (records whose value is v) / (records with the field present)
//! weight  = log2(m_first / u_tf(v))       (u_tf clamped to [1e-6, 1 - 1e-6])
//! ```
//!
//! A pair agreeing on a common surname thus gains less than one agreeing on a rare one. The
//! model's m is unchanged; EM is fitted without the adjustment (it works on level patterns).
//! Encoded extracts are not adjusted: the default schema writes no token of a name alone, so a
//! name's frequency cannot be counted (and a column that gave it would let the linkage unit
//! rank names by frequency). Pairs of one household are not adjusted either: their u is the
//! household's. Frequencies are not written to the model or the summary.

use super::compare::Comparator;
use super::pool::Pool;

/// Relative frequencies of the values of the term-frequency-adjusted comparisons, per record.
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    /// Per comparison: `None`, or the relative frequency of each record's value (0 when the
    /// record lacks it).
    per_comparison: Vec<Option<Vec<f32>>>,
}

impl TermFrequencies {
    /// Counts the values of every term-frequency-adjusted comparison of `comparator` over
    /// `pool` (cleartext mode; nothing otherwise).
    pub fn new(pool: &Pool, comparator: &Comparator) -> TermFrequencies {
        let per_comparison = comparator
            .rules()
            .iter()
            .map(|r| {
                let field = r.term_frequency?;
                let key = comparator
                    .keys()
                    .iter()
                    .position(|k| k.field == field && k.transform.is_none())?;
                pool.has_clear().then(|| frequencies(pool, key))
            })
            .collect();
        TermFrequencies { per_comparison }
    }

    /// The relative frequency of record `i`'s value in comparison `c`, if adjusted and present.
    #[inline]
    pub fn get(&self, c: usize, i: u32) -> Option<f64> {
        let v = self.per_comparison.get(c)?.as_ref()?;
        v.get(i as usize)
            .filter(|f| **f > 0.0)
            .map(|f| f64::from(*f))
    }

    /// Whether comparison `c` is adjusted.
    pub fn is_adjusted(&self, c: usize) -> bool {
        self.per_comparison.get(c).is_some_and(Option::is_some)
    }
}

/// Per record: the share of records with the same value of feature key `key`.
fn frequencies(pool: &Pool, key: usize) -> Vec<f32> {
    let n = u32::try_from(pool.len()).unwrap_or(u32::MAX);
    let values: Vec<Option<u64>> = (0..n)
        .map(|i| {
            pool.features(i)
                .and_then(|f| f.keys.get(key)?.as_ref()?.first().copied())
        })
        .collect();
    let mut counts: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    let mut present = 0u32;
    for v in values.iter().flatten() {
        *counts.entry(*v).or_insert(0) += 1;
        present += 1;
    }
    let present = f64::from(present.max(1));
    values
        .iter()
        .map(|v| match v {
            Some(v) => (f64::from(counts.get(v).copied().unwrap_or(0)) / present) as f32,
            None => 0.0,
        })
        .collect()
}
