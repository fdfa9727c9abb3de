//! Linking: the linkage unit's side. Encoded extracts in; scored, resolved links out.
//!
//! The public surface is what a user of the library needs: [`crate::run::link`], the one entry
//! point, produces a [`Linkage`] (in [`crate::run::Linked`]), read through its methods and
//! [`Linkage::explain`]; the [`LinkOptions`]; the trained [`model`]; [`evaluate`] against known
//! true pairs. [`distributed`] holds the few parts a distributed engine (Spark) needs to link at
//! scale with the same answers: blocking columns, comparison vectors and weights of batches of
//! pairs. The stages are private to the crate, each in its own module, and none imports a module
//! above it (a test in `crate::module_graph` fails on a cycle):
//!
//! 1. `pool`: the records of every source, addressed by `u32` indices, with compact comparison
//!    rows;
//! 2. `block`: candidate pairs, the union over the blocking rules, oversized blocks skipped,
//!    enumerated block by block (never stored) in tasks that `scan` runs: a first pass compares
//!    and counts comparison patterns, a second scores;
//! 3. `compare`: a comparison vector (one level per compared field, see `levels`) per pair, with
//!    the `dice` kernel on Bloom filters, or `clear` string comparators in cleartext mode;
//! 4. `sample`, `em` and `train`: the Fellegi-Sunter [`model`]: u from random pairs, m and λ by EM
//!    over the distinct comparison patterns, optionally with `term_frequency` adjustment (the
//!    shared probability arithmetic is in `probability`); `formed` estimates the share of
//!    matches blocking forms, for the implied number of matches;
//! 5. `resolve`: clusters (default) or a one-to-one assignment;
//! 6. [`evaluate`]: precision, recall and F1 against known true pairs.
//!
//! `link_pool` (here) runs stages 2 to 5 on records in memory, told and cancelled through a
//! [`RunControl`]; [`crate::run::link`] reads and checks the inputs and calls it.
//! `docs/linking.md` explains each stage and the choices made.
//!
//! Not run (it needs two encoded extracts on disk):
//!
//! ```no_run
//! use std::path::Path;
//! use pseudolink::control::RunControl;
//! use pseudolink::run::{link, LinkInput, LinkRun};
//! use pseudolink::Schema;
//!
//! let schema = Schema::from_file(Path::new("schema.json")).unwrap();
//! let run = LinkRun::new(vec![
//!     LinkInput::file("school.encoded.csv", false),
//!     LinkInput::file("family_hub.encoded.csv", false),
//! ]);
//! let linked = link(&schema, run, &RunControl::new()).unwrap();
//! let (matches, reviews) = linked.linkage().band_counts();
//! println!("{matches} matches, {reviews} for review");
//! println!("{}", linked.linkage().explain("a1", "b1").unwrap());
//! linked.write(Path::new("links.csv"), None).unwrap();   // and links.csv.summary.json
//! ```

pub(crate) mod block;
pub(crate) mod clear;
pub(crate) mod compare;
pub mod competition;
#[doc(hidden)]
pub mod dice;
pub mod distributed;
pub(crate) mod em;
pub mod evaluate;
mod explain;
pub(crate) mod formed;
pub(crate) mod levels;
mod linkage;
pub mod model;
mod outcome;
pub(crate) mod pool;
pub(crate) mod probability;
pub(crate) mod resolve;
pub(crate) mod sample;
pub(crate) mod scan;
pub(crate) mod term_frequency;
pub(crate) mod train;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

use std::time::Instant;

use competition::Competition;

use rayon::prelude::*;

use crate::control::{Progress, RunControl};
use crate::error::{Error, Result};
use crate::schema::Schema;

use block::Blocking;
use compare::Comparator;
use em::{Patterns, UTable};
use model::{Model, Scorer};
use pool::{pack_pair, unpack_pair};
use resolve::ScoredPairs;
use sample::UEstimate;
use scan::{PatternTable, TaskPatterns};
use term_frequency::TermFrequencies;

pub use block::{RuleCount, SkippedBlock};
pub use explain::Explanation;
pub use linkage::Linkage;
pub use outcome::{Band, Link, ResolutionReport, StageTime};
/// The records of a linking run, pooled from every source: what [`link_pool`] takes (the fuzz
/// target's records in memory); [`crate::run::link`] builds it. Not API.
#[doc(hidden)]
pub use pool::Pool;
pub use resolve::DEFAULT_CLUSTER_SUPPORT;

pub(crate) use outcome::process_cpu_seconds;

/// Default match threshold (probability).
pub const DEFAULT_THRESHOLD: f64 = 0.9;
/// Default review threshold (probability).
pub const DEFAULT_REVIEW_THRESHOLD: f64 = 0.5;

