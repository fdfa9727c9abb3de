//! Blocking: the candidate pairs are the union, over the schema's blocking rules, of the pairs of
//! records that share the rule's `block.<rule>` token.
//!
//! For each rule, the records holding its token are sorted by `(token id, index)` (a counting sort
//! over the dense token ids of the comparison rows, see [`pool`](super::pool)), and each run of
//! equal tokens is a block. A block with more than `max_block_size` records of any one source is
//! skipped, counted and reported, never exploded.
//!
//! **No pair list.** The candidate pairs are never materialised: they are enumerated block by
//! block whenever a stage needs them ([`Plan::for_each_pair`]), which keeps the rows of a block in
//! cache while its pairs are compared, and costs no memory per pair. Each pair is kept once, by
//! the first rule that forms it: a pair of rule `r` is skipped when, for some earlier rule `q`, the
//! two records have the same token of `q` and that token's block was not skipped (that is exactly
//! when `q` formed the pair). Checking this reads two ids per earlier rule from the rows being
//! compared anyway, so there is no global pair set and no per-pair hashing.
//!
//! The work is split into [`Task`]s (runs of blocks of about [`TASK_PAIRS`] pairs, or slices of one
//! larger block), each enumerated in a fixed order, so a stage can run them in parallel and a later
//! stage meets the same pairs in the same order.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::Schema;

use super::pool::{Pool, Row};

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
    /// Number of candidate pairs (each pair once, over all rules).
    pub candidate_pairs: u64,
    /// Per rule, in schema order.
    pub rules: Vec<RuleCount>,
    /// Every skipped block, by rule in schema order and then by decreasing size.
    pub skipped: Vec<SkippedBlock>,
    /// How to enumerate the candidate pairs.
    pub(crate) plan: Plan,
}

/// Pairs per task (about; a block is never split below one record's pairs).
pub const TASK_PAIRS: u64 = 1 << 18;

/// A crossed rule's block id of each pair of token ids it joins on.
type PairIds = FxHashMap<(u32, u32), u32>;

/// The blocks of one rule.
#[derive(Debug, Clone, Default)]
struct RuleBlocks {
    /// The token column the rule joins on.
    column: usize,
    /// A crossed rule's second column (numbered with the first: one hash signature) and the
    /// block id of each pair of ids it joins on.
    crossed: Option<(usize, PairIds)>,
    /// Each compared block's token id.
    ids: Vec<u32>,
    /// The records of the compared blocks, block after block, each block in index order.
    members: Vec<u32>,
    /// Start of each compared block in `members`, and the end of the last.
    starts: Vec<u32>,
    /// Bit per token id: the block of that token was skipped.
    skipped: Vec<u64>,
}

impl RuleBlocks {
    #[inline]
    fn is_skipped(&self, id: u32) -> bool {
        self.skipped
            .get(id as usize / 64)
            .is_some_and(|w| w & (1u64 << (id % 64)) != 0)
    }

    fn block(&self, k: u32) -> &[u32] {
        let (s, e) = (self.starts[k as usize], self.starts[k as usize + 1]);
        &self.members[s as usize..e as usize]
    }
}

/// A unit of work: blocks `blocks` of rule `rule`, or, when `first` is set, the pairs of the one
/// block `blocks.start` whose first record is at a position in `first` within the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The rule.
    pub rule: u32,
    /// Blocks of the rule (indices among its compared blocks).
    pub blocks: Range<u32>,
    /// For a slice of one large block: the positions of the pairs' first records.
    pub first: Option<Range<u32>>,
    /// Pairs the rule forms in the task (before removing those of earlier rules).
    pub pairs: u64,
}

/// How to enumerate the candidate pairs (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    rules: Vec<RuleBlocks>,
    tasks: Vec<Task>,
    dedupe: bool,
}

impl Plan {
    /// The tasks, in order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The smallest token id rule `q` joins the two rows on in a block that was not skipped.
    #[inline]
    fn first_block(&self, q: usize, ra: &Row<'_>, rb: &Row<'_>) -> Option<u32> {
        let r = &self.rules[q];
        let c = r.column;
        if let Some((d, ids)) = &r.crossed {
            let key = crossed_key(ra, c, *d)?;
            if crossed_key(rb, c, *d) != Some(key) {
                return None;
            }
            return ids.get(&key).copied().filter(|&id| !r.is_skipped(id));
        }
        // Most rules are single tokens: one comparison.
        let (x, y) = (ra.id(c), rb.id(c));
        if x != 0 || y != 0 {
            return (x != 0 && x == y && !r.is_skipped(x)).then_some(x);
        }
        let mut b = rb.ids(c).peekable();
        for id in ra.ids(c) {
            while b.peek().is_some_and(|&v| v < id) {
                b.next();
            }
            if b.peek() == Some(&id) && !r.is_skipped(id) {
                return Some(id);
            }
        }
        None
    }

    #[inline]
    fn formed_by(&self, q: usize, ra: &Row<'_>, rb: &Row<'_>) -> bool {
        self.first_block(q, ra, rb).is_some()
    }

