//! What a distributed engine (Spark's `mapInArrow`, Dask, Ray) needs to link encoded extracts
//! with the same answers as [`link_pool`](super::link_pool) and `pseudolink link`, without this
//! crate's in-memory stages: which extract column each blocking rule joins on, and, for a batch
//! of candidate pairs, their comparison vectors and match weights under a trained model.
//!
//! The engine forms the candidate pairs itself, as `link` defines them (docs/linking.md §2): for
//! each blocking rule, the pairs of records from different sources (deduplicating: of the one
//! source) that hold the same token of the rule's column ([`BlockingColumn`]; each element of a
//! token set is a token), skipping a block (one token's records) when it holds more than
//! `schema.link.max_block_size` records of any one source; each pair once over all rules. It then
//! sends batches of pairs to [`PairScorer`], which compares them with the crate's own comparator
//! (the code `link` runs) and scores them with the crate's own scorer.
//!
//! **Training** without a model is split the same way: the engine counts the candidate pairs per
//! [`PairScorer::patterns`] key (a comparison vector and the blocking rules whose tokens the
//! pair shares: what `link` counts), aggregates the counts on the cluster, and hands the few
//! thousand distinct patterns to [`train_model`] on the driver, which fits them with `link`'s own
//! training (u from the extracts' pair statistics, m by EM sessions per training rule, λ by fixed
//! point). Given the same candidate pairs and manifests, the model is the one `link` trains.
//!
//! **Competing links** (`link.competition`, [`competition`](super::competition)) read, for each
//! pair at or above the review threshold, its two records' other such pairs: the engine groups
//! those pairs by (record, other record's source) for the best match weight and the number of
//! pairs, joins both records' aggregates back to each pair, and [`Standing::from_neighbours`]
//! gives its standing, as `link` reads it. Training, the engine sums the pairs' match
//! probabilities (and one minus them) per standing and [`Competition::from_sums`] gives the
//! model's weights on the driver; [`PairScorer::compete`] then adds a pair's standing weight.
//! [`competes`] says whether a run weighs competing links at all.
//!
//! **Resolution** splits along the connected components of the pairs at or above the match
//! threshold: every decision of `link`'s clustering (the guard's merges in weight order) and of
//! its one-to-one assignment is taken inside one such component, so the engine finds the
//! components and hands each, with its scored pairs, to [`resolve_component`].
//!
//! ```
//! use pseudolink::link::distributed::{blocking_columns, PairScorer};
//! use pseudolink::{Encoder, Schema, Secret};
//!
//! let schema = Schema::example();
//! let encoder = Encoder::new(&schema, &Secret::generate().unwrap());
//! let mut scratch = encoder.scratch();
//! let mut encode = |row: [&str; 9]| encoder.encode_values(&row, &mut scratch).unwrap().0;
//! let a = encode(["a1", "Anna", "", "Smith", "2014-03-09", "F", "CV1 2AB", "1 high st", ""]);
//! let b = encode(["b1", "Ana", "", "Smith", "2014-03-09", "F", "CV1 2AB", "1 high st", ""]);
//!
//! let rules = blocking_columns(&schema).unwrap();
//! assert!(!rules.is_empty());
//! let scorer = PairScorer::new(&schema, None).unwrap();
//! let levels = scorer.compare(vec![(a, b)]).unwrap();
//! assert_eq!(levels[0].len(), scorer.comparisons().len());
//! ```

use std::collections::HashMap;

use crate::encode::layout::{Layout, Slot};
use crate::encode::pair_stats::PairStats;
use crate::encode::EncodedRecord;
use crate::error::{Error, Location, Result};
use crate::io::manifest::Manifest;
use crate::schema::Schema;

use super::compare::Comparator;
use super::competition::Competition;
#[cfg(doc)]
use super::competition::Standing;
use super::em::{Patterns, UTable};
use super::model::{Model, Scorer};
use super::pool::{pack_pair, Pool};
use super::resolve::ScoredPairs;
use super::sample::UEstimate;
use super::term_frequency::TermFrequencies;

/// The extract column one blocking rule joins on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingColumn {
    /// The rule's name (as in the run summary's `blocking` counts).
    pub rule: String,
    /// The encoded extract's column holding the rule's tokens.
    pub column: String,
    /// Whether the column is a token set: its cell is its tokens of
    /// [`SET_ELEMENT_HEX`] hex characters one after another, and the record is in the block of
    /// each.
    pub set: bool,
    /// A crossed rule's second column ([`BlockingRule`](crate::schema::BlockingRule)): the
    /// record's block is then its two cells as an unordered pair (the smaller first), when it
    /// has both.
    pub crossed: Option<String>,
}

