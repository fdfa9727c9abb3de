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
//! A pair agreeing on a common surname thus gains less than one agreeing on a rare one. The model's
//! m is unchanged; EM is fitted without the adjustment (it works on level patterns). Frequencies are
//! counted over tokens, never cleartext, and are not written to the model or the summary.

use rayon::slice::ParallelSliceMut;

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

fn frequencies(pool: &Pool, slot: usize) -> Vec<f32> {
    let mut keyed: Vec<(u128, u32)> = pool
        .records()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let t = r.tokens.get(slot).and_then(Option::as_ref)?;
            Some((u128::from_le_bytes(t.0), u32::try_from(i).ok()?))
        })
        .collect();
    keyed.par_sort_unstable();
    let present = keyed.len().max(1) as f64;
    let mut out = vec![0f32; pool.len()];
    let mut start = 0;
    while start < keyed.len() {
        let key = keyed[start].0;
        let len = keyed[start..]
            .iter()
            .position(|(k, _)| *k != key)
            .unwrap_or(keyed.len() - start);
        let freq = (len as f64 / present) as f32;
        for (_, i) in &keyed[start..start + len] {
            if let Some(o) = out.get_mut(*i as usize) {
                *o = freq;
            }
        }
        start += len;
    }
    out
}