    /// Whether the pair `(a, b)` (rows `ra`, `rb`) is a candidate: formed by some rule.
    pub fn is_candidate(&self, ra: &Row<'_>, rb: &Row<'_>) -> bool {
        (0..self.rules.len()).any(|q| self.formed_by(q, ra, rb))
    }

    /// Calls `f(a, row of a, b, row of b)` for every candidate pair of `task` that no earlier rule
    /// formed, `a < b`, in a fixed order: block by block, by first record, then by second.
    #[inline]
    pub fn for_each_pair<'p>(
        &self,
        pool: &'p Pool,
        task: &Task,
        mut f: impl FnMut(u32, &Row<'p>, u32, &Row<'p>),
    ) {
        let r = task.rule as usize;
        let Some(rule) = self.rules.get(r) else {
            return;
        };
        for k in task.blocks.clone() {
            let block = rule.block(k);
            let id = rule.ids.get(k as usize).copied().unwrap_or(0);
            let firsts = match &task.first {
                Some(x) => x.start as usize..(x.end as usize).min(block.len()),
                None => 0..block.len(),
            };
            for x in firsts {
                let a = block[x];
                let ra = pool.row(a);
                let sa = pool.source(a);
                // Later members of other sources (members are in index order, so a source's
                // members are contiguous and the first of another source ends a's run).
                let mut y = x + 1;
                if !self.dedupe {
                    while y < block.len() && pool.source(block[y]) == sa {
                        y += 1;
                    }
                }
                for &b in &block[y..] {
                    let rb = pool.row(b);
                    if (0..r).any(|q| self.formed_by(q, &ra, &rb)) {
                        continue;
                    }
                    // A token set puts a pair in one block per shared token: only the first.
                    if pool.columns().get(rule.column).is_some_and(|c| c.set)
                        && self.first_block(r, &ra, &rb) != Some(id)
                    {
                        continue;
                    }
                    f(a, &ra, b, &rb);
                }
            }
        }
    }
}

/// A crossed rule's join key for a row: its ids of columns `c` and `d`, ascending, when both are
/// present (so that a first name and surname meet the same two swapped).
#[inline]
pub(crate) fn crossed_key(row: &Row<'_>, c: usize, d: usize) -> Option<(u32, u32)> {
    let (x, y) = (row.id(c), row.id(d));
    (x != 0 && y != 0).then(|| (x.min(y), x.max(y)))
}

/// Pairs a block forms, given its records per source.
fn block_pairs(sizes: &[u64], dedupe: bool) -> u64 {
    if dedupe {
        let n: u64 = sizes.iter().sum();
        return n * n.saturating_sub(1) / 2;
    }
    let mut total = 0u64;
    let mut before = 0u64;
    for s in sizes {
        total += before * s;
        before += s;
    }
    total
}

/// Forms the blocks of `pool` (which must be prepared) under the blocking rules of `schema`, and
/// the tasks that enumerate their pairs. `new_pairs` of each rule and `candidate_pairs` are
/// filled in by the first enumeration of the pairs.
///
/// `cancel` is checked between rules.
pub fn candidate_pairs(
    schema: &Schema,
    pool: &Pool,
    cancel: Option<&AtomicBool>,
) -> Result<Blocking> {
    candidate_pairs_in_tasks_of(schema, pool, cancel, TASK_PAIRS)
}

