//! u probabilities from random pairs.
//!
//! `link.u_sample_pairs` pairs are drawn with a ChaCha8 generator seeded with `link.seed`: for
//! several sources, a pair of sources with probability proportional to the product of their sizes,
//! then a uniform record of each (so every cross-source pair is equally likely); for one source,
//! two distinct uniform records. When the data has no more pairs than asked for, every pair is
//! used instead. u of a level is its share among the sampled pairs where the field is present on
//! both sides, with the pseudo-count of [`PSEUDO_COUNT`] per level, clamped.
//!
//! **Salted fields.** A salted field is compared only when the two salts agree (see
//! [`compare`](super::compare)), so its u must be the level shares among random pairs *with equal
//! salts*; in a uniform sample those are rare (about 1 in 1,000 for a salt of year and month of
//! birth). For each salt, a second sample of `link.u_sample_pairs` pairs is therefore drawn
//! uniformly among the pairs the inputs can form whose salt tokens are equal (a salt value with
//! probability proportional to the pairs it forms, then a uniform pair of it), with a generator
//! seeded from `link.seed` and the salt's token slot, and gives u of the fields gated on that salt.
//!
//! **Matches among pairs with equal salts.** Random pairs are almost all non-matches; random pairs
//! with equal salts are not always: with 20,000 people there are about 30 records per month of
//! birth, so about one in twenty pairs born in the same month is a match, and the u of an exact
//! name among them (0.028) is mostly those matches. After training, the share `π` of matches among
//! the pairs with equal salts is known from the model (the matches it implies, times the
//! probability that a match has equal salts, over the pairs with equal salts), and
//! [`corrected_for_matches`] takes them out: the sample is a mixture `(1 - π) u + π m`, so
//! `u = (u_sampled - π m) / (1 - π)`. Training then runs again with the corrected u, until λ
//! settles ([`link_pool`](super::link_pool)). With 1.4 million people `π` is about 0.0007 and the
//! correction changes little.

use std::sync::atomic::{AtomicBool, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};

use super::compare::{is_uncompared, Comparator};
use super::em::{clamp_probability, PSEUDO_COUNT};
use super::pool::{pack_pair, unpack_pair, Pool};

/// The u estimate and how many pairs it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct USample {
    /// u per compared field per level.
    pub u: Vec<Vec<f64>>,
    /// Pairs compared.
    pub pairs: u64,
    /// Per salt that some field is compared within: its sample of pairs with equal salts.
    pub salts: Vec<SaltSample>,
}

/// The sample of pairs with equal salts that gives the u of the fields compared within a salt.
#[derive(Debug, Clone, PartialEq)]
pub struct SaltSample {
    /// The salt's token slot.
    pub slot: usize,
    /// The salt (`field` or `field.level`).
    pub salt: String,
    /// Pairs with equal salts the inputs can form.
    pub possible_pairs: u128,
    /// Of them, compared.
    pub sampled_pairs: u64,
    /// The share of matches among them taken out of u (see [`corrected_for_matches`]); 0 until
    /// corrected.
    pub match_share: f64,
}

/// Number of pairs the pool can form.
pub fn possible_pairs(pool: &Pool) -> u128 {
    let sizes = pool.source_sizes();
    if pool.is_dedupe() {
        let n = sizes.first().copied().unwrap_or(0) as u128;
        return n * n.saturating_sub(1) / 2;
    }
    let mut total = 0u128;
    for (s, a) in sizes.iter().enumerate() {
        for b in &sizes[s + 1..] {
            total += *a as u128 * *b as u128;
        }
    }
    total
}

