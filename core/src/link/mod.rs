//! Linking: the linkage unit's side. Encoded extracts in; scored, resolved links out.
//!
//! The stages, in order, each in its own module:
//!
//! 1. [`pool`]: the records of every source, addressed by `u32` indices;
//! 2. [`block`]: candidate pairs, the union over the blocking rules, oversized blocks skipped;
//! 3. [`compare`]: a comparison vector (one level per compared field) per pair, with the
//!    [`dice`] kernel on Bloom filters, or [`clear`] string comparators in cleartext mode;
//! 4. [`sample`] and [`em`]: the Fellegi-Sunter [`model`]: u from random pairs, m and λ by EM over
//!    the distinct comparison patterns, optionally with [`term_frequency`] adjustment;
//! 5. [`resolve`]: clusters (default) or a one-to-one assignment;
//! 6. [`evaluate`]: precision, recall and F1 against known true pairs.
//!
//! [`link_pool`] runs stages 2 to 5 in memory; [`crate::run::link`] runs the whole thing from files
//! to files. `docs/linking.md` explains each stage and the choices made.
//!
//! ```
//! use pseudolink::link::{link_pool, pool::Pool, LinkOptions};
//! use pseudolink::{Encoder, Schema, Secret};
//!
//! let schema = Schema::example();
//! let encoder = Encoder::new(&schema, &Secret::generate().unwrap());
//! let mut scratch = encoder.scratch();
//! let mut encode = |row: [&str; 9]| encoder.encode_values(&row, &mut scratch).unwrap().0;
//! let left = vec![
//!     encode(["a1", "Anna", "", "Smith", "2014-03-09", "F", "CV1 2AB", "1 high st", "9434765919"]),
//!     encode(["a2", "Omar", "", "Khan", "1990-01-02", "M", "CV3 4CD", "2 low rd", ""]),
//! ];
//! let right = vec![
//!     encode(["b1", "Ana", "", "Smith", "2014-03-09", "F", "CV1 2AB", "1 high street", ""]),
//!     encode(["b2", "Omar", "", "Khan", "1990-01-02", "M", "CV3 4CD", "2 low road", ""]),
//! ];
//! let pool = Pool::new(vec![("left".into(), left), ("right".into(), right)], 4).unwrap();
//! let linkage = link_pool(&schema, pool, false, LinkOptions::default(), None, None).unwrap();
//! let explained = linkage.explain("a1", "b1").unwrap();
//! assert_eq!(explained.fields[0].field, "first_name");
//! println!("{explained}");
//! ```

pub mod block;
pub mod clear;
pub mod compare;
pub mod dice;
pub mod em;
pub mod evaluate;
pub mod explain;
pub mod model;
pub mod pool;
pub mod resolve;
pub mod sample;
pub mod term_frequency;
pub mod train;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::Schema;

use block::Blocking;
use compare::Comparator;
use em::Patterns;
use model::{Model, Scorer};
use pool::{unpack_pair, Pool};
use resolve::ScoredPairs;
use term_frequency::TermFrequencies;

pub use explain::Explanation;

/// Default match threshold (probability).
pub const DEFAULT_THRESHOLD: f64 = 0.9;
/// Default review threshold (probability).
pub const DEFAULT_REVIEW_THRESHOLD: f64 = 0.5;

/// Pairs compared per progress report and cancel check.
const COMPARE_CHUNK: usize = 1 << 20;
/// Pairs compared per parallel task, in order of their second record.
const COMPARE_TILE: usize = 1 << 16;

/// Options of [`link_pool`].
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Pairs at or above this match probability are links.
    pub threshold: f64,
    /// Pairs at or above this (and below `threshold`, or not linked) are for clerical review.
    pub review_threshold: f64,
    /// Strict one-to-one assignment instead of clusters (two sources only).
    pub one_to_one: bool,
    /// The clustering guard's required share of supported cross pairs (see [`resolve`]).
    pub cluster_support: f64,
    /// A trained model to use instead of training one.
    pub model: Option<Model>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            threshold: DEFAULT_THRESHOLD,
            review_threshold: DEFAULT_REVIEW_THRESHOLD,
            one_to_one: false,
            cluster_support: resolve::DEFAULT_CLUSTER_SUPPORT,
            model: None,
        }
    }
}

impl LinkOptions {
    /// Checks the thresholds: `0 <= review <= threshold <= 1`, support in 0..=1.
    pub fn validate(&self) -> Result<()> {
        let p = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !p(self.threshold) || !p(self.review_threshold) {
            return Err(Error::Invalid(format!(
                "thresholds must be probabilities from 0 to 1 (got {} and {})",
                self.threshold, self.review_threshold
            )));
        }
        if self.review_threshold > self.threshold {
            return Err(Error::Invalid(format!(
                "the review threshold {} is above the match threshold {}",
                self.review_threshold, self.threshold
            )));
        }
        if !p(self.cluster_support) {
            return Err(Error::Invalid(format!(
                "the cluster support must be from 0 to 1 (got {})",
                self.cluster_support
            )));
        }
        Ok(())
    }
}

