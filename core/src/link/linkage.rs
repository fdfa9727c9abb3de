//! [`Linkage`]: the outcome of linking, its records, model and links, with the accessors a library
//! user reads them through (explaining a pair is in `explain`).

use super::block::{Blocking, RuleCount, SkippedBlock};
use super::compare::Comparator;
use super::model::{Model, Scorer};
use super::outcome::{Band, Link, ResolutionReport, StageTime};
use super::pool::Pool;

/// The outcome of linking, holding what is needed to explain any pair ([`Linkage::explain`]).
/// Read it through its methods; the run's internals (blocking plan, comparator, scorer) stay in the
/// crate.
#[derive(Debug, Clone)]
pub struct Linkage {
    /// The records.
    pub(crate) pool: Pool,
    /// The comparator.
    pub(crate) comparator: Comparator,
    /// The model used (trained here, or given).
    pub(crate) model: Model,
    /// Whether the model was trained in this run.
    pub(crate) trained: bool,
    /// Blocking outcome (candidate pairs, counts per rule, skipped blocks).
    pub(crate) blocking: Blocking,
    /// The candidate pairs whose match probability reached the review threshold (what resolution
    /// works on), packed with `pool::pack_pair` and sorted. `Linkage::candidates` gives every
    /// candidate pair.
    #[cfg_attr(not(test), allow(dead_code, reason = "the tests compare runs by them"))]
    pub(crate) review_pairs: Vec<u64>,
    /// Match weight of each of `review_pairs`.
    #[cfg_attr(not(test), allow(dead_code, reason = "the tests compare runs by them"))]
    pub(crate) review_weights: Vec<f64>,
    /// Standing of each of `review_pairs` among the others (competing links); empty when the
    /// model does not weigh them.
    pub(crate) review_standings: Vec<super::competition::Standing>,
    /// The output rows, sorted by left source and id, then right source and id.
    pub(crate) links: Vec<Link>,
    /// What resolution did.
    pub(crate) resolution: ResolutionReport,
    /// Time per stage.
    pub(crate) timings: Vec<StageTime>,
    /// The options used (without the model).
    pub(crate) threshold: f64,
    /// The review threshold used.
    pub(crate) review_threshold: f64,
    pub(crate) scorer: Scorer,
}

impl Linkage {
    /// Counts of output rows per band: `(match, review)`.
    pub fn band_counts(&self) -> (u64, u64) {
        let m = self.links.iter().filter(|l| l.band == Band::Match).count() as u64;
        (m, self.links.len() as u64 - m)
    }

    /// The output rows, sorted by left source and id, then right source and id. `left` and
    /// `right` are record indices: see [`Linkage::record_id`] and [`Linkage::source_of`].
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The records linked, from every source, addressed by the indices of [`Link`].
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The id of the record at index `record` (as in [`Link::left`]).
    ///
    /// # Panics
    ///
    /// When `record` is not an index of this run's records.
    pub fn record_id(&self, record: u32) -> &str {
        &self.pool.record(record).id
    }

    /// The source (input number, from 0) of the record at index `record`.
    ///
    /// # Panics
    ///
    /// When `record` is not an index of this run's records.
    pub fn source_of(&self, record: u32) -> u16 {
        self.pool.source(record)
    }

    /// Whether the run deduplicated one source (rather than linking several).
    pub fn is_dedupe(&self) -> bool {
        self.pool.is_dedupe()
    }

    /// The number of records of each source, in input order.
    pub fn source_sizes(&self) -> Vec<usize> {
        self.pool.source_sizes()
    }

    /// The model used: trained in this run, or given.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether the model was trained in this run (rather than given).
    pub fn trained(&self) -> bool {
        self.trained
    }

    /// The number of distinct candidate pairs the blocking rules produced.
    pub fn candidate_pairs(&self) -> u64 {
        self.blocking.candidate_pairs
    }

    /// Candidate pairs and blocks per blocking rule.
    pub fn rule_counts(&self) -> &[RuleCount] {
        &self.blocking.rules
    }

    /// The blocks skipped as oversized.
    pub fn skipped_blocks(&self) -> &[SkippedBlock] {
        &self.blocking.skipped
    }

    /// What resolution (clustering or one-to-one assignment) did.
    pub fn resolution(&self) -> &ResolutionReport {
        &self.resolution
    }

    /// Time spent per stage.
    pub fn timings(&self) -> &[StageTime] {
        &self.timings
    }

    /// The match threshold used.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The review threshold used.
    pub fn review_threshold(&self) -> f64 {
        self.review_threshold
    }

    /// The scorer (model and term frequencies) of this run.
    pub(crate) fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// Every candidate pair (packed, ascending) with its comparison vector and match weight,
    /// compared and scored again: a run keeps only the pairs that reach the review threshold, so
    /// this costs a comparison of every candidate pair.
    #[cfg(test)]
    pub(crate) fn candidates(&self) -> Vec<(u64, Vec<u8>, f64)> {
        use super::pool::pack_pair;
        use rayon::prelude::*;
        let plan = &self.blocking.plan;
        let nf = self.comparator.n_fields();
        let mut out: Vec<(u64, Vec<u8>, f64)> = plan
            .tasks()
            .par_iter()
            .map(|t| {
                let mut part = Vec::new();
                plan.for_each_pair(&self.pool, t, |a, ra, b, rb| {
                    let mut levels = vec![0u8; nf];
                    self.comparator
                        .compare_rows(&self.pool, (a, ra), (b, rb), &mut levels);
                    let w = self.scorer.weight(&levels, a);
                    part.push((pack_pair(a, b), levels, w));
                });
                part
            })
            .flatten_iter()
            .collect();
        out.par_sort_unstable_by_key(|x| x.0);
        out
    }
}
