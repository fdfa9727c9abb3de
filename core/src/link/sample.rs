//! u probabilities: the chance that two records of different people reach each level.
//!
//! **Encoded extracts** bring their own: each agency counted, while encoding, the agreement
//! patterns of random pairs of its records and of pairs of one household
//! ([`crate::encode::pair_stats`]), on every key its tokens hold. The linkage unit could not:
//! it never sees one key alone. [`UEstimate::from_pair_stats`] turns the patterns of all the
//! extracts (pooled, each weighted by its pairs) into the u of every level of every comparison,
//! with every level seen (as the agency saw them); the `else (not seen: ...)` levels get the
//! chance that none of the levels seen holds.
//!
//! **Cleartext mode** samples `link.u_sample_pairs` pairs itself ([`UEstimate::from_random_pairs`]),
//! as the agencies do, within the sources ([`sample_within_sources`]: pairs across sources would
//! count their matches as strangers' agreement), drawn with a ChaCha8 generator seeded with
//! `link.seed`; every pair when there are fewer. Household u come from every pair of records
//! sharing the schema's household keys.
//!
//! Household pairs that agree at some level (not `else`) on every household comparison both
//! records have are left out: they are most likely one person recorded twice (with a typo or a
//! nickname), not two people of one household, who differ at least in their first names or
//! dates of birth. A level
//! never seen gets half a pair (a pseudo-count), then every u is clamped to [1e-6, 1 - 1e-6].

use std::sync::atomic::{AtomicBool, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::encode::pair_stats::{PairStats, PatternCount};
use crate::error::{Error, Result};
use crate::schema::Schema;

use super::compare::{Comparator, ComparisonRule};
use super::levels::{is_uncompared, MISSING};
use super::pool::{pack_pair, unpack_pair, Pool};
use super::probability::clamp_probability;

/// u of every level of every comparison, and the household u of household comparisons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UEstimate {
    /// Per comparison, per level.
    pub u: Vec<Vec<f64>>,
    /// Per comparison (household ones), per level.
    pub u_household: Vec<Option<Vec<f64>>>,
    /// Where they came from.
    pub source: String,
    /// Random pairs behind `u`.
    pub pairs: u64,
    /// Pairs of one household behind `u_household`.
    pub household_pairs: u64,
}

/// Per comparison, per level: pair counts.
type Counts = Vec<Vec<f64>>;

fn empty_counts(comparator: &Comparator) -> Counts {
    comparator
        .rules()
        .iter()
        .map(|r| vec![0.0; r.levels.len()])
        .collect()
}

/// u from counts of the atomic levels (the tested levels and `else`): half a pair for a level
/// never seen, then shares, clamped; an `else (not seen: ...)` level gets the sum of its atomic
/// levels' (see [`ComparisonRule::members`]).
fn shares(comparator: &Comparator, counts: &Counts) -> Vec<Vec<f64>> {
    comparator
        .rules()
        .iter()
        .zip(counts)
        .map(|(rule, c)| {
            let atomic = rule.tested + 1;
            let total: f64 = c.iter().take(atomic).map(|x| x.max(0.5)).sum();
            let u: Vec<f64> = c
                .iter()
                .take(atomic)
                .map(|x| x.max(0.5) / total.max(1.0))
                .collect();
            rule.members
                .iter()
                .map(|m| {
                    let sum: f64 = (0..atomic)
                        .filter(|i| m & (1u64 << i) != 0)
                        .map(|i| u[i])
                        .sum();
                    clamp_probability(sum)
                })
                .collect()
        })
        .collect()
}

/// The first tested level that holds for a pattern of the pair statistics (as a bit; 0 for
/// `else`), `None` when the comparison is missing.
fn holding(
    comparator: &Comparator,
    rule: &ComparisonRule,
    schema: &Schema,
    names: &[String],
    p: &PatternCount,
) -> Option<u64> {
    let first = comparator.level_of_pattern(rule, schema, names, p.bits(), &p.dice)?;
    Some(if usize::from(first) < rule.tested {
        1u64 << first
    } else {
        0
    })
}