/// The band of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// A link: the two records are taken to be the same person.
    Match,
    /// For clerical review.
    Review,
}

impl Band {
    /// `match` or `review`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Match => "match",
            Band::Review => "review",
        }
    }
}

/// One output row: a scored pair with its band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Pool index of the first (left) record.
    pub left: u32,
    /// Pool index of the second (right) record.
    pub right: u32,
    /// Match weight.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Band.
    pub band: Band,
    /// Cluster number (0 for none).
    pub cluster: u32,
}

/// Progress of a linking run: the stage, and work done of total within it.
#[derive(Debug, Clone, Copy)]
pub struct LinkProgress {
    /// The stage name (`blocking`, `u sample`, `comparing`, `EM`, `scoring`, `resolving`).
    pub stage: &'static str,
    /// Work done in this stage.
    pub done: u64,
    /// Total work of this stage (0 when unknown).
    pub total: u64,
}

/// Time spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// Stage name.
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
}

/// What resolution did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolutionReport {
    /// `clusters` or `one_to_one`.
    pub method: String,
    /// Clusters of two or more records (clusters), or accepted pairs (one-to-one).
    pub clusters: u64,
    /// Merges refused by the chaining guard (clusters).
    pub refused_merges: u64,
    /// Pairs at or above the threshold not accepted because a record was already linked
    /// (one-to-one); they are not in the output.
    pub displaced_pairs: u64,
    /// The guard's required share of supported cross pairs (clusters).
    pub cluster_support: f64,
}

/// The outcome of linking, holding what is needed to explain any pair.
#[derive(Debug, Clone)]
pub struct Linkage {
    /// The records.
    pub pool: Pool,
    /// The comparator.
    pub comparator: Comparator,
    /// The model used (trained here, or given).
    pub model: Model,
    /// Whether the model was trained in this run.
    pub trained: bool,
    /// Blocking outcome (candidate pairs, counts per rule, skipped blocks).
    pub blocking: Blocking,
    /// Comparison vectors of the candidate pairs, `n_fields` bytes each.
    pub levels: Vec<u8>,
    /// Match weight per candidate pair.
    pub weights: Vec<f64>,
    /// The output rows, sorted by left source and id, then right source and id.
    pub links: Vec<Link>,
    /// What resolution did.
    pub resolution: ResolutionReport,
    /// Time per stage.
    pub timings: Vec<StageTime>,
    /// The options used (without the model).
    pub threshold: f64,
    /// The review threshold used.
    pub review_threshold: f64,
    scorer: Scorer,
}

fn check_cancel(cancel: Option<&AtomicBool>) -> Result<()> {
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        Err(Error::Cancelled)
    } else {
        Ok(())
    }
}