/// The sampled pairs (packed), in draw order.
pub fn sample_pairs(pool: &Pool, n: usize, seed: u64) -> Vec<u64> {
    let possible = possible_pairs(pool);
    if possible == 0 || n == 0 {
        return Vec::new();
    }
    if possible <= n as u128 {
        let len = u32::try_from(pool.len()).unwrap_or(u32::MAX);
        let mut all = Vec::new();
        for i in 0..len {
            for j in i + 1..len {
                if pool.pair_allowed(i, j) {
                    all.push(pack_pair(i, j));
                }
            }
        }
        return all;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sizes = pool.source_sizes();
    let mut starts = Vec::with_capacity(sizes.len());
    let mut acc = 0usize;
    for s in &sizes {
        starts.push(acc);
        acc += s;
    }
    let mut out = Vec::with_capacity(n);
    if pool.is_dedupe() {
        let len = pool.len();
        while out.len() < n {
            let i = rng.gen_range(0..len);
            let j = rng.gen_range(0..len);
            if i != j {
                out.push(pack_pair(i as u32, j as u32));
            }
        }
        return out;
    }
    // Pairs of sources, weighted by the number of record pairs they hold.
    let mut source_pairs = Vec::new();
    let mut cumulative = Vec::new();
    let mut total = 0u128;
    for (s, a) in sizes.iter().enumerate() {
        for (t, b) in sizes.iter().enumerate().skip(s + 1) {
            let w = *a as u128 * *b as u128;
            if w > 0 {
                total += w;
                source_pairs.push((s, t));
                cumulative.push(total);
            }
        }
    }
    while out.len() < n {
        let x = rng.gen_range(0..total);
        let k = cumulative.partition_point(|c| *c <= x);
        let Some(&(s, t)) = source_pairs.get(k) else {
            continue;
        };
        let i = starts[s] + rng.gen_range(0..sizes[s]);
        let j = starts[t] + rng.gen_range(0..sizes[t]);
        out.push(pack_pair(i as u32, j as u32));
    }
    out
}

/// The records holding a token in `slot`, grouped by token: `(token, source, index)` sorted, and
/// per group its start, its records per source (start, count) and the pairs it forms.
struct Groups {
    keyed: Vec<(u32, u16, u32)>,
    groups: Vec<Group>,
    /// Running total of the pairs of the groups, for a draw proportional to them.
    cumulative: Vec<u128>,
}

struct Group {
    start: usize,
    len: usize,
    by_source: Vec<(usize, usize)>,
    pairs: u128,
}

impl Groups {
    fn new(pool: &Pool, slot: usize) -> Groups {
        let n = u32::try_from(pool.len()).unwrap_or(u32::MAX);
        let mut keyed: Vec<(u32, u16, u32)> = (0..n)
            .map(|i| (pool.id(i, slot), pool.source(i), i))
            .filter(|k| k.0 != 0)
            .collect();
        keyed.par_sort_unstable();
        let dedupe = pool.is_dedupe();
        let n_sources = pool.source_names().len();
        let mut groups = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u128;
        let mut start = 0;
        while start < keyed.len() {
            let token = keyed[start].0;
            let len = keyed[start..]
                .iter()
                .position(|k| k.0 != token)
                .unwrap_or(keyed.len() - start);
            let mut by_source = vec![(0usize, 0usize); n_sources];
            for (k, (_, s, _)) in keyed[start..start + len].iter().enumerate() {
                if let Some(b) = by_source.get_mut(usize::from(*s)) {
                    if b.1 == 0 {
                        b.0 = start + k;
                    }
                    b.1 += 1;
                }
            }
            let pairs = if dedupe {
                let l = len as u128;
                l * l.saturating_sub(1) / 2
            } else {
                let mut p = 0u128;
                for (s, a) in by_source.iter().enumerate() {
                    for b in &by_source[s + 1..] {
                        p += a.1 as u128 * b.1 as u128;
                    }
                }
                p
            };
            if pairs > 0 {
                total += pairs;
                cumulative.push(total);
                groups.push(Group {
                    start,
                    len,
                    by_source,
                    pairs,
                });
            }
            start += len;
        }
        Groups {
            keyed,
            groups,
            cumulative,
        }
    }

    fn total(&self) -> u128 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

/// Up to `n` pairs drawn uniformly among the pairs the pool may form whose tokens in `slot` are
/// equal (every such pair, in group order, when there are no more than `n`), in draw order.
pub fn sample_pairs_agreeing(pool: &Pool, slot: usize, n: usize, seed: u64) -> Vec<u64> {
    sample_in_groups(pool, &Groups::new(pool, slot), slot, n, seed)
}

fn sample_in_groups(pool: &Pool, g: &Groups, slot: usize, n: usize, seed: u64) -> Vec<u64> {
    let total = g.total();
    let mut out = Vec::new();
    if total == 0 || n == 0 {
        return out;
    }
    let dedupe = pool.is_dedupe();
    let index = |k: usize| g.keyed[k].2;
    if total <= n as u128 {
        for group in &g.groups {
            if dedupe {
                for x in group.start..group.start + group.len {
                    for y in x + 1..group.start + group.len {
                        out.push(pack_pair(index(x), index(y)));
                    }
                }
                continue;
            }
            for (s, a) in group.by_source.iter().enumerate() {
                for b in &group.by_source[s + 1..] {
                    for x in a.0..a.0 + a.1 {
                        for y in b.0..b.0 + b.1 {
                            out.push(pack_pair(index(x), index(y)));
                        }
                    }
                }
            }
        }
        return out;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((0x5a17_u64 << 32) | slot as u64));
    out.reserve(n);
    while out.len() < n {
        let x = rng.gen_range(0..total);
        let Some(group) = g.groups.get(g.cumulative.partition_point(|c| *c <= x)) else {
            continue;
        };
        if dedupe {
            let i = rng.gen_range(0..group.len);
            let j = rng.gen_range(0..group.len);
            if i != j {
                out.push(pack_pair(index(group.start + i), index(group.start + j)));
            }
            continue;
        }
        // A pair of sources in proportion to the pairs they form in this group, then a uniform
        // record of each.
        let mut y = rng.gen_range(0..group.pairs);
        'pick: for (s, a) in group.by_source.iter().enumerate() {
            for b in &group.by_source[s + 1..] {
                let w = a.1 as u128 * b.1 as u128;
                if y < w {
                    let i = index(a.0 + rng.gen_range(0..a.1));
                    let j = index(b.0 + rng.gen_range(0..b.1));
                    out.push(pack_pair(i, j));
                    break 'pick;
                }
                y -= w;
            }
        }
    }
    out
}

/// Level counts of every compared field over `pairs` (levels without weight not counted).
fn level_counts(
    pool: &Pool,
    comparator: &Comparator,
    pairs: &[u64],
    cancel: Option<&AtomicBool>,
) -> Result<Vec<Vec<u64>>> {
    let nf = comparator.n_fields();
    let sizes: Vec<usize> = comparator.fields().iter().map(|f| f.levels.len()).collect();
    let empty = || -> Vec<Vec<u64>> { sizes.iter().map(|n| vec![0u64; *n]).collect() };
    pairs
        .par_chunks(8192)
        .map(|chunk| {
            let mut counts = empty();
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Cancelled);
            }
            let mut v = vec![0u8; nf];
            for p in chunk {
                let (a, b) = unpack_pair(*p);
                comparator.compare(pool, a, b, &mut v);
                for (c, &l) in counts.iter_mut().zip(&v) {
                    if !is_uncompared(l) {
                        if let Some(x) = c.get_mut(usize::from(l)) {
                            *x += 1;
                        }
                    }
                }
            }
            Ok(counts)
        })
        .try_reduce(empty, |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                for (p, q) in x.iter_mut().zip(y) {
                    *p += q;
                }
            }
            Ok(a)
        })
}