/// Adds the counts of `patterns` to `counts`: per comparison, at the first level holding (every
/// level seen), or `else`.
fn add_patterns(
    comparator: &Comparator,
    schema: &Schema,
    names: &[String],
    patterns: &[PatternCount],
    skip: impl Fn(&[Option<u64>]) -> bool,
    counts: &mut Counts,
) -> u64 {
    let mut used = 0u64;
    for p in patterns {
        let held: Vec<Option<u64>> = comparator
            .rules()
            .iter()
            .map(|r| holding(comparator, r, schema, names, p))
            .collect();
        if skip(&held) {
            continue;
        }
        // Saturating: the counts come from manifests, which could claim any number.
        used = used.saturating_add(p.count);
        for ((rule, h), c) in comparator.rules().iter().zip(&held).zip(counts.iter_mut()) {
            let Some(h) = *h else { continue };
            // The first holding level, or else.
            let level = if h != 0 {
                h.trailing_zeros() as usize
            } else {
                rule.tested
            };
            if let Some(x) = c.get_mut(level) {
                *x += p.count as f64;
            }
        }
    }
    used
}

/// An extract's patterns of random pairs.
fn random_patterns(s: &PairStats) -> &[PatternCount] {
    &s.random
}

/// An extract's patterns of pairs of one household.
fn household_patterns(s: &PairStats) -> &[PatternCount] {
    &s.household
}

/// Least household comparisons a random pair must agree on, with no other household
/// comparison disagreeing, to be taken as one person recorded twice (see [`recorded_twice`]).
pub const RECORDED_TWICE_MIN: usize = 3;

/// Whether a random pair of one extract agrees at some level (not `else`) on every household
/// comparison both records have, and has at least [`RECORDED_TWICE_MIN`] of them: one person
/// recorded twice in one extract (its own duplicates, a typo or a missing value aside), not two
/// strangers. Such pairs are matches, and counting them as strangers' agreement made an exact
/// NHS number weigh several bits too little: strangers almost never share one, but about one
/// sampled pair in 300,000 is a duplicate that does (the 20k heavy profile: 99 true pairs
/// agreeing on the NHS number alone sat at a match probability of 0.90, either side of the
/// threshold with the secret). Strangers agreeing on first name, surname and date of birth at
/// once are too few to move any other u.
fn recorded_twice(comparator: &Comparator, held: &[Option<u64>]) -> bool {
    let mut agree = 0;
    for (r, h) in comparator.rules().iter().zip(held) {
        if !r.household {
            continue;
        }
        match h {
            Some(h) if *h != 0 => agree += 1,
            Some(_) => return false,
            None => {}
        }
    }
    agree >= RECORDED_TWICE_MIN
}

/// Whether a household pair agrees at some level (not `else`) on every household comparison
/// both records have: likely one person recorded twice (a typo or a nickname aside), not two
/// people of one household, who differ at least in their first names or dates of birth.
fn same_person(comparator: &Comparator, held: &[Option<u64>]) -> bool {
    let mut any = false;
    for (r, h) in comparator.rules().iter().zip(held) {
        if !r.household {
            continue;
        }
        match h {
            Some(h) if *h != 0 => any = true,
            Some(_) => return false,
            None => {}
        }
    }
    any
}

impl UEstimate {
    /// u from the pair statistics of the extracts' manifests.
    pub fn from_pair_stats(
        schema: &Schema,
        comparator: &Comparator,
        stats: &[&PairStats],
    ) -> Result<UEstimate> {
        if stats.is_empty() {
            return Err(Error::Invalid(
                "no extract brings pair statistics (its manifest's pair_stats), which give the u probabilities: link extracts with their manifests, or give a trained model (--model)".into(),
            ));
        }
        // Per extract, its random or household patterns, counted with `skip`.
        let count = |of: fn(&PairStats) -> &[PatternCount],
                     skip: &dyn Fn(&[Option<u64>]) -> bool| {
            let mut counts = empty_counts(comparator);
            let mut pairs = 0u64;
            for s in stats {
                pairs = pairs.saturating_add(add_patterns(
                    comparator,
                    schema,
                    &s.features,
                    of(s),
                    skip,
                    &mut counts,
                ));
            }
            (counts, pairs)
        };
        let (mut random, mut pairs) =
            count(random_patterns, &|held| recorded_twice(comparator, held));
        let all: u64 = stats
            .iter()
            .map(|s| s.random_pairs)
            .fold(0, u64::saturating_add);
        if pairs.saturating_mul(2) < all {
            // Most pairs look like one person twice: not an extract of distinct people with a few
            // duplicates (test data of copies, one family), so nothing is left out.
            (random, pairs) = count(random_patterns, &|_| false);
        }
        let (household, household_pairs) =
            count(household_patterns, &|held| same_person(comparator, held));
        if pairs == 0 {
            return Err(Error::Invalid(
                "the extracts' pair statistics hold no pair (an extract of one record?): u probabilities cannot be estimated; give a trained model (--model)".into(),
            ));
        }
        Ok(UEstimate {
            u: shares(comparator, &random),
            u_household: household_u(comparator, &household, household_pairs),
            source: format!("pair statistics of {} extracts", stats.len()),
            pairs,
            household_pairs,
        })
    }