/// Links the records of `pool` under `schema`: blocking, comparison, model (trained unless given),
/// scoring, resolution. `clear` selects cleartext comparators (the pool must carry cleartext).
pub fn link_pool(
    schema: &Schema,
    pool: Pool,
    clear: bool,
    options: LinkOptions,
    progress: Option<&(dyn Fn(LinkProgress) + Sync)>,
    cancel: Option<&AtomicBool>,
) -> Result<Linkage> {
    options.validate()?;
    if options.one_to_one && pool.source_names().len() != 2 {
        return Err(Error::Invalid(
            "one-to-one assignment needs exactly two sources (--left and --right)".into(),
        ));
    }
    if clear && !pool.has_clear() {
        return Err(Error::Invalid(
            "cleartext comparison needs the normalised values of the records".into(),
        ));
    }
    let report = |stage: &'static str, done: u64, total: u64| {
        if let Some(p) = progress {
            p(LinkProgress { stage, done, total });
        }
    };
    let comparator = Comparator::new(schema, clear)?;
    if let Some(m) = &options.model {
        m.check_fits(schema, &comparator)?;
    }
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |stage: &str, timings: &mut Vec<StageTime>| {
        timings.push(StageTime {
            stage: stage.to_string(),
            seconds: clock.elapsed().as_secs_f64(),
        });
        clock = Instant::now();
    };

    report("blocking", 0, 0);
    let blocking = block::candidate_pairs(schema, &pool, cancel)?;
    lap("blocking", &mut timings);

    let nf = comparator.n_fields();
    let n_pairs = blocking.pairs.len();
    let mut levels = vec![0u8; n_pairs * nf];
    let training = options.model.is_none();
    let block_slots: Vec<usize> = crate::encode::Layout::new(schema)
        .blocks
        .into_iter()
        .take(64)
        .collect();
    let mut pattern_counts: HashMap<(Vec<u8>, u64), u64> = HashMap::new();
    for (i, (ps, ls)) in blocking
        .pairs
        .chunks(COMPARE_CHUNK)
        .zip(levels.chunks_mut(COMPARE_CHUNK * nf))
        .enumerate()
    {
        check_cancel(cancel)?;
        report("comparing", (i * COMPARE_CHUNK) as u64, n_pairs as u64);
        let tiles: Vec<TileCounts> = ps
            .par_chunks(COMPARE_TILE)
            .zip(ls.par_chunks_mut(COMPARE_TILE * nf))
            .map(|(ps, ls)| {
                let slots = if training { &block_slots[..] } else { &[][..] };
                let masks = compare_tile(&comparator, &pool, slots, ps, ls);
                if training {
                    tile_patterns(&masks, ls, nf)
                } else {
                    Vec::new()
                }
            })
            .collect();
        for (k, c) in tiles.into_iter().flatten() {
            *pattern_counts.entry(k).or_insert(0) += c;
        }
    }
    report("comparing", n_pairs as u64, n_pairs as u64);
    lap("comparing", &mut timings);

    let (model, trained) = match options.model.clone() {
        Some(m) => (m, false),
        None => {
            check_cancel(cancel)?;
            report("u sample", 0, schema.link.u_sample_pairs as u64);
            let u = sample::estimate_u(
                &pool,
                &comparator,
                schema.link.u_sample_pairs,
                schema.link.seed,
                cancel,
            )?;
            lap("u sample", &mut timings);
            check_cancel(cancel)?;
            report("EM", 0, 0);
            let patterns = Patterns::from_counts(nf, std::mem::take(&mut pattern_counts));
            if patterns.is_empty() {
                return Err(Error::Invalid(
                    "blocking produced no candidate pair, so there is nothing to train the model on: check the blocking rules, or give a trained model (--model)".into(),
                ));
            }
            let fit = train::train(
                schema,
                &comparator,
                &patterns,
                &u.u,
                sample::possible_pairs(&pool),
                max_matches(&pool),
                |pairs| starting_lambda(&pool, pairs),
            );
            lap("EM", &mut timings);
            (
                Model::new(
                    schema,
                    &comparator,
                    &u,
                    &fit,
                    n_pairs as u64,
                    patterns.len() as u64,
                ),
                true,
            )
        }
    };

    check_cancel(cancel)?;
    report("scoring", 0, n_pairs as u64);
    let tf = TermFrequencies::new(&pool, &comparator);
    let scorer = Scorer::new(&model, &comparator, tf);
    let weights: Vec<f64> = blocking
        .pairs
        .par_iter()
        .zip(levels.par_chunks(nf.max(1)))
        .map(|(p, l)| scorer.weight(l, unpack_pair(*p).0))
        .collect();
    lap("scoring", &mut timings);

    check_cancel(cancel)?;
    report("resolving", 0, 0);
    let scored = ScoredPairs {
        pairs: &blocking.pairs,
        weights: &weights,
    };
    let (links, resolution) = resolve_links(&pool, scored, &options);
    lap("resolving", &mut timings);

    Ok(Linkage {
        pool,
        comparator,
        model,
        trained,
        blocking,
        levels,
        weights,
        links,
        resolution,
        timings,
        threshold: options.threshold,
        review_threshold: options.review_threshold,
        scorer,
    })
}

/// Compares a tile of candidate pairs (sorted by first record, so their first records are few and
/// stay in cache) in order of their second record, so the second records' rows are read in
/// increasing address order rather than at random; writes each pair's levels at its own place.
/// Returns, per pair, the blocking rules among `block_slots` (bit `r` for the `r`-th) whose token
/// the pair shares (empty when `block_slots` is).
fn compare_tile(
    comparator: &Comparator,
    pool: &Pool,
    block_slots: &[usize],
    pairs: &[u64],
    levels: &mut [u8],
) -> Vec<u64> {
    let nf = comparator.n_fields();
    let mut order: Vec<u64> = pairs
        .iter()
        .enumerate()
        .map(|(k, p)| (u64::from(unpack_pair(*p).1) << 32) | k as u64)
        .collect();
    order.sort_unstable();
    let mut masks = if block_slots.is_empty() {
        Vec::new()
    } else {
        vec![0u64; pairs.len()]
    };
    for o in order {
        let k = (o & 0xFFFF_FFFF) as usize;
        let (Some(p), Some(l)) = (pairs.get(k), levels.get_mut(k * nf..(k + 1) * nf)) else {
            continue;
        };
        let (a, b) = unpack_pair(*p);
        comparator.compare(pool, a, b, l);
        if let Some(m) = masks.get_mut(k) {
            for (r, s) in block_slots.iter().enumerate().take(64) {
                if let (Some(x), Some(y)) = (pool.token(a, *s), pool.token(b, *s)) {
                    if x == y {
                        *m |= 1u64 << r;
                    }
                }
            }
        }
    }
    masks
}