/// Estimates u from `n` random pairs drawn with `seed`, and the u of salted fields from `n`
/// random pairs with equal salts (per salt).
pub fn estimate_u(
    pool: &Pool,
    comparator: &Comparator,
    n: usize,
    seed: u64,
    cancel: Option<&AtomicBool>,
) -> Result<USample> {
    let pairs = sample_pairs(pool, n, seed);
    if pairs.is_empty() {
        return Err(Error::Invalid(
            "the inputs form no pair, so u probabilities cannot be estimated: give at least two records (one per source when linking)".into(),
        ));
    }
    let mut counts = level_counts(pool, comparator, &pairs, cancel)?;
    let mut salts: Vec<(usize, String)> = comparator
        .fields()
        .iter()
        .filter_map(|f| Some((f.salt_slot()?, f.salt.clone()?)))
        .collect();
    salts.sort_unstable();
    salts.dedup_by_key(|s| s.0);
    let mut samples = Vec::new();
    for (slot, salt) in salts {
        let groups = Groups::new(pool, slot);
        let agreeing = sample_in_groups(pool, &groups, slot, n, seed);
        samples.push(SaltSample {
            slot,
            salt,
            possible_pairs: groups.total(),
            sampled_pairs: agreeing.len() as u64,
            match_share: 0.0,
        });
        // No pair with equal salts: the salted fields are never compared, and their u keep the
        // pseudo-counts alone.
        let salted = level_counts(pool, comparator, &agreeing, cancel)?;
        for ((c, s), f) in counts.iter_mut().zip(salted).zip(comparator.fields()) {
            if f.salt_slot() == Some(slot) {
                *c = s;
            }
        }
    }
    let u = counts
        .iter()
        .map(|c| {
            let total: u64 = c.iter().sum();
            let denom = total as f64 + PSEUDO_COUNT * c.len() as f64;
            c.iter()
                .map(|x| clamp_probability((*x as f64 + PSEUDO_COUNT) / denom))
                .collect()
        })
        .collect();
    Ok(USample {
        u,
        pairs: pairs.len() as u64,
        salts: samples,
    })
}