    /// u from `n` random pairs of the pool (cleartext mode), and household u from the pairs of
    /// records sharing the schema's household keys.
    pub fn from_random_pairs(
        pool: &Pool,
        comparator: &Comparator,
        n: usize,
        seed: u64,
        cancel: Option<&AtomicBool>,
    ) -> Result<UEstimate> {
        let sampled = sample_within_sources(pool, n, seed);
        if sampled.is_empty() {
            return Err(Error::Invalid(
                "the inputs form no pair, so u probabilities cannot be estimated: give at least two records (one per source when linking)".into(),
            ));
        }
        let random_of = |leave_out: bool| {
            level_counts(
                pool,
                comparator,
                &sampled,
                |v| {
                    if !leave_out {
                        return false;
                    }
                    let held: Vec<Option<u64>> = comparator
                        .rules()
                        .iter()
                        .zip(v)
                        .map(|(r, &l)| {
                            (!is_uncompared(l)).then(|| {
                                if usize::from(l) < r.tested {
                                    1u64 << l
                                } else {
                                    0
                                }
                            })
                        })
                        .collect();
                    recorded_twice(comparator, &held)
                },
                cancel,
            )
        };
        let mut random = random_of(true)?;
        let counted = random
            .iter()
            .map(|c| c.iter().sum::<f64>() as u64)
            .max()
            .unwrap_or(0);
        if counted.saturating_mul(2) < sampled.len() as u64 {
            // As with pair statistics: most pairs one person twice, nothing left out.
            random = random_of(false)?;
        }
        let households = household_pairs(pool);
        let household = level_counts(
            pool,
            comparator,
            &households,
            |v| {
                // As `same_person`: some level on every household comparison seen.
                let mut any = false;
                for (r, &l) in comparator.rules().iter().zip(v) {
                    if r.household && !is_uncompared(l) {
                        if usize::from(l) >= r.tested {
                            return false;
                        }
                        any = true;
                    }
                }
                any
            },
            cancel,
        )?;
        let hh_pairs = household
            .iter()
            .map(|c| c.iter().sum::<f64>() as u64)
            .max()
            .unwrap_or(0);
        Ok(UEstimate {
            u: shares(comparator, &random),
            u_household: household_u(comparator, &household, hh_pairs),
            source: "random pairs of the cleartext records".into(),
            pairs: sampled.len() as u64,
            household_pairs: hh_pairs,
        })
    }
}

/// The household u of the household comparisons, when there were household pairs.
fn household_u(comparator: &Comparator, counts: &Counts, pairs: u64) -> Vec<Option<Vec<f64>>> {
    let u = shares(comparator, counts);
    comparator
        .rules()
        .iter()
        .zip(u)
        .map(|(r, u)| (r.household && comparator.household().is_some() && pairs > 0).then_some(u))
        .collect()
}

/// Every pair of records of the pool sharing the household keys (cleartext mode: from the
/// records' feature values), at most 2,000,000.
fn household_pairs(pool: &Pool) -> Vec<u64> {
    let Some(keys) = pool.household_keys() else {
        return Vec::new();
    };
    let n = u32::try_from(pool.len()).unwrap_or(u32::MAX);
    let mut keyed: Vec<(u64, u32)> = (0..n)
        .filter_map(|i| Some((pool.household_hash(i, keys)?, i)))
        .collect();
    keyed.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    while start < keyed.len() && out.len() < 2_000_000 {
        let h = keyed[start].0;
        let end = keyed[start..]
            .iter()
            .position(|(x, _)| *x != h)
            .map_or(keyed.len(), |p| start + p);
        for i in start..end {
            for j in i + 1..end {
                out.push(pack_pair(keyed[i].1, keyed[j].1));
            }
        }
        start = end;
    }
    out
}