type TileCounts = Vec<((Vec<u8>, u64), u64)>;

/// The comparison patterns of a tile of compared pairs, each with its rule bits.
fn tile_patterns(masks: &[u64], levels: &[u8], nf: usize) -> TileCounts {
    let mut counts: HashMap<(&[u8], u64), u64> = HashMap::new();
    for (m, l) in masks.iter().zip(levels.chunks_exact(nf.max(1))) {
        *counts.entry((l, *m)).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|((l, m), c)| ((l.to_vec(), m), c))
        .collect()
}

/// The most matches the pool can plausibly hold: twice the smaller source of each pair of sources
/// (one partner per record, with room for duplicates), or the number of records deduplicating.
fn max_matches(pool: &Pool) -> f64 {
    let sizes = pool.source_sizes();
    if pool.is_dedupe() {
        return pool.len() as f64;
    }
    let mut total = 0.0;
    for (s, a) in sizes.iter().enumerate() {
        for b in &sizes[s + 1..] {
            total += 2.0 * (*a).min(*b) as f64;
        }
    }
    total
}

/// A starting prior for EM: at most one match per record of the smallest source (half of it
/// linking), or one duplicate per ten records deduplicating, among the candidate pairs.
fn starting_lambda(pool: &Pool, n_pairs: u64) -> f64 {
    let expected = if pool.is_dedupe() {
        pool.len() as f64 / 10.0
    } else {
        pool.source_sizes().into_iter().min().unwrap_or(0) as f64 / 2.0
    };
    (expected / n_pairs.max(1) as f64).clamp(1e-4, 0.5)
}

/// Resolves scored pairs into output rows, sorted by left source and id, then right.
fn resolve_links(
    pool: &Pool,
    scored: ScoredPairs<'_>,
    options: &LinkOptions,
) -> (Vec<Link>, ResolutionReport) {
    let mut links = Vec::new();
    let mut report = ResolutionReport {
        cluster_support: options.cluster_support,
        ..ResolutionReport::default()
    };
    let row = |k: usize, band: Band, cluster: u32| {
        let (left, right) = unpack_pair(scored.pairs[k]);
        Link {
            left,
            right,
            weight: scored.weights[k],
            probability: scored.probability(k),
            band,
            cluster,
        }
    };
    if options.one_to_one {
        report.method = "one_to_one".into();
        let accepted = resolve::one_to_one(pool, scored, options.threshold);
        for (k, ok) in accepted.iter().enumerate() {
            let p = scored.probability(k);
            if *ok {
                links.push(row(k, Band::Match, 0));
            } else if p >= options.threshold {
                report.displaced_pairs += 1;
            } else if p >= options.review_threshold {
                links.push(row(k, Band::Review, 0));
            }
        }
    } else {
        report.method = "clusters".into();
        let c = resolve::cluster(
            pool,
            scored,
            options.threshold,
            options.review_threshold,
            options.cluster_support,
        );
        report.clusters = c.clusters;
        report.refused_merges = c.refused_merges;
        for k in 0..scored.pairs.len() {
            let (a, b) = unpack_pair(scored.pairs[k]);
            let (ca, cb) = (c.cluster_of[a as usize], c.cluster_of[b as usize]);
            if ca != 0 && ca == cb {
                links.push(row(k, Band::Match, ca));
            } else if scored.probability(k) >= options.review_threshold {
                links.push(row(k, Band::Review, 0));
            }
        }
    }
    links.sort_by(|x, y| {
        let key = |l: &Link| {
            (
                pool.source(l.left),
                pool.record(l.left).id.as_str(),
                pool.source(l.right),
                pool.record(l.right).id.as_str(),
            )
        };
        key(x).cmp(&key(y))
    });
    if options.one_to_one {
        // Number accepted pairs in output order.
        let mut next = 0;
        for l in links.iter_mut().filter(|l| l.band == Band::Match) {
            next += 1;
            l.cluster = next;
        }
        report.clusters = u64::from(next);
    }
    (links, report)
}

impl Linkage {
    /// Counts of output rows per band: `(match, review)`.
    pub fn band_counts(&self) -> (u64, u64) {
        let m = self.links.iter().filter(|l| l.band == Band::Match).count() as u64;
        (m, self.links.len() as u64 - m)
    }

    /// The scorer (model and term frequencies) of this run.
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }
}