/// u of the fields compared within a salt, corrected for the matches among the sampled pairs with
/// equal salts (see the module documentation): with `π` the share of matches among all pairs with
/// equal salts, `u = (u_sampled - π m) / (1 - π)`, floored at [`P_MIN`](super::em::P_MIN) and
/// renormalised. `matches` is the number of matches the model implies among all pairs, and
/// `m` its m; a match has equal salts with the probability the model gives the salt key.
pub fn corrected_for_matches(
    sampled: &USample,
    schema: &crate::schema::Schema,
    comparator: &Comparator,
    m: &[Vec<f64>],
    matches: f64,
) -> USample {
    let mut out = sampled.clone();
    for s in &mut out.salts {
        let Some(key) = schema.parse_key(&s.salt) else {
            continue;
        };
        s.match_share = if s.possible_pairs == 0 {
            0.0
        } else {
            let recall = super::train::key_recall(comparator, m, key);
            (matches * recall / s.possible_pairs as f64).clamp(0.0, MAX_MATCH_SHARE)
        };
    }
    for (f, field) in comparator.fields().iter().enumerate() {
        let Some(pi) = field
            .salt_slot()
            .and_then(|slot| out.salts.iter().find(|s| s.slot == slot))
            .map(|s| s.match_share)
        else {
            continue;
        };
        let (Some(uf), Some(mf)) = (out.u.get_mut(f), m.get(f)) else {
            continue;
        };
        for (x, mm) in uf.iter_mut().zip(mf) {
            *x = ((*x - pi * mm) / (1.0 - pi)).max(super::em::P_MIN);
        }
        let sum: f64 = uf.iter().sum();
        for x in uf.iter_mut() {
            *x = clamp_probability(*x / sum);
        }
    }
    out
}

/// The largest share of matches the correction takes out of a sample of pairs with equal salts.
pub const MAX_MATCH_SHARE: f64 = 0.5;