/// Per comparison and level: how many of `pairs` reach it (skipping vectors `skip` says to).
fn level_counts(
    pool: &Pool,
    comparator: &Comparator,
    pairs: &[u64],
    skip: impl Fn(&[u8]) -> bool + Sync,
    cancel: Option<&AtomicBool>,
) -> Result<Counts> {
    let nf = comparator.n_fields();
    let empty = || empty_counts(comparator);
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
                if skip(&v) {
                    continue;
                }
                for ((c, &l), rule) in counts.iter_mut().zip(&v).zip(comparator.rules()) {
                    // As an agency counts its pairs, every level seen: at the level that holds,
                    // or `else`. In cleartext a level is unseen only when it cannot hold (a
                    // field it reads is absent, or a Dice level's salts differ), so a pair at
                    // `unknown` or at an unseen-level `else` is at `else`. (Leaving such pairs
                    // out kept the pairs that agree and dropped many that do not: u of
                    // agreement too high.)
                    if l == MISSING {
                        continue;
                    }
                    let atomic = usize::from(l).min(rule.tested);
                    if let Some(x) = c.get_mut(atomic) {
                        *x += 1.0;
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

/// `n` random pairs of distinct records of one source (a source with probability proportional
/// to the pairs it holds), as an agency samples its own records for its pair statistics: pairs
/// across sources would count the matches among them as agreement of strangers (about one pair
/// in 20,000 is a match, as often as two strangers share a date of birth).
pub fn sample_within_sources(pool: &Pool, n: usize, seed: u64) -> Vec<u64> {
    let sizes = pool.source_sizes();
    let mut starts = Vec::with_capacity(sizes.len());
    let mut acc = 0usize;
    for s in &sizes {
        starts.push(acc);
        acc += s;
    }
    let pairs: Vec<u128> = sizes
        .iter()
        .map(|&k| k as u128 * (k as u128).saturating_sub(1) / 2)
        .collect();
    let total: u128 = pairs.iter().sum();
    if total == 0 || n == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(n.min(usize::try_from(total).unwrap_or(usize::MAX)));
    if total <= n as u128 {
        for (s, &k) in sizes.iter().enumerate() {
            for i in 0..k {
                for j in i + 1..k {
                    out.push(pack_pair((starts[s] + i) as u32, (starts[s] + j) as u32));
                }
            }
        }
        return out;
    }
    let mut cumulative = Vec::with_capacity(pairs.len());
    let mut run = 0u128;
    for p in &pairs {
        run += p;
        cumulative.push(run);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5a3c_9e17_0b2d_4f61);
    while out.len() < n {
        let x = rng.gen_range(0..total);
        let s = cumulative.partition_point(|c| *c <= x);
        let Some(&k) = sizes.get(s) else { continue };
        let (i, j) = (rng.gen_range(0..k), rng.gen_range(0..k));
        if i != j {
            out.push(pack_pair((starts[s] + i) as u32, (starts[s] + j) as u32));
        }
    }
    out
}

/// The pairs the inputs can form: cross-source pairs, or every pair of one source.
pub fn possible_pairs(pool: &Pool) -> u128 {
    possible_pairs_of(&pool.source_sizes())
}

/// [`possible_pairs`] of sources of `sizes` records (one source: deduplicating it).
pub fn possible_pairs_of(sizes: &[usize]) -> u128 {
    if sizes.len() == 1 {
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

/// The most matches sources of `sizes` records can plausibly hold: twice the smaller source of
/// each pair of sources (one partner per record, with room for duplicates), or the number of
/// records of one source deduplicating.
pub(crate) fn max_matches_of(sizes: &[usize]) -> f64 {
    if let [n] = sizes {
        return *n as f64;
    }
    let mut total = 0.0;
    for (s, a) in sizes.iter().enumerate() {
        for b in &sizes[s + 1..] {
            total += 2.0 * (*a).min(*b) as f64;
        }
    }
    total
}

/// A starting prior for EM among `n_pairs` candidate pairs of sources of `sizes` records: at most
/// one match per record of the smallest source (half of it linking), or one duplicate per ten
/// records of one source deduplicating.
pub(crate) fn starting_lambda_of(sizes: &[usize], n_pairs: u64) -> f64 {
    let expected = if let [n] = sizes {
        *n as f64 / 10.0
    } else {
        sizes.iter().copied().min().unwrap_or(0) as f64 / 2.0
    };
    (expected / n_pairs.max(1) as f64).clamp(1e-4, 0.5)
}
