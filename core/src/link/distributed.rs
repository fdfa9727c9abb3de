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
//! (the code `link` runs) and scores them with the crate's own scorer. Resolution (clusters) is the
//! engine's.
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

use crate::encode::layout::{Layout, Slot};
use crate::encode::EncodedRecord;
use crate::error::{Error, Location, Result};
use crate::schema::Schema;

use super::compare::Comparator;
use super::model::{Model, Scorer};
use super::pool::Pool;
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
        })
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
        let nf = self.comparator.n_fields();
        Ok((0..n)
            .map(|i| {
                let mut levels = vec![0u8; nf];
                self.comparator.compare(&pool, i, n + i, &mut levels);
                levels
            })
            .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair `link_pool` scored at or above the review threshold gets the same weight here,
    /// under the model it trained.
    #[test]
    fn pairs_score_as_link_pool_scores_them() {
        let schema = Schema::example();
        let (_, sources) = super::super::tests::synth_sources(200, 5);
        let linkage = super::super::tests::linked(&schema, &sources, false);
        let scorer = PairScorer::new(&schema, Some(&linkage.model)).unwrap();
        let pool = &linkage.pool;
        let pairs: Vec<(EncodedRecord, EncodedRecord)> = linkage
            .review_pairs
            .iter()
            .map(|p| {
                let (a, b) = super::super::pool::unpack_pair(*p);
                (pool.record(a).clone(), pool.record(b).clone())
            })
            .collect();
        assert!(pairs.len() > 100, "{} pairs", pairs.len());
        let levels = scorer.compare(pairs).unwrap();
        for (l, w) in levels.iter().zip(&linkage.review_weights) {
            assert!((scorer.weight(l).unwrap() - w).abs() < 1e-12);
        }
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