/// [`candidate_pairs`] with tasks of about `task_pairs` pairs.
pub(crate) fn candidate_pairs_in_tasks_of(
    schema: &Schema,
    pool: &Pool,
    cancel: Option<&AtomicBool>,
    task_pairs: u64,
) -> Result<Blocking> {
    let task_pairs = task_pairs.max(1);
    let max = schema.link.max_block_size as u64;
    let mut out = Blocking::default();
    let n_sources = pool.source_names().len();
    let dedupe = pool.is_dedupe();
    out.plan.dedupe = dedupe;
    let n = u32::try_from(pool.len()).unwrap_or(u32::MAX);
    for (r, rule) in schema.link.blocking.iter().enumerate() {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::Cancelled);
        }
        let columns = schema.blocking_columns(r);
        let (Some(&column), crossed) = (columns.first(), columns.get(1).copied()) else {
            return Err(Error::schema(
                format!("link.blocking[{r}]"),
                "the rule's token column is not in the extracts",
            ));
        };
        let set = |c: usize| pool.columns().get(c).is_none_or(|c| c.set);
        if rule.cross.is_some() && crossed.is_none_or(|d| set(d) || set(column)) {
            return Err(Error::schema(
                format!("link.blocking[{r}].cross"),
                "a crossed rule joins two single-token columns of the extracts",
            ));
        }
        // Counting sort by (id, index) of the records holding the token: one id per record, or
        // one per element of a token set. A crossed rule numbers each record's pair of ids (in
        // ascending order) by first appearance and sorts by that number.
        let mut memberships: Vec<(u32, u32)> = Vec::new();
        let mut pair_ids: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for i in 0..n {
            let row = pool.row(i);
            match crossed {
                None => memberships.extend(row.ids(column).map(|id| (id, i))),
                Some(d) => {
                    if let Some(key) = crossed_key(&row, column, d) {
                        let next = pair_ids.len() as u32 + 1;
                        memberships.push((*pair_ids.entry(key).or_insert(next), i));
                    }
                }
            }
        }
        let max_id = memberships.iter().map(|m| m.0).max().unwrap_or(0) as usize;
        let mut offsets = vec![0u32; max_id + 2];
        for &(id, _) in &memberships {
            offsets[id as usize + 1] += 1;
        }
        for k in 1..offsets.len() {
            offsets[k] += offsets[k - 1];
        }
        let mut sorted = vec![0u32; offsets[max_id + 1] as usize];
        let mut fill = offsets.clone();
        for &(id, i) in &memberships {
            sorted[fill[id as usize] as usize] = i;
            fill[id as usize] += 1;
        }
        drop(memberships);
        let mut blocks = RuleBlocks {
            column,
            crossed: crossed.map(|d| (d, pair_ids)),
            ids: Vec::new(),
            members: Vec::new(),
            starts: vec![0],
            skipped: vec![0u64; (max_id + 1).div_ceil(64)],
        };
        let mut count = RuleCount {
            rule: rule.name(),
            pairs: 0,
            new_pairs: 0,
            blocks: 0,
            skipped_blocks: 0,
        };
        let mut skipped = Vec::new();
        let mut sizes = vec![0u64; n_sources];
        let mut block_pair_counts = Vec::new();
        for id in 1..=max_id {
            let block = &sorted[offsets[id] as usize..offsets[id + 1] as usize];
            if block.len() < 2 {
                continue;
            }
            sizes.iter_mut().for_each(|s| *s = 0);
            for &i in block {
                if let Some(s) = sizes.get_mut(usize::from(pool.source(i))) {
                    *s += 1;
                }
            }
            if !dedupe && sizes.iter().filter(|s| **s > 0).count() < 2 {
                continue;
            }
            count.blocks += 1;
            if sizes.iter().any(|s| *s > max) {
                count.skipped_blocks += 1;
                blocks.skipped[id / 64] |= 1u64 << (id % 64);
                skipped.push(SkippedBlock {
                    rule: rule.name(),
                    sizes: sizes.clone(),
                });
                continue;
            }
            let pairs = block_pairs(&sizes, dedupe);
            count.pairs += pairs;
            blocks.members.extend_from_slice(block);
            blocks.starts.push(blocks.members.len() as u32);
            blocks.ids.push(id as u32);
            block_pair_counts.push(pairs);
        }
        // Tasks: runs of blocks of about task_pairs pairs; a larger block in slices of its first
        // records.
        let mut k = 0u32;
        let n_blocks = block_pair_counts.len() as u32;
        while k < n_blocks {
            let pairs = block_pair_counts[k as usize];
            if pairs > task_pairs {
                let block = blocks.block(k);
                let mut lo = 0usize;
                let mut acc = 0u64;
                for x in 0..block.len() {
                    let sa = pool.source(block[x]);
                    let later = block[x + 1..]
                        .iter()
                        .filter(|&&b| dedupe || pool.source(b) != sa)
                        .count() as u64;
                    acc += later;
                    if acc >= task_pairs || x + 1 == block.len() {
                        out.plan.tasks.push(Task {
                            rule: r as u32,
                            blocks: k..k + 1,
                            first: Some(lo as u32..x as u32 + 1),
                            pairs: acc,
                        });
                        lo = x + 1;
                        acc = 0;
                    }
                }
                k += 1;
                continue;
            }
            let start = k;
            let mut acc = 0u64;
            while k < n_blocks && block_pair_counts[k as usize] <= task_pairs {
                if acc > 0 && acc + block_pair_counts[k as usize] > task_pairs {
                    break;
                }
                acc += block_pair_counts[k as usize];
                k += 1;
            }
            out.plan.tasks.push(Task {
                rule: r as u32,
                blocks: start..k,
                first: None,
                pairs: acc,
            });
        }
        skipped.sort_by(|a, b| {
            b.sizes
                .iter()
                .sum::<u64>()
                .cmp(&a.sizes.iter().sum::<u64>())
                .then_with(|| b.sizes.cmp(&a.sizes))
        });
        out.skipped.extend(skipped);
        out.rules.push(count);
        out.plan.rules.push(blocks);
    }
    Ok(out)
}

impl Blocking {
    /// Records the pairs each of `tasks` (this blocking's) kept, new to its rule, from the first
    /// enumeration.
    pub(crate) fn count_new(&mut self, tasks: &[Task], kept_per_task: &[u64]) {
        for c in &mut self.rules {
            c.new_pairs = 0;
        }
        for (t, kept) in tasks.iter().zip(kept_per_task) {
            if let Some(c) = self.rules.get_mut(t.rule as usize) {
                c.new_pairs += kept;
            }
        }
        self.candidate_pairs = self.rules.iter().map(|c| c.new_pairs).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_pairs_count_cross_source_pairs() {
        assert_eq!(block_pairs(&[2, 3], false), 6);
        assert_eq!(block_pairs(&[2, 3, 1], false), 11);
        assert_eq!(block_pairs(&[4], true), 6);
    }
}
