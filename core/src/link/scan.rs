//! The passes over the candidate pairs, task by task (see [`block`](super::block)).
//!
//! **Comparing** ([`compare_task`]): every pair is compared and its comparison vector, with the
//! blocking rules whose tokens the pair shares (the rule bits EM's sessions select by), is looked
//! up in the task's table of distinct patterns (by a one-integer code, [`PatternCoder`], when
//! the patterns fit in 64 bits, as the default schema's do); the pair keeps only its pattern's number (two
//! bytes; a task with more than 65,534 distinct patterns spills the rest to four). The tables are
//! merged into the run's [`PatternTable`], which EM is trained on.
//!
//! **Scoring** ([`score_task`]): the same pairs are enumerated again in the same order; each
//! pair's weight is its pattern's weight (computed once per pattern), or, when a term-frequency
//! adjusted field agrees exactly, the weight of its vector for its first record. Only pairs whose
//! match probability reaches the review threshold are kept: resolution needs no other, and the
//! few others the links file lists (pairs inside a cluster) are scored again from the clusters.
//!
//! With a model given there is nothing to train, and one pass compares and scores
//! ([`compare_and_score_task`]).

use rustc_hash::FxHashMap;

use super::block::{Plan, Task};
use super::compare::Comparator;
use super::levels::{MISSING, UNKNOWN};
use super::model::Scorer;
use super::pool::{pack_pair, Pool};
use super::probability::probability;

/// A pattern number that says "the next number is in the spill list".
const SPILL: u16 = u16::MAX;

/// What comparing one task found.
#[derive(Debug, Clone, Default)]
pub struct TaskPatterns {
    /// The task-local pattern number of each pair, in enumeration order ([`SPILL`]: see `spill`).
    numbers: Vec<u16>,
    /// The numbers that do not fit in two bytes, in order.
    spill: Vec<u32>,
    /// The task's distinct patterns (comparison vector, then the rule bits as 8 bytes), by number.
    keys: Vec<Box<[u8]>>,
    /// Pairs per pattern.
    counts: Vec<u64>,
    /// Pairs compared (kept by this task's rule).
    pub kept: u64,
}

/// The rule bits of a pair: bit `r` when both records share a token of the column
/// `rule_columns[r]` (or, for a crossed rule's two columns, the same two tokens in either order).
#[inline]
pub(crate) fn rule_bits(
    rule_columns: &[Vec<usize>],
    ra: &super::pool::Row<'_>,
    rb: &super::pool::Row<'_>,
) -> u64 {
    let mut m = 0u64;
    for (r, cols) in rule_columns.iter().enumerate().take(64) {
        let shared = match cols[..] {
            [c, d] => super::block::crossed_key(ra, c, d)
                .is_some_and(|k| super::block::crossed_key(rb, c, d) == Some(k)),
            [c, ..] => ra.shares(c, rb, c),
            [] => false,
        };
        if shared {
            m |= 1u64 << r;
        }
    }
    m
}

/// A comparison vector with its rule bits as one `u64`, when every such pattern fits: each level
/// a digit of a mixed-radix number (the comparison's levels, then [`UNKNOWN`] and [`MISSING`]),
/// then the rule bits. Looking a pattern up is then one integer hash.
#[derive(Debug, Clone)]
pub struct PatternCoder {
    levels: Vec<u64>,
    rule_bits: u32,
}

impl PatternCoder {
    /// The coder of `comparator`'s vectors with `n_rules` rule bits, `None` when they do not fit.
    pub fn new(comparator: &Comparator, n_rules: usize) -> Option<PatternCoder> {
        let rule_bits = u32::try_from(n_rules.min(64)).ok()?;
        let mut room: u128 = 1u128 << rule_bits;
        let levels: Vec<u64> = comparator
            .rules()
            .iter()
            .map(|f| f.levels.len() as u64)
            .collect();
        for n in &levels {
            room = room.checked_mul(u128::from(*n) + 2)?;
        }
        (room <= u128::from(u64::MAX)).then_some(PatternCoder { levels, rule_bits })
    }

    /// The code of comparison vector `v` with rule bits `bits`.
    #[inline]
    pub fn code(&self, v: &[u8], bits: u64) -> u64 {
        let mut c = 0u64;
        for (&l, &n) in v.iter().zip(&self.levels) {
            let digit = match l {
                UNKNOWN => n,
                MISSING => n + 1,
                l => u64::from(l).min(n + 1),
            };
            c = c.wrapping_mul(n + 2).wrapping_add(digit);
        }
        if self.rule_bits == 0 {
            c
        } else {
            (c << self.rule_bits) | (bits & (u64::MAX >> (64 - self.rule_bits)))
        }
    }
}

/// The task's table of distinct patterns, looked up by code or by bytes.
enum Lookup {
    Coded(PatternCoder, FxHashMap<u64, u32>, Option<(u64, u32)>),
    Bytes(FxHashMap<Box<[u8]>, u32>, Option<(Vec<u8>, u32)>),
}

