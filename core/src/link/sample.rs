//! u probabilities from random pairs.
//!
//! `link.u_sample_pairs` pairs are drawn with a ChaCha8 generator seeded with `link.seed`: for
//! several sources, a pair of sources with probability proportional to the product of their sizes,
//! then a uniform record of each (so every cross-source pair is equally likely); for one source,
//! two distinct uniform records. When the data has no more pairs than asked for, every pair is
//! used instead. u of a level is its share among the sampled pairs where the field is present on
//! both sides, with the pseudo-count of [`PSEUDO_COUNT`] per level, clamped.

use std::sync::atomic::{AtomicBool, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};

use super::compare::{Comparator, MISSING};
use super::em::{clamp_probability, PSEUDO_COUNT};
use super::pool::{pack_pair, unpack_pair, Pool};

/// The u estimate and how many pairs it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct USample {
    /// u per compared field per level.
    pub u: Vec<Vec<f64>>,
    /// Pairs compared.
    pub pairs: u64,
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

/// Estimates u from `n` random pairs drawn with `seed`.
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
    let nf = comparator.n_fields();
    let sizes: Vec<usize> = comparator.fields().iter().map(|f| f.levels.len()).collect();
    let empty = || -> Vec<Vec<u64>> { sizes.iter().map(|n| vec![0u64; *n]).collect() };
    let counts = pairs
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
                    if l != MISSING {
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
        })?;
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
    })
}
