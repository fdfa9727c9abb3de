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
//! For a salted field (compared only within equal salts, see [`compare`](super::compare)) the
//! denominator counts only the records with the field present *and the same salt token*, so
//! `u_tf(v)` is the chance that a random record with the same salt has the token `v`, as the
//! field's u is the share among random pairs with equal salts.
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
                Some(frequencies(pool, slot, f.salt_slot()))
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

/// Per record, the share of its token in `slot` among the records with the token present (and,
/// with `salt`, the same salt token); 0 when the record lacks the token.
fn frequencies(pool: &Pool, slot: usize, salt: Option<usize>) -> Vec<f32> {
    let n = u32::try_from(pool.len()).unwrap_or(u32::MAX);
    // (salt, token, record): grouped by salt, then by token within it.
    let mut keyed: Vec<(u128, u128, u32)> = (0..n)
        .filter_map(|i| {
            let t = pool.token(i, slot)?;
            let s = match salt {
                Some(s) => pool.token(i, s).map_or(0, join),
                None => 0,
            };
            Some((s, join(t), i))
        })
        .collect();
    keyed.par_sort_unstable();
    let mut out = vec![0f32; pool.len()];
    let mut start = 0;
    while start < keyed.len() {
        let s = keyed[start].0;
        let end = start
            + keyed[start..]
                .iter()
                .position(|k| k.0 != s)
                .unwrap_or(keyed.len() - start);
        let present = (end - start) as f64;
        let mut at = start;
        while at < end {
            let t = keyed[at].1;
            let len = keyed[at..end]
                .iter()
                .position(|k| k.1 != t)
                .unwrap_or(end - at);
            let freq = (len as f64 / present) as f32;
            for (_, _, i) in &keyed[at..at + len] {
                if let Some(o) = out.get_mut(*i as usize) {
                    *o = freq;
                }
            }
            at += len;
        }
        start = end;
    }
    out
}

fn join(t: [u64; 2]) -> u128 {
    (u128::from(t[0]) << 64) | u128::from(t[1])
}