/// Hex characters of one element of a token set cell.
pub const SET_ELEMENT_HEX: usize = crate::encode::record::SET_ELEMENT_HEX;

/// The blocking rules of `schema`, in order, with the column each joins on.
///
/// Errors (as `link` does) when a rule's token column is not in the extracts.
pub fn blocking_columns(schema: &Schema) -> Result<Vec<BlockingColumn>> {
    let layout = Layout::new(schema);
    schema
        .link
        .blocking
        .iter()
        .enumerate()
        .map(|(r, rule)| {
            let missing = || {
                Error::schema(
                    format!("link.blocking[{r}]"),
                    "the rule's token column is not in the extracts",
                )
            };
            let column_of = |keys: &[String]| {
                let token = schema.token_index(keys).ok_or_else(missing)?;
                let slot = layout.tokens.get(token).ok_or_else(missing)?.slot;
                let column = layout
                    .columns
                    .iter()
                    .find(|c| c.slot == slot)
                    .ok_or_else(missing)?;
                Ok::<_, Error>((column.name.clone(), slot))
            };
            let (column, slot) = column_of(&rule.keys)?;
            let crossed = match rule.crossed_keys() {
                Some(keys) => Some(column_of(&keys)?.0),
                None => None,
            };
            Ok(BlockingColumn {
                rule: rule.name(),
                column,
                set: matches!(slot, Slot::Set(_)),
                crossed,
            })
        })
        .collect()
}

/// The match probability of a match weight: `2^w / (1 + 2^w)`, as `link` computes it.
pub fn probability(weight: f64) -> f64 {
    super::probability::probability(weight)
}

/// Compares (and, with a model, scores) batches of candidate pairs of encoded records, with the
/// comparator and scorer `link` uses.
#[derive(Debug, Clone)]
pub struct PairScorer {
    schema: Schema,
    layout: Layout,
    comparator: Comparator,
    scorer: Option<Scorer>,
    competition: Option<Competition>,
}

impl PairScorer {
    /// The comparer of `schema` (encoded extracts, not cleartext), scoring with `model` when
    /// given. Errors when the schema's comparisons cannot be built or the model does not fit the
    /// schema (as `link --model` does).
    pub fn new(schema: &Schema, model: Option<&Model>) -> Result<PairScorer> {
        let comparator = Comparator::new(schema, false)?;
        let scorer = match model {
            Some(m) => {
                m.check_fits(schema, &comparator)?;
                // Encoded extracts are never adjusted by term frequency.
                Some(Scorer::new(m, &comparator, TermFrequencies::default()))
            }
            None => None,
        };
        Ok(PairScorer {
            schema: schema.clone(),
            layout: Layout::new(schema),
            comparator,
            scorer,
            competition: model.and_then(|m| m.competition.clone()),
        })
    }

    /// The match weight of a pair at or above the review threshold once its standing's weight
    /// is added (the model's competing links), from its match weight before. `weight` unchanged
    /// when the model has no competing links; deduplicating, do not call it (`link` adds none).
    pub fn compete(&self, weight: f64, standing: super::competition::Standing) -> f64 {
        match &self.competition {
            Some(c) => weight + c.weight(standing),
            None => weight,
        }
    }