/// Compares the pairs of `task` and numbers their patterns (see the module documentation).
/// `rule_columns` are the token columns of the blocking rules (at most 64 are used).
pub fn compare_task(
    comparator: &Comparator,
    pool: &Pool,
    plan: &Plan,
    task: &Task,
    rule_columns: &[Vec<usize>],
) -> TaskPatterns {
    let nf = comparator.n_fields();
    let mut out = TaskPatterns {
        numbers: Vec::with_capacity(usize::try_from(task.pairs).unwrap_or(0)),
        ..TaskPatterns::default()
    };
    let mut lookup = match PatternCoder::new(comparator, rule_columns.len()) {
        Some(c) => Lookup::Coded(c, FxHashMap::default(), None),
        None => Lookup::Bytes(FxHashMap::default(), None),
    };
    let mut key = vec![0u8; nf + 8];
    plan.for_each_pair(pool, task, |a, ra, b, rb| {
        comparator.compare_rows(pool, (a, ra), (b, rb), &mut key[..nf]);
        let bits = rule_bits(rule_columns, ra, rb);
        let number = match &mut lookup {
            Lookup::Coded(coder, map, last) => {
                let code = coder.code(&key[..nf], bits);
                match last {
                    Some((c, n)) if *c == code => *n,
                    _ => {
                        let n = *map.entry(code).or_insert_with(|| {
                            key[nf..].copy_from_slice(&bits.to_le_bytes());
                            out.keys.push(key.clone().into_boxed_slice());
                            out.counts.push(0);
                            (out.keys.len() - 1) as u32
                        });
                        *last = Some((code, n));
                        n
                    }
                }
            }
            Lookup::Bytes(map, last) => {
                key[nf..].copy_from_slice(&bits.to_le_bytes());
                match last {
                    Some((k, n)) if *k == key => *n,
                    _ => {
                        let n = match map.get(key.as_slice()) {
                            Some(n) => *n,
                            None => {
                                let n = out.keys.len() as u32;
                                map.insert(key.clone().into_boxed_slice(), n);
                                out.keys.push(key.clone().into_boxed_slice());
                                out.counts.push(0);
                                n
                            }
                        };
                        *last = Some((key.clone(), n));
                        n
                    }
                }
            }
        };
        out.counts[number as usize] += 1;
        match u16::try_from(number) {
            Ok(x) if x != SPILL => out.numbers.push(x),
            _ => {
                out.numbers.push(SPILL);
                out.spill.push(number);
            }
        }
        out.kept += 1;
    });
    out
}

/// The distinct patterns of the whole run, with their counts, and each task's map from its own
/// numbers to the run's.
#[derive(Debug, Clone, Default)]
pub struct PatternTable {
    /// Comparison vector and rule bits (8 bytes, little-endian) of each pattern.
    pub keys: Vec<Box<[u8]>>,
    /// Pairs per pattern.
    pub counts: Vec<u64>,
    /// Per task: the run's number of each of its patterns.
    pub numbering: Vec<Vec<u32>>,
}

impl PatternTable {
    /// Merges the tasks' patterns (in task order).
    pub fn merge(tasks: &mut [TaskPatterns]) -> PatternTable {
        let mut table = PatternTable::default();
        let mut map: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        for t in tasks.iter_mut() {
            let keys = std::mem::take(&mut t.keys);
            let mut numbering = Vec::with_capacity(keys.len());
            for (k, c) in keys.into_iter().zip(&t.counts) {
                let n = match map.get(&k) {
                    Some(n) => *n,
                    None => {
                        let n = table.keys.len() as u32;
                        map.insert(k.clone(), n);
                        table.keys.push(k);
                        table.counts.push(0);
                        n
                    }
                };
                table.counts[n as usize] += c;
                numbering.push(n);
            }
            t.counts = Vec::new();
            table.numbering.push(numbering);
        }
        table
    }

    /// `(comparison vector, rule bits) -> pairs`, as EM's patterns are built from.
    pub fn counts_by_key(&self, nf: usize) -> std::collections::HashMap<(Vec<u8>, u64), u64> {
        self.keys
            .iter()
            .zip(&self.counts)
            .map(|(k, c)| {
                let mut bits = [0u8; 8];
                bits.copy_from_slice(&k[nf..nf + 8]);
                ((k[..nf].to_vec(), u64::from_le_bytes(bits)), *c)
            })
            .collect()
    }
}

/// The weight of each pattern, or `None` when a term-frequency adjusted field is at its exact
/// level (the weight then depends on the pair's first record).
pub fn pattern_weights(table: &PatternTable, scorer: &Scorer, nf: usize) -> Vec<Option<f64>> {
    table
        .keys
        .iter()
        .map(|k| {
            let v = &k[..nf];
            (!scorer.uses_term_frequency(v)).then(|| scorer.weight(v, 0))
        })
        .collect()
}

