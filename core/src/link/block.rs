//! Blocking: the candidate pairs are the union, over the schema's blocking rules, of the pairs of
//! records that share the rule's `block.<rule>` token.
//!
//! For each rule, the records holding its token are sorted by `(token, index)` (compact: 16 + 4
//! bytes per record), and each run of equal tokens is a block. A block with more than
//! `max_block_size` records of any one source is skipped, counted and reported, never exploded.
//! The pairs of each rule are packed into `u64`s, sorted and deduplicated, and merged into the
//! running union, so each pair is kept once and memory stays at 8 bytes per candidate pair.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};

use crate::encode::layout::Layout;
use crate::error::{Error, Result};
use crate::schema::Schema;

use super::pool::{pack_pair, Pool};

/// Pairs contributed by one blocking rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The rule name.
    pub rule: String,
    /// Distinct pairs the rule produces on its own.
    pub pairs: u64,
    /// Pairs not already produced by an earlier rule.
    pub new_pairs: u64,
    /// Blocks (token values shared by at least two records) the rule formed.
    pub blocks: u64,
    /// Blocks skipped because they were too large.
    pub skipped_blocks: u64,
}

/// A block that was skipped because it was too large.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedBlock {
    /// The rule name.
    pub rule: String,
    /// Records in the block from each source, in input order.
    pub sizes: Vec<u64>,
}

/// The outcome of blocking.
#[derive(Debug, Clone, Default)]
pub struct Blocking {
    /// The candidate pairs, packed with [`pack_pair`], sorted and distinct.
    pub pairs: Vec<u64>,
    /// Per rule, in schema order.
    pub rules: Vec<RuleCount>,
    /// Every skipped block, by rule in schema order and then by decreasing size.
    pub skipped: Vec<SkippedBlock>,
}

/// Forms the candidate pairs of `pool` under the blocking rules of `schema`.
///
/// `cancel` is checked between rules.
pub fn candidate_pairs(
    schema: &Schema,
    pool: &Pool,
    cancel: Option<&AtomicBool>,
) -> Result<Blocking> {
    let layout = Layout::new(schema);
    let max = schema.link.max_block_size;
    let mut out = Blocking::default();
    let n_sources = pool.source_names().len();
    for (rule, &slot) in schema.blocking.iter().zip(&layout.blocks) {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled);
        }
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
        let mut pairs: Vec<u64> = Vec::new();
        let mut count = RuleCount {
            rule: rule.name.clone(),
            pairs: 0,
            new_pairs: 0,
            blocks: 0,
            skipped_blocks: 0,
        };
        let mut skipped = Vec::new();
        let mut sizes = vec![0u64; n_sources];
        let mut start = 0;
        while start < keyed.len() {
            let key = keyed[start].0;
            let end = start
                + keyed[start..]
                    .iter()
                    .position(|(k, _)| *k != key)
                    .unwrap_or(keyed.len() - start);
            let block = &keyed[start..end];
            start = end;
            if block.len() < 2 {
                continue;
            }
            sizes.iter_mut().for_each(|s| *s = 0);
            for (_, i) in block {
                if let Some(s) = sizes.get_mut(usize::from(pool.source(*i))) {
                    *s += 1;
                }
            }
            let formable = if pool.is_dedupe() {
                true
            } else {
                sizes.iter().filter(|s| **s > 0).count() > 1
            };
            if !formable {
                continue;
            }
            count.blocks += 1;
            if sizes.iter().any(|s| *s > max as u64) {
                count.skipped_blocks += 1;
                skipped.push(SkippedBlock {
                    rule: rule.name.clone(),
                    sizes: sizes.clone(),
                });
                continue;
            }
            for (x, (_, a)) in block.iter().enumerate() {
                for (_, b) in &block[x + 1..] {
                    if pool.pair_allowed(*a, *b) {
                        pairs.push(pack_pair(*a, *b));
                    }
                }
            }
        }
        pairs.par_sort_unstable();
        pairs.dedup();
        count.pairs = pairs.len() as u64;
        let before = out.pairs.len();
        out.pairs = merge_union(std::mem::take(&mut out.pairs), pairs);
        count.new_pairs = (out.pairs.len() - before) as u64;
        skipped.sort_by(|a, b| {
            b.sizes
                .iter()
                .sum::<u64>()
                .cmp(&a.sizes.iter().sum::<u64>())
                .then_with(|| b.sizes.cmp(&a.sizes))
        });
        out.skipped.extend(skipped);
        out.rules.push(count);
    }
    Ok(out)
}

/// The sorted union of two sorted, distinct vectors.
fn merge_union(a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x < y {
            out.push(x);
            i += 1;
        } else if y < x {
            out.push(y);
            j += 1;
        } else {
            out.push(x);
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn merge_is_the_set_union(a in proptest::collection::btree_set(0u64..50, 0..20),
                                  b in proptest::collection::btree_set(0u64..50, 0..20)) {
            let got = merge_union(a.iter().copied().collect(), b.iter().copied().collect());
            let want: Vec<u64> = a.union(&b).copied().collect();
            prop_assert_eq!(got, want);
        }
    }
}