/// Blocking tasks run in parallel between progress reports and cancel checks.
const TASKS_PER_CHUNK: usize = 64;

/// Options of [`link_pool`].
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Pairs at or above this match probability are links.
    pub threshold: f64,
    /// Pairs at or above this (and below `threshold`, or not linked) are for clerical review.
    pub review_threshold: f64,
    /// Strict one-to-one assignment instead of clusters (two sources only).
    pub one_to_one: bool,
    /// The clustering guard's required share of supported cross pairs (see `resolve`).
    pub cluster_support: f64,
    /// A trained model to use instead of training one.
    pub model: Option<Model>,
    /// The inputs' pair statistics (from their manifests), which give the u probabilities of
    /// encoded extracts; unused in cleartext mode and with a model.
    pub pair_stats: Vec<crate::encode::pair_stats::PairStats>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            threshold: DEFAULT_THRESHOLD,
            review_threshold: DEFAULT_REVIEW_THRESHOLD,
            one_to_one: false,
            cluster_support: resolve::DEFAULT_CLUSTER_SUPPORT,
            model: None,
            pair_stats: Vec::new(),
        }
    }
}

impl LinkOptions {
    /// The defaults with match threshold `threshold`, and the review threshold the default
    /// ([`DEFAULT_REVIEW_THRESHOLD`]) or `threshold` when that is lower: for a caller that gives
    /// only a match threshold (C's `pl_link_files`), which [`LinkOptions::validate`] would
    /// otherwise refuse below the default review threshold. A threshold that is not a
    /// probability is kept for [`LinkOptions::validate`] to refuse.
    ///
    /// ```
    /// use pseudolink::link::LinkOptions;
    ///
    /// assert_eq!(LinkOptions::with_threshold(0.9).review_threshold, 0.5);
    /// assert_eq!(LinkOptions::with_threshold(0.3).review_threshold, 0.3);
    /// ```
    pub fn with_threshold(threshold: f64) -> Self {
        let review_threshold = if threshold.is_finite() && threshold < DEFAULT_REVIEW_THRESHOLD {
            threshold
        } else {
            DEFAULT_REVIEW_THRESHOLD
        };
        LinkOptions {
            threshold,
            review_threshold,
            ..LinkOptions::default()
        }
    }

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

/// Checks that the comparisons of `schema` can be built, for encoded extracts or (`clear`) for
/// cleartext: what linking checks before it reads a record. Not API (the schema tests use it).
#[doc(hidden)]
pub fn check_comparisons(schema: &Schema, clear: bool) -> Result<()> {
    Comparator::new(schema, clear).map(drop)
}

/// Links the records of `pool` under `schema`: blocking, comparison, model (trained unless given),
/// scoring, resolution. `clear` selects cleartext comparators (the pool must carry cleartext).
/// `control` is told the progress and timings of each stage and may cancel the run. Not API:
/// [`crate::run::link`] is the entry point (the fuzz target drives this one on records in memory).
#[doc(hidden)]
pub fn link_pool(
    schema: &Schema,
    pool: Pool,
    clear: bool,
    options: LinkOptions,
    control: &RunControl<'_>,
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
        control.report(Progress::stage(stage, done, total));
    };
    let cancel = control.cancel_flag();
    let comparator = Comparator::new(schema, clear)?;
    if let Some(m) = &options.model {
        m.check_fits(schema, &comparator)?;
    }
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut cpu = process_cpu_seconds();
    let mut lap = |stage: &'static str, timings: &mut Vec<StageTime>| {
        let now = process_cpu_seconds();
        let took = clock.elapsed();
        control.record(stage, took);
        timings.push(StageTime {
            stage: stage.to_string(),
            seconds: took.as_secs_f64(),
            cpu_seconds: now.zip(cpu).map(|(b, a)| b - a),
        });
        clock = Instant::now();
        cpu = now;
    };

    report("blocking", 0, 0);
    let mut pool = pool;
    pool.prepare(schema);
    let mut blocking = block::candidate_pairs(schema, &pool, cancel)?;
    lap("blocking", &mut timings);

    let nf = comparator.n_fields();
    let plan = std::mem::take(&mut blocking.plan);
    let tasks = plan.tasks();
    let total_pairs: u64 = tasks.iter().map(|t| t.pairs).sum();
    let rule_columns: Vec<Vec<usize>> = (0..schema.link.blocking.len().min(64))
        .map(|r| schema.blocking_columns(r))
        .collect();
    let review = options.review_threshold;

    // With a model given: one pass compares and scores. Otherwise compare, train, then score.
    let (mut model, trained, scorer, scored) = match options.model.clone() {
        Some(model) => {
            let tf = TermFrequencies::new(&pool, &comparator);
            let scorer = Scorer::new(&model, &comparator, tf);
            let mut scored = Vec::new();
            let mut kept = Vec::with_capacity(tasks.len());
            let mut done = 0u64;
            for chunk in tasks.chunks(TASKS_PER_CHUNK) {
                control.check_cancel()?;
                report("comparing", done, total_pairs);
                let parts: Vec<(Vec<(u64, f64)>, u64)> = chunk
                    .par_iter()
                    .map(|t| {
                        scan::compare_and_score_task(&comparator, &pool, &plan, t, &scorer, review)
                    })
                    .collect();
                for (p, k) in parts {
                    scored.extend(p);
                    kept.push(k);
                }
                done += chunk.iter().map(|t| t.pairs).sum::<u64>();
            }
            blocking.count_new(tasks, &kept);
            report("comparing", total_pairs, total_pairs);
            lap("comparing", &mut timings);
            (model, false, scorer, scored)
        }
        None => {
            let mut found: Vec<TaskPatterns> = Vec::with_capacity(tasks.len());
            let mut done = 0u64;
            for chunk in tasks.chunks(TASKS_PER_CHUNK) {
                control.check_cancel()?;
                report("comparing", done, total_pairs);
                let parts: Vec<TaskPatterns> = chunk
                    .par_iter()
                    .map(|t| scan::compare_task(&comparator, &pool, &plan, t, &rule_columns))
                    .collect();
                found.extend(parts);
                done += chunk.iter().map(|t| t.pairs).sum::<u64>();
            }
            let kept: Vec<u64> = found.iter().map(|t| t.kept).collect();
            blocking.count_new(tasks, &kept);
            let table = PatternTable::merge(&mut found);
            report("comparing", total_pairs, total_pairs);
            lap("comparing", &mut timings);

            control.check_cancel()?;
            report("u sample", 0, schema.link.u_sample_pairs as u64);
            let u = if clear {
                UEstimate::from_random_pairs(
                    &pool,
                    &comparator,
                    schema.link.u_sample_pairs,
                    schema.link.seed,
                    cancel,
                )?
            } else {
                let stats: Vec<&crate::encode::pair_stats::PairStats> =
                    options.pair_stats.iter().collect();
                UEstimate::from_pair_stats(schema, &comparator, &stats)?
            };
            lap("u sample", &mut timings);
            control.check_cancel()?;
            report("EM", 0, 0);
            let patterns = Patterns::from_counts(nf, table.counts_by_key(nf));
            if patterns.is_empty() {
                return Err(Error::Invalid(
                    "blocking produced no candidate pair, so there is nothing to train the model on: check the blocking rules, or give a trained model (--model)".into(),
                ));
            }
            let utable = UTable {
                u: &u.u,
                u_household: &u.u_household,
                household: comparator.household(),
            };
            let fit = train::train(
                schema,
                &comparator,
                &patterns,
                &utable,
                sample::possible_pairs(&pool),
                max_matches(&pool),
                |pairs| starting_lambda(&pool, pairs),
            );
            lap("EM", &mut timings);
            let model = Model::new(
                schema,
                &comparator,
                &u,
                &fit,
                blocking.candidate_pairs,
                patterns.len() as u64,
            );

            control.check_cancel()?;
            report("scoring", 0, total_pairs);
            let tf = TermFrequencies::new(&pool, &comparator);
            let scorer = Scorer::new(&model, &comparator, tf);
            let weights = scan::pattern_weights(&table, &scorer, nf);
            let mut scored = Vec::new();
            let mut done = 0u64;
            for (c, chunk) in tasks.chunks(TASKS_PER_CHUNK).enumerate() {
                control.check_cancel()?;
                report("scoring", done, total_pairs);
                let first = c * TASKS_PER_CHUNK;
                let parts: Vec<Vec<(u64, f64)>> = chunk
                    .par_iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let k = first + i;
                        scan::score_task(
                            &pool,
                            &plan,
                            t,
                            &found[k],
                            &table.numbering[k],
                            &table,
                            &weights,
                            &scorer,
                            nf,
                            review,
                        )
                    })
                    .collect();
                for p in parts {
                    scored.extend(p);
                }
                done += chunk.iter().map(|t| t.pairs).sum::<u64>();
            }
            (model, true, scorer, scored)
        }
    };
    lap("scoring", &mut timings);
    blocking.plan = plan;

    control.check_cancel()?;
    report("resolving", 0, 0);
    let mut scored = scored;
    scored.par_sort_unstable_by_key(|x| x.0);
    let (review_pairs, mut review_weights): (Vec<u64>, Vec<f64>) = scored.into_iter().unzip();
    // Competing links: estimated from this run's pairs when training, else the given model's.
    // The standings are read once, before any weight is added, for the estimate and the weights.
    let weighs = !pool.is_dedupe()
        && if trained {
            schema.link.competition
        } else {
            model.competition.is_some()
        };
    let review_standings = if weighs {
        competition::standings(&pool, &review_pairs, &review_weights)
    } else {
        Vec::new()
    };
    if trained {
        model.competition =
            weighs.then(|| Competition::from_standings(&review_standings, &review_weights));
    }
    if let Some(c) = model.competition.as_ref().filter(|_| weighs) {
        c.add_weights(&review_standings, &mut review_weights);
    }
    let scored = ScoredPairs {
        pairs: &review_pairs,
        weights: &review_weights,
    };
    let cut = scan::weight_cut(review);
    let inside = |members: &[u32]| -> Vec<(u64, f64)> {
        inside_pairs(&pool, &comparator, &blocking, &scorer, members)
            .into_iter()
            .filter(|(_, w)| !scan::reaches(*w, cut, review))
            .collect()
    };
    let (links, resolution) = resolve_links(&pool, scored, &options, &inside);
    lap("resolving", &mut timings);

    Ok(Linkage {
        pool,
        comparator,
        model,
        trained,
        blocking,
        review_pairs,
        review_weights,
        review_standings,
        links,
        resolution,
        timings,
        threshold: options.threshold,
        review_threshold: options.review_threshold,
        scorer,
    })
}