/// Whether weight `w` reaches the review threshold `review` (as a probability).
#[inline]
pub fn reaches(w: f64, cut: f64, review: f64) -> bool {
    w >= cut && probability(w) >= review
}

/// A weight below which no probability reaches `review` (a little below the exact cut, so that
/// [`reaches`] decides by the probability itself near it).
pub fn weight_cut(review: f64) -> f64 {
    if review <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if review >= 1.0 {
        // A probability of 1 needs a weight far above 0.
        return 0.0;
    }
    (review / (1.0 - review)).log2() - 1e-6
}

/// Scores the pairs of `task` from their pattern numbers and keeps those reaching the review
/// threshold: `(pair, weight)` in enumeration order.
#[allow(clippy::too_many_arguments)]
pub fn score_task(
    pool: &Pool,
    plan: &Plan,
    task: &Task,
    patterns: &TaskPatterns,
    numbering: &[u32],
    table: &PatternTable,
    weights: &[Option<f64>],
    scorer: &Scorer,
    nf: usize,
    review: f64,
) -> Vec<(u64, f64)> {
    let cut = weight_cut(review);
    let mut out = Vec::new();
    let mut k = 0usize;
    let mut spilled = patterns.spill.iter();
    plan.for_each_pair(pool, task, |a, _, b, _| {
        let local = match patterns.numbers.get(k) {
            Some(&SPILL) => spilled.next().copied().unwrap_or(0),
            Some(&x) => u32::from(x),
            None => 0,
        };
        k += 1;
        let g = numbering.get(local as usize).copied().unwrap_or(0) as usize;
        let w = match weights.get(g).copied().flatten() {
            Some(w) => w,
            None => scorer.weight(&table.keys[g][..nf], a),
        };
        if reaches(w, cut, review) {
            out.push((pack_pair(a, b), w));
        }
    });
    out
}

/// Compares and scores the pairs of `task` in one pass (a model was given): `(pair, weight)` of
/// the pairs reaching the review threshold, and the number of pairs compared.
pub fn compare_and_score_task(
    comparator: &Comparator,
    pool: &Pool,
    plan: &Plan,
    task: &Task,
    scorer: &Scorer,
    review: f64,
) -> (Vec<(u64, f64)>, u64) {
    let cut = weight_cut(review);
    let mut levels = vec![0u8; comparator.n_fields()];
    let mut out = Vec::new();
    let mut kept = 0u64;
    plan.for_each_pair(pool, task, |a, ra, b, rb| {
        comparator.compare_rows(pool, (a, ra), (b, rb), &mut levels);
        let w = scorer.weight(&levels, a);
        if reaches(w, cut, review) {
            out.push((pack_pair(a, b), w));
        }
        kept += 1;
    });
    (out, kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pattern_codes_are_distinct_for_distinct_patterns(
            a in proptest::collection::vec(0u8..8, 9), b in proptest::collection::vec(0u8..8, 9),
            ba in 0u64..64, bb in 0u64..64) {
            let schema = Schema::example();
            let comparator = Comparator::new(&schema, false).unwrap();
            let coder = PatternCoder::new(&comparator, 6).unwrap();
            let nf = comparator.n_fields();
            // Any level of each field, or one of the two levels without weight.
            let level = |f: usize, x: u8| -> u8 {
                let n = comparator.rules()[f].levels.len() as u8;
                match x % (n + 2) {
                    x if x == n => UNKNOWN,
                    x if x == n + 1 => MISSING,
                    x => x,
                }
            };
            let va: Vec<u8> = (0..nf).map(|f| level(f, a[f])).collect();
            let vb: Vec<u8> = (0..nf).map(|f| level(f, b[f])).collect();
            prop_assert_eq!(coder.code(&va, ba) == coder.code(&vb, bb), va == vb && ba == bb);
        }
    }

    #[test]
    fn patterns_that_cannot_fit_are_not_coded() {
        let schema = Schema::example();
        let comparator = Comparator::new(&schema, false).unwrap();
        assert!(PatternCoder::new(&comparator, 64).is_none());
        assert!(PatternCoder::new(&comparator, 6).is_some());
    }

    #[test]
    fn the_cut_never_drops_a_pair_reaching_the_review_threshold() {
        for review in [0.0, 1e-9, 0.3, 0.5, 0.9, 0.999_999, 1.0] {
            let cut = weight_cut(review);
            for w in [
                -1e9, -50.0, -3.0, -1.0, -0.5, 0.0, 0.1, 1.0, 3.17, 19.93, 50.0, 1e9,
            ] {
                if probability(w) >= review {
                    assert!(reaches(w, cut, review), "{w} {review}");
                }
            }
            // Right at the boundary.
            if review > 0.0 && review < 1.0 {
                let w = (review / (1.0 - review)).log2();
                assert_eq!(reaches(w, cut, review), probability(w) >= review);
            }
        }
    }
}