    /// The names of the comparisons, in the order of a comparison vector.
    pub fn comparisons(&self) -> Vec<String> {
        self.comparator
            .rules()
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    /// The columns of an encoded extract of the schema, `record_id` first: the cells
    /// [`PairScorer::parse_record`] takes, in this order.
    pub fn columns(&self) -> Vec<&str> {
        self.layout.header()
    }

    /// Parses one encoded record from its cells (`None` or empty where a value is missing), in
    /// the order of [`PairScorer::columns`]. Errors name the column, as reading an extract does.
    pub fn parse_record(&self, cells: &[Option<&str>]) -> Result<EncodedRecord> {
        let row: csv::ByteRecord = cells.iter().map(|c| c.unwrap_or("").as_bytes()).collect();
        crate::io::encoded::parse_row(&self.layout, &row).map_err(|(field, message)| {
            Error::input(
                Location {
                    file: None,
                    line: None,
                    field: Some(field),
                },
                message,
            )
        })
    }

    /// The comparison vector of each pair (one level per comparison, see
    /// [`PairScorer::comparisons`]), in order.
    pub fn compare(&self, pairs: Vec<(EncodedRecord, EncodedRecord)>) -> Result<Vec<Vec<u8>>> {
        let (pool, n) = self.pool_of(pairs)?;
        let nf = self.comparator.n_fields();
        Ok((0..n)
            .map(|i| {
                let mut levels = vec![0u8; nf];
                self.comparator.compare(&pool, i, n + i, &mut levels);
                levels
            })
            .collect())
    }

    /// The training key of each pair, in order: its comparison vector (one level per
    /// comparison) followed by the bits of the blocking rules whose tokens both records share
    /// (bit `r` for rule `r`, the first 64 rules), 8 bytes little-endian. `link` counts its
    /// candidate pairs by this key to train; [`train_model`] takes the counts.
    pub fn patterns(&self, pairs: Vec<(EncodedRecord, EncodedRecord)>) -> Result<Vec<Vec<u8>>> {
        let (pool, n) = self.pool_of(pairs)?;
        let nf = self.comparator.n_fields();
        let rule_columns: Vec<Vec<usize>> = (0..self.schema.link.blocking.len().min(64))
            .map(|r| self.schema.blocking_columns(r))
            .collect();
        Ok((0..n)
            .map(|i| {
                let (ra, rb) = (pool.row(i), pool.row(n + i));
                let mut key = vec![0u8; nf + 8];
                self.comparator
                    .compare_rows(&pool, (i, &ra), (n + i, &rb), &mut key[..nf]);
                let bits = super::scan::rule_bits(&rule_columns, &ra, &rb);
                key[nf..].copy_from_slice(&bits.to_le_bytes());
                key
            })
            .collect())
    }

    /// The pairs as a prepared pool (left records first) and their number.
    fn pool_of(&self, pairs: Vec<(EncodedRecord, EncodedRecord)>) -> Result<(Pool, u32)> {
        let n = u32::try_from(pairs.len())
            .ok()
            .filter(|n| *n < u32::MAX / 2)
            .ok_or_else(|| Error::Invalid("too many pairs in one batch".into()))?;
        let (left, right): (Vec<EncodedRecord>, Vec<EncodedRecord>) = pairs.into_iter().unzip();
        let mut pool = Pool::new(
            vec![("left".into(), left), ("right".into(), right)],
            self.layout.n_blooms,
        )?;
        pool.prepare(&self.schema);
        Ok((pool, n))
    }

    /// The match weight of a comparison vector under the model. Errors without a model, or when
    /// `levels` is not a comparison vector of the schema.
    pub fn weight(&self, levels: &[u8]) -> Result<f64> {
        let scorer = self.scorer.as_ref().ok_or_else(|| {
            Error::Invalid("scoring needs a model: PairScorer::new(schema, Some(model))".into())
        })?;
        if levels.len() != self.comparator.n_fields() {
            return Err(Error::Invalid(format!(
                "a comparison vector of {} levels where the schema has {} comparisons",
                levels.len(),
                self.comparator.n_fields()
            )));
        }
        Ok(scorer.weight(levels, 0))
    }
}

/// The pair statistics of the extracts' manifests (each a manifest file's JSON), for
/// [`train_model`]'s u. Errors (as `link` does) when a manifest is not one, or was written under
/// another schema, or when two were encoded with different secrets; a manifest without pair
/// statistics adds none.
pub fn manifest_pair_stats(schema: &Schema, manifests: &[&str]) -> Result<Vec<PairStats>> {
    let mut stats = Vec::new();
    let mut key: Option<crate::secret::KeyCheckValue> = None;
    for (i, text) in manifests.iter().enumerate() {
        let m: Manifest = serde_json::from_str(text).map_err(|e| {
            Error::input(
                Location {
                    file: None,
                    line: Some(e.line() as u64),
                    field: None,
                },
                format!("manifest {i} is not a valid pseudolink manifest: {e}"),
            )
        })?;
        if m.schema_fingerprint != schema.fingerprint() {
            return Err(Error::Mismatch(format!(
                "manifest {i} was encoded under schema {} but this run uses schema {}: link with the schema the agencies encoded with",
                m.schema_fingerprint,
                schema.fingerprint()
            )));
        }
        match &key {
            Some(k) if *k != m.key_check_value => {
                return Err(Error::Mismatch(format!(
                    "manifest {i} was encoded with another secret (key check value {}, not {}): extracts encoded with different secrets cannot be linked",
                    m.key_check_value.as_str(),
                    k.as_str()
                )));
            }
            _ => key = Some(m.key_check_value.clone()),
        }
        stats.extend(m.pair_stats);
    }
    Ok(stats)
}

/// What [`train_model`] fits besides the pattern counts.
#[derive(Debug, Clone, Default)]
pub struct TrainingInputs {
    /// Records per input, in input order; one input is deduplicated.
    pub source_sizes: Vec<usize>,
    /// The inputs' pair statistics ([`manifest_pair_stats`]), which give u.
    pub pair_stats: Vec<PairStats>,
    /// Distinct candidate pairs (recorded in the model).
    pub candidate_pairs: u64,
}

/// Whether a run of `n_sources` inputs weighs competing links, as `link` decides: training
/// (no `model`) when the schema's `link.competition` is on, given a model when it has competing
/// links; deduplicating (one input) never.
pub fn competes(schema: &Schema, model: Option<&Model>, n_sources: usize) -> bool {
    n_sources >= 2
        && match model {
            Some(m) => m.competition.is_some(),
            None => schema.link.competition,
        }
}

/// Trains a model as `link` does without `--model`, from the number of candidate pairs with each
/// [`PairScorer::patterns`] key (keys of another length are ignored): u from the pair
/// statistics, m by one EM session per training rule, λ by fixed point over every pattern.
/// Errors when there is no pattern, or no pair statistics.
pub fn train_model(
    schema: &Schema,
    counts: &[(Vec<u8>, u64)],
    inputs: &TrainingInputs,
) -> Result<Model> {
    let comparator = Comparator::new(schema, false)?;
    let nf = comparator.n_fields();
    let mut keyed: HashMap<(Vec<u8>, u64), u64> = HashMap::with_capacity(counts.len());
    for (key, count) in counts {
        if key.len() != nf + 8 || *count == 0 {
            continue;
        }
        let (levels, bits) = key.split_at(nf);
        let mut b = [0u8; 8];
        b.copy_from_slice(bits);
        *keyed
            .entry((levels.to_vec(), u64::from_le_bytes(b)))
            .or_insert(0) += count;
    }
    let patterns = Patterns::from_counts(nf, keyed);
    if patterns.is_empty() {
        return Err(Error::Invalid(
            "blocking produced no candidate pair, so there is nothing to train the model on: check the blocking rules, or give a trained model".into(),
        ));
    }
    if inputs.source_sizes.is_empty() {
        return Err(Error::Invalid("nothing to link: no input".into()));
    }
    let stats: Vec<&PairStats> = inputs.pair_stats.iter().collect();
    let u = UEstimate::from_pair_stats(schema, &comparator, &stats)?;
    let utable = UTable {
        u: &u.u,
        u_household: &u.u_household,
        household: comparator.household(),
    };
    let sizes = &inputs.source_sizes;
    let fit = super::train::train(
        schema,
        &comparator,
        &patterns,
        &utable,
        super::sample::possible_pairs_of(sizes),
        super::sample::max_matches_of(sizes),
        |pairs| super::sample::starting_lambda_of(sizes, pairs),
    );
    Ok(Model::new(
        schema,
        &comparator,
        &u,
        &fit,
        inputs.candidate_pairs,
        patterns.len() as u64,
    ))
}

/// How [`resolve_component`] decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolution {
    /// Clusters with the guard against chaining: a merge needs more than this share of
    /// supported pairs across the two clusters (`link`'s `cluster_support`; 0 is connected
    /// components).
    Clusters(f64),
    /// One-to-one assignment (two inputs).
    OneToOne,
}

