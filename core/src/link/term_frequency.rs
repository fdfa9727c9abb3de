//! Term-frequency adjustment of exact agreement.
//!
//! For a field with `term_frequency: true`, the u probability of exact agreement on a value `v` is
//! replaced by the value's relative frequency in the data being linked, all sources pooled:
//!
//! ```text
//! u_tf(v) = (records whose token is v) / (records with the field present)
//! weight  = log2(m_exact / u_tf(v))       (u_tf clamped to [1e-6, 1 - 1e-6])
//! ```
//!
//! A field compared only within equal salts (see [`compare`](super::compare)) is not adjusted.
//!
//! A pair agreeing on a common surname thus gains less than one agreeing on a rare one. The model's
//! m is unchanged; EM is fitted without the adjustment (it works on level patterns). Frequencies are
//! counted over tokens, never cleartext, and are not written to the model or the summary.

use super::compare::Comparator;
use super::pool::Pool;

/// Relative frequencies of the exact tokens of the term-frequency-adjusted fields, per record.
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    /// Per compared field: `None`, or the relative frequency of each record's token (0 when the
    /// record lacks the token).
    per_field: Vec<Option<Vec<f32>>>,
}

impl TermFrequencies {
    /// Counts the tokens of every term-frequency-adjusted field of `comparator` over `pool`.
    pub fn new(pool: &Pool, comparator: &Comparator) -> TermFrequencies {
        let per_field = comparator
            .fields()
            .iter()
            .map(|f| {
                let slot = f.token_slot().filter(|_| f.term_frequency)?;
                Some(frequencies(pool, slot))
            })
            .collect();
        TermFrequencies { per_field }
    }

    /// The relative frequency of record `i`'s token of compared field `field`, if adjusted.
    #[inline]
    pub fn get(&self, field: usize, i: u32) -> Option<f64> {
        let v = self.per_field.get(field)?.as_ref()?;
        v.get(i as usize).map(|f| f64::from(*f))
    }

    /// Whether compared field `field` is adjusted.
    pub fn is_adjusted(&self, field: usize) -> bool {
        self.per_field.get(field).is_some_and(Option::is_some)
    }
}

/// Per record, the share of its token in `slot` among the records with the token present; 0 when
/// the record lacks the token.
fn frequencies(pool: &Pool, slot: usize) -> Vec<f32> {
    let n = u32::try_from(pool.len()).unwrap_or(u32::MAX);
    let ids: Vec<u32> = (0..n).map(|i| pool.id(i, slot)).collect();
    // Records per token (ids are dense: 1, 2, ...; 0 is missing).
    let mut per_token = vec![0u32; ids.iter().copied().max().unwrap_or(0) as usize + 1];
    let mut present = 0u32;
    for &t in &ids {
        if t != 0 {
            per_token[t as usize] += 1;
            present += 1;
        }
    }
    let present = f64::from(present.max(1));
    ids.iter()
        .map(|&t| {
            if t == 0 {
                0.0
            } else {
                (f64::from(per_token[t as usize]) / present) as f32
            }
        })
        .collect()
}