/// The candidate pairs among `members` (pool indices, ascending) with their weights.
fn inside_pairs(
    pool: &Pool,
    comparator: &Comparator,
    blocking: &Blocking,
    scorer: &Scorer,
    members: &[u32],
) -> Vec<(u64, f64)> {
    let mut out = Vec::new();
    let mut levels = vec![0u8; comparator.n_fields()];
    for (x, &a) in members.iter().enumerate() {
        let ra = pool.row(a);
        for &b in &members[x + 1..] {
            if !pool.pair_allowed(a, b) {
                continue;
            }
            let rb = pool.row(b);
            if !blocking.plan.is_candidate(&ra, &rb) {
                continue;
            }
            comparator.compare_rows(pool, (a, &ra), (b, &rb), &mut levels);
            out.push((pack_pair(a, b), scorer.weight(&levels, a)));
        }
    }
    out
}

/// The most matches the pool can plausibly hold: twice the smaller source of each pair of sources
/// (one partner per record, with room for duplicates), or the number of records deduplicating.
fn max_matches(pool: &Pool) -> f64 {
    sample::max_matches_of(&pool.source_sizes())
}

/// A starting prior for EM: at most one match per record of the smallest source (half of it
/// linking), or one duplicate per ten records deduplicating, among the candidate pairs.
fn starting_lambda(pool: &Pool, n_pairs: u64) -> f64 {
    sample::starting_lambda_of(&pool.source_sizes(), n_pairs)
}