impl Resolution {
    /// Whether [`resolve_component`] links the two records of a component of two (its one pair
    /// is at or above the threshold, so at or above the review threshold too), without calling
    /// it: an engine resolves such components, nearly all of them, where they are. One-to-one
    /// accepts the pair (neither record is taken); clustering merges the two when the one pair
    /// across them, supported, is more than the `support` share of the one pair that may be
    /// compared: when `support` is below 1.
    pub fn links_lone_pair(self) -> bool {
        match self {
            Resolution::OneToOne => true,
            Resolution::Clusters(support) => 1.0 > support,
        }
    }
}

/// One record of a component: its input (0 first) and position there, and its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ComponentRecord {
    /// The input it comes from.
    pub source: u16,
    /// Its position in that input (any order-preserving number).
    pub position: u64,
    /// Its record id.
    pub id: String,
}

/// Resolves one connected component of the pairs at or above `threshold` as `link` does over
/// the whole run: `pairs` are its candidate pairs at or above `review_threshold` (indices into
/// `records`, and the match weight), `n_sources` the run's number of inputs (1: deduplicating).
/// Returns, per record, its group: the index in `records` of the least (by source, then
/// position) record of its cluster, or `None` when it is alone (one-to-one: paired with none).
/// The decisions are those `link` takes: clusters only merge along pairs at or above the
/// threshold, and a merge's support counts pairs between its two clusters, all inside the
/// component; one-to-one takes pairs in weight order, each touching only its component.
pub fn resolve_component(
    records: &[ComponentRecord],
    pairs: &[(u32, u32, f64)],
    n_sources: u16,
    threshold: f64,
    review_threshold: f64,
    resolution: Resolution,
) -> Result<Vec<Option<u32>>> {
    let n = records.len();
    if u32::try_from(n).is_err() {
        return Err(Error::Invalid("too many records in one component".into()));
    }
    // A pool of the component's records in run order (source, then position), every input
    // present so that a pair's sources compare as in the run.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| records[a].cmp(&records[b]));
    let mut slot = vec![0u32; n];
    let mut sources: Vec<(String, Vec<EncodedRecord>)> = (0..n_sources.max(1))
        .map(|s| (format!("input {s}"), Vec::new()))
        .collect();
    for (k, &i) in order.iter().enumerate() {
        let r = &records[i];
        slot[i] = k as u32;
        let s = sources.get_mut(usize::from(r.source)).ok_or_else(|| {
            Error::Invalid(format!(
                "record {:?} of input {}, of {n_sources} inputs",
                r.id, r.source
            ))
        })?;
        s.1.push(EncodedRecord {
            id: r.id.clone(),
            ..EncodedRecord::default()
        });
    }
    let pool = Pool::new(sources, 0)?;
    let mut scored: Vec<(u64, f64)> = Vec::with_capacity(pairs.len());
    for &(a, b, w) in pairs {
        let (a, b) = match (slot.get(a as usize), slot.get(b as usize)) {
            (Some(&a), Some(&b)) if a != b => (a.min(b), a.max(b)),
            _ => {
                return Err(Error::Invalid(format!(
                    "pair ({a}, {b}) is not a pair of the component's {n} records"
                )))
            }
        };
        scored.push((pack_pair(a, b), w));
    }
    scored.sort_by_key(|x| x.0);
    scored.dedup_by_key(|x| x.0);
    let (packed, weights): (Vec<u64>, Vec<f64>) = scored.into_iter().unzip();
    let view = ScoredPairs {
        pairs: &packed,
        weights: &weights,
    };
    // Group of each pool record: the least pool record of its cluster.
    let mut group: Vec<Option<u32>> = vec![None; n];
    match resolution {
        Resolution::Clusters(support) => {
            let c = super::resolve::cluster(&pool, view, threshold, review_threshold, support);
            let mut least: HashMap<u32, u32> = HashMap::new();
            for (k, &cl) in c.cluster_of.iter().enumerate() {
                if cl != 0 {
                    let first = *least.entry(cl).or_insert(k as u32);
                    group[k] = Some(first);
                }
            }
        }
        Resolution::OneToOne => {
            if n_sources != 2 {
                return Err(Error::Invalid(
                    "one-to-one assignment needs exactly two sources".into(),
                ));
            }
            let accepted = super::resolve::one_to_one(&pool, view, threshold);
            for (k, ok) in accepted.iter().enumerate() {
                if *ok {
                    let (a, b) = super::pool::unpack_pair(packed[k]);
                    group[a as usize] = Some(a);
                    group[b as usize] = Some(a);
                }
            }
        }
    }
    // Back to the caller's indices.
    Ok((0..n)
        .map(|i| group[slot[i] as usize].map(|g| order[g as usize] as u32))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weights of the pairs `link_pool` scored at or above the review threshold, under the
    /// model it trained, before any standing weight, and each pair's two records' aggregates
    /// (best weight and number of pairs with the other record's source) over them.
    #[allow(clippy::type_complexity)]
    fn scored_with_neighbours(
        scorer: &PairScorer,
        linkage: &super::super::Linkage,
    ) -> (Vec<f64>, Vec<[(f64, u64); 2]>) {
        let pool = &linkage.pool;
        let unpacked: Vec<(u32, u32)> = linkage
            .review_pairs
            .iter()
            .map(|p| super::super::pool::unpack_pair(*p))
            .collect();
        let pairs: Vec<(EncodedRecord, EncodedRecord)> = unpacked
            .iter()
            .map(|&(a, b)| (pool.record(a).clone(), pool.record(b).clone()))
            .collect();
        let levels = scorer.compare(pairs).unwrap();
        let weights: Vec<f64> = levels.iter().map(|l| scorer.weight(l).unwrap()).collect();
        let mut agg: HashMap<(u32, u16), (f64, u64)> = HashMap::new();
        for (&(a, b), &w) in unpacked.iter().zip(&weights) {
            for key in [(a, pool.source(b)), (b, pool.source(a))] {
                let e = agg.entry(key).or_insert((f64::NEG_INFINITY, 0));
                e.0 = e.0.max(w);
                e.1 += 1;
            }
        }
        let neighbours = unpacked
            .iter()
            .map(|&(a, b)| [agg[&(a, pool.source(b))], agg[&(b, pool.source(a))]])
            .collect();
        (weights, neighbours)
    }

    /// Every pair `link_pool` scored at or above the review threshold gets the same weight here,
    /// under the model it trained (with competing links: the schema's default), once its
    /// standing (from its records' aggregates) adds its weight.
    #[test]
    fn pairs_score_as_link_pool_scores_them() {
        use super::super::competition::Standing;
        let schema = Schema::example();
        assert!(schema.link.competition);
        // More people than the other tests: some pairs outranked.
        let (_, sources) = super::super::tests::synth_sources(400, 11);
        let linkage = super::super::tests::linked(&schema, &sources, false);
        assert!(linkage.model.competition.is_some());
        assert!(competes(&schema, Some(&linkage.model), 2));
        assert!(!competes(&schema, Some(&linkage.model), 1));
        let scorer = PairScorer::new(&schema, Some(&linkage.model)).unwrap();
        let (weights, neighbours) = scored_with_neighbours(&scorer, &linkage);
        assert!(weights.len() > 100, "{} pairs", weights.len());
        let mut standings = [0usize; 3];
        for ((w, n), want) in weights.iter().zip(&neighbours).zip(&linkage.review_weights) {
            let standing = Standing::from_neighbours(*w, *n);
            standings[standing.index()] += 1;
            assert_eq!(scorer.compete(*w, standing), *want);
        }
        assert!(standings.iter().all(|n| *n > 0), "{standings:?}");
        // Without competing links in the model: the weights unchanged.
        let mut bare = linkage.model.clone();
        bare.competition = None;
        let scorer = PairScorer::new(&schema, Some(&bare)).unwrap();
        assert_eq!(scorer.compete(1.5, Standing::Outranked), 1.5);
        assert!(!competes(&schema, Some(&bare), 2));
    }

    /// The candidate pairs of a linkage, as record pairs.
    fn candidate_records(linkage: &super::super::Linkage) -> Vec<(EncodedRecord, EncodedRecord)> {
        linkage
            .candidates()
            .iter()
            .map(|(p, _, _)| {
                let (a, b) = super::super::pool::unpack_pair(*p);
                (
                    linkage.pool.record(a).clone(),
                    linkage.pool.record(b).clone(),
                )
            })
            .collect()
    }

    /// Counting the candidate pairs by their `patterns` key and training on the counts gives the
    /// model `link_pool` trains, field for field.
    #[test]
    fn training_on_pattern_counts_gives_the_model_link_trains() {
        let schema = Schema::example();
        let (_, sources) = super::super::tests::synth_sources(200, 5);
        let inputs = super::super::tests::inputs(&schema, &sources, false);
        let stats = inputs.stats.clone();
        let sizes = inputs.pool.source_sizes();
        let linkage = super::super::tests::linked(&schema, &sources, false);
        assert!(linkage.trained());
        let scorer = PairScorer::new(&schema, None).unwrap();
        let keys = scorer.patterns(candidate_records(&linkage)).unwrap();
        assert_eq!(keys.len() as u64, linkage.candidate_pairs());
        let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
        for k in keys {
            *counts.entry(k).or_insert(0) += 1;
        }
        // In an order of their own, as a cluster's aggregation gives them.
        let mut counts: Vec<(Vec<u8>, u64)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.cmp(a));
        let inputs = TrainingInputs {
            source_sizes: sizes,
            pair_stats: stats.clone(),
            candidate_pairs: linkage.candidate_pairs(),
        };
        let mut model = train_model(&schema, &counts, &inputs).unwrap();
        assert!(competes(&schema, None, 2));
        // Competing links: sums per standing of the review pairs' probabilities, before any
        // standing weight (in an order of their own), give the model's weights.
        assert!(model.competition.is_none());
        let scorer = PairScorer::new(&schema, Some(&model)).unwrap();
        let (weights, neighbours) = scored_with_neighbours(&scorer, &linkage);
        let (mut m, mut u) = ([0.0; 3], [0.0; 3]);
        for (w, n) in weights.iter().zip(&neighbours).rev() {
            let s = super::super::competition::Standing::from_neighbours(*w, *n).index();
            m[s] += probability(*w);
            u[s] += 1.0 - probability(*w);
        }
        let c = Competition::from_sums(m, u, weights.len() as u64);
        let want = linkage
            .model()
            .competition
            .clone()
            .expect("trained with competition");
        assert_eq!(c.pairs, want.pairs);
        for (x, y) in c.levels.iter().zip(&want.levels) {
            assert_eq!(x.standing, y.standing);
            assert!((x.weight - y.weight).abs() < 1e-9, "{x:?} {y:?}");
        }
        model.competition = Some(want);
        assert_eq!(&model, linkage.model());
        // No pattern, or no pair statistics: the errors `link` gives.
        assert!(matches!(
            train_model(&schema, &[], &inputs),
            Err(Error::Invalid(_))
        ));
        let bare = TrainingInputs {
            pair_stats: Vec::new(),
            ..inputs
        };
        assert!(train_model(&schema, &counts, &bare).is_err());
    }

    /// The union-find components of the pairs at or above `threshold`.
    fn components(n: usize, pairs: &[(u32, u32, f64)], threshold: f64) -> Vec<Vec<u32>> {
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for &(a, b, w) in pairs {
            if probability(w) >= threshold {
                let (x, y) = (find(&mut parent, a as usize), find(&mut parent, b as usize));
                parent[x.max(y)] = x.min(y);
            }
        }
        let mut by_root: HashMap<usize, Vec<u32>> = HashMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            by_root.entry(r).or_default().push(i as u32);
        }
        by_root.into_values().filter(|c| c.len() > 1).collect()
    }

    /// Resolving each connected component on its own gives the clusters (with the guard) and
    /// the one-to-one assignment `link_pool` gives over the whole run.
    #[test]
    fn components_resolve_as_link_resolves() {
        use super::super::{link_pool, outcome::Band, LinkOptions};
        use crate::control::RunControl;
        let schema = Schema::example();
        let (_, sources) = super::super::tests::synth_sources(400, 11);
        for (one_to_one, support) in [(false, 0.5), (false, 0.9), (true, 0.5)] {
            let inputs = super::super::tests::inputs(&schema, &sources, false);
            let options = LinkOptions {
                one_to_one,
                cluster_support: support,
                ..super::super::tests::options(&inputs.stats)
            };
            let (threshold, review) = (options.threshold, options.review_threshold);
            let linkage =
                link_pool(&schema, inputs.pool, false, options, &RunControl::new()).unwrap();
            let pool = &linkage.pool;
            let pairs: Vec<(u32, u32, f64)> = linkage
                .review_pairs
                .iter()
                .zip(&linkage.review_weights)
                .map(|(p, w)| {
                    let (a, b) = super::super::pool::unpack_pair(*p);
                    (a, b, *w)
                })
                .collect();
            // Pairs linked by the run, and by the components.
            let mut want: Vec<(u32, u32)> = linkage
                .links
                .iter()
                .filter(|l| l.band == Band::Match)
                .map(|l| (l.left, l.right))
                .filter(|(a, b)| {
                    pairs
                        .iter()
                        .any(|(x, y, _)| (x, y) == (a, b) || (x, y) == (b, a))
                })
                .collect();
            want.sort_unstable();
            let mut got = Vec::new();
            let mut refused = 0;
            for members in components(pool.len(), &pairs, threshold) {
                let records: Vec<ComponentRecord> = members
                    .iter()
                    .map(|&i| ComponentRecord {
                        source: pool.source(i),
                        position: u64::from(i),
                        id: pool.record(i).id.clone(),
                    })
                    .collect();
                let local = |i: u32| members.iter().position(|m| *m == i);
                let inside: Vec<(u32, u32, f64)> = pairs
                    .iter()
                    .filter_map(|&(a, b, w)| Some((local(a)? as u32, local(b)? as u32, w)))
                    .collect();
                let resolution = if one_to_one {
                    Resolution::OneToOne
                } else {
                    Resolution::Clusters(support)
                };
                let groups =
                    resolve_component(&records, &inside, 2, threshold, review, resolution).unwrap();
                for &(a, b, w) in &inside {
                    match (groups[a as usize], groups[b as usize]) {
                        (Some(x), Some(y)) if x == y => {
                            got.push((members[a as usize], members[b as usize]));
                        }
                        _ if probability(w) >= threshold => refused += 1,
                        _ => {}
                    }
                }
            }
            got.sort_unstable();
            assert!(want.len() > 50, "{}", want.len());
            assert_eq!(got, want, "one-to-one {one_to_one}, support {support}");
            if one_to_one {
                assert_eq!(refused, linkage.resolution.displaced_pairs);
            } else {
                // A refused merge's records may join later, through other pairs.
                assert!(refused <= linkage.resolution.refused_merges);
            }
        }
    }

    /// A component of two records: [`Resolution::links_lone_pair`] is what
    /// [`resolve_component`] decides, linking or deduplicating, whatever the pair's weight at or
    /// above the threshold.
    #[test]
    fn a_lone_pair_resolves_as_the_component_does() {
        let record = |source: u16, position: u64| ComponentRecord {
            source,
            position,
            id: format!("{source}-{position}"),
        };
        let (threshold, review) = (0.9, 0.5);
        let mut resolutions = vec![Resolution::OneToOne];
        for support in [0.0, 0.5, 0.95, 0.999_999, 1.0] {
            resolutions.push(Resolution::Clusters(support));
        }
        for resolution in resolutions {
            for weight in [3.17, 12.0, 60.0] {
                assert!(probability(weight) >= threshold);
                for (records, n_sources) in [
                    (vec![record(1, 4), record(0, 7)], 2),
                    (vec![record(0, 2), record(0, 9)], 1),
                ] {
                    if n_sources == 1 && resolution == Resolution::OneToOne {
                        continue;
                    }
                    for pair in [(0, 1, weight), (1, 0, weight)] {
                        let groups = resolve_component(
                            &records,
                            &[pair],
                            n_sources,
                            threshold,
                            review,
                            resolution,
                        )
                        .unwrap();
                        let least = if records[0] < records[1] { 0 } else { 1 };
                        let want = if resolution.links_lone_pair() {
                            vec![Some(least); 2]
                        } else {
                            vec![None; 2]
                        };
                        assert_eq!(groups, want, "{resolution:?} {weight} {n_sources}");
                    }
                }
            }
        }
        assert!(Resolution::Clusters(0.5).links_lone_pair());
        assert!(!Resolution::Clusters(1.0).links_lone_pair());
    }

    #[test]
    fn columns_and_errors() {
        let schema = Schema::example();
        let rules = blocking_columns(&schema).unwrap();
        let header = Layout::new(&schema).header().join(",");
        for r in &rules {
            assert!(header.contains(&r.column), "{}", r.column);
        }
        let scorer = PairScorer::new(&schema, None).unwrap();
        assert!(scorer.weight(&[0]).is_err());
        let mut cells: Vec<Option<&str>> = vec![None; scorer.columns().len()];
        cells[0] = Some("x1");
        assert_eq!(scorer.parse_record(&cells).unwrap().id, "x1");
        cells[1] = Some("zz");
        match scorer.parse_record(&cells) {
            Err(Error::Input { location, .. }) => {
                assert_eq!(location.field.as_deref(), Some(scorer.columns()[1]));
            }
            other => panic!("{other:?}"),
        }
    }
}