/// Gives the candidate pairs among a cluster's members that resolution was not given, with their
/// weights (see [`resolve_links`]).
type InsidePairs<'a> = dyn Fn(&[u32]) -> Vec<(u64, f64)> + 'a;

/// Resolves scored pairs into output rows, sorted by left source and id, then right. `scored`
/// holds at least every candidate pair at or above the review threshold (resolution reads no
/// other); `inside` gives, for the members of a cluster (ascending), the candidate pairs among them
/// that `scored` lacks, with their weights, which are listed as matches too.
fn resolve_links(
    pool: &Pool,
    scored: ScoredPairs<'_>,
    options: &LinkOptions,
    inside: &InsidePairs<'_>,
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
        // The other candidate pairs inside each cluster (below the review threshold).
        let mut starts = vec![0usize; c.clusters as usize + 2];
        for &n in &c.cluster_of {
            if n != 0 {
                starts[n as usize + 1] += 1;
            }
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut members = vec![0u32; starts[starts.len() - 1]];
        let mut fill = starts.clone();
        for (i, &n) in c.cluster_of.iter().enumerate() {
            if n != 0 {
                members[fill[n as usize]] = i as u32;
                fill[n as usize] += 1;
            }
        }
        for n in 1..=c.clusters as usize {
            for (p, w) in inside(&members[starts[n]..starts[n + 1]]) {
                let (left, right) = unpack_pair(p);
                links.push(Link {
                    left,
                    right,
                    weight: w,
                    probability: probability::probability(w),
                    band: Band::Match,
                    cluster: n as u32,
                });
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
