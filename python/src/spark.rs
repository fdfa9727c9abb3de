//! `pseudolink._native.PairScorer` and `blocking_columns`: the core's parts for a distributed
//! engine (`pseudolink::link::distributed`), which `pseudolink.spark` runs inside Spark's
//! `mapInArrow`. Only conversions here: Arrow columns of encoded cells in, comparison vectors and
//! match weights out.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use pseudolink::link::competition::{Competition, Standing};
use pseudolink::link::distributed::{
    blocking_columns as core_blocking_columns, competes as core_competes, manifest_pair_stats,
    probability, resolve_component as core_resolve_component, train_model as core_train_model,
    ComponentRecord, PairScorer, Resolution, TrainingInputs,
};
use pseudolink::link::model::Model;
use pseudolink::run::TextColumns;
use pseudolink::EncodedRecord;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use crate::errors::{guard, CoreResult, InputError, InvalidArgumentError};
use crate::input::{arrow_to_text, import_arrow};
use crate::schema::PySchema;

/// Compares batches of candidate pairs of encoded records (and scores them, with a model) as
/// `pseudolink link` does.
#[pyclass(frozen, module = "pseudolink._native", name = "PairScorer")]
pub struct PyPairScorer {
    inner: Arc<PairScorer>,
}

#[pymethods]
impl PyPairScorer {
    /// The scorer of `schema`; `model_json` (a model file's text) to score, else compare only.
    #[new]
    #[pyo3(signature = (schema, model_json=None))]
    fn new(schema: &PySchema, model_json: Option<&str>) -> PyResult<Self> {
        guard(|| {
            let model = model_json.map(Model::from_json).transpose().py()?;
            let inner = PairScorer::new(&schema.inner, model.as_ref()).py()?;
            Ok(PyPairScorer {
                inner: Arc::new(inner),
            })
        })
    }

    /// The comparisons, in the order of a comparison vector.
    #[getter]
    fn comparisons(&self) -> Vec<String> {
        self.inner.comparisons()
    }

    /// The encoded extract's columns, `record_id` first.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.inner
            .columns()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// Compares the pairs of an Arrow table whose columns are `left_prefix + c` and
    /// `right_prefix + c` for every column `c` of the extract (other columns are ignored), and
    /// returns a `pyarrow.Table` of `levels` (one byte per comparison) and, with a model, `match_weight` and
    /// `match_probability`, row for row. Runs without the GIL.
    #[pyo3(signature = (pairs, left_prefix, right_prefix))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        pairs: &Bound<'py, PyAny>,
        left_prefix: &str,
        right_prefix: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let read = self.pair_reader(pairs, left_prefix, right_prefix)?;
            let scorer = Arc::clone(&self.inner);
            let scored = py.detach(move || -> Result<RecordBatch, PyErrText> {
                let mut levels = BinaryBuilder::new();
                let mut weights = Float64Builder::new();
                let mut probabilities = Float64Builder::new();
                let mut scoring = true;
                for pairs in read.batches(&scorer)? {
                    for l in scorer.compare(pairs).map_err(PyErrText::Core)? {
                        levels.append_value(&l);
                        match scorer.weight(&l) {
                            Ok(w) => {
                                weights.append_value(w);
                                probabilities.append_value(probability(w));
                            }
                            Err(_) => {
                                scoring = false;
                                weights.append_null();
                                probabilities.append_null();
                            }
                        }
                    }
                }
                let mut fields = vec![Field::new("levels", DataType::Binary, false)];
                let mut arrays: Vec<ArrayRef> = vec![Arc::new(levels.finish())];
                if scoring {
                    fields.push(Field::new("match_weight", DataType::Float64, false));
                    arrays.push(Arc::new(weights.finish()));
                    fields.push(Field::new("match_probability", DataType::Float64, false));
                    arrays.push(Arc::new(probabilities.finish()));
                }
                RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), arrays)
                    .map_err(|e| PyErrText::Internal(e.to_string()))
            });
            let batch = scored.map_err(PyErrText::into_py)?;
            let schema = batch.schema();
            PyTable::try_new(vec![batch], schema)?.into_pyarrow(py)
        })
    }

    /// The training key of each pair of an Arrow table (columns as [`PyPairScorer::score`]
    /// takes them): a `pyarrow.Table` of one binary column `pattern`, row for row (the
    /// comparison vector, then the rule bits: see `PairScorer::patterns`). Runs without the GIL.
    #[pyo3(signature = (pairs, left_prefix, right_prefix))]
    fn patterns<'py>(
        &self,
        py: Python<'py>,
        pairs: &Bound<'py, PyAny>,
        left_prefix: &str,
        right_prefix: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let read = self.pair_reader(pairs, left_prefix, right_prefix)?;
            let scorer = Arc::clone(&self.inner);
            let keyed = py.detach(move || -> Result<RecordBatch, PyErrText> {
                let mut keys = BinaryBuilder::new();
                for pairs in read.batches(&scorer)? {
                    for k in scorer.patterns(pairs).map_err(PyErrText::Core)? {
                        keys.append_value(&k);
                    }
                }
                let fields = vec![Field::new("pattern", DataType::Binary, false)];
                let arrays: Vec<ArrayRef> = vec![Arc::new(keys.finish())];
                RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), arrays)
                    .map_err(|e| PyErrText::Internal(e.to_string()))
            });
            let batch = keyed.map_err(PyErrText::into_py)?;
            let schema = batch.schema();
            PyTable::try_new(vec![batch], schema)?.into_pyarrow(py)
        })
    }

    /// The match weight and probability of each training key (as `patterns` gives them: the
    /// comparison vector, then 8 bytes of rule bits) under the model.
    fn pattern_weights(&self, patterns: Vec<Vec<u8>>) -> PyResult<Vec<(f64, f64)>> {
        guard(|| {
            let nf = self.inner.comparisons().len();
            patterns
                .iter()
                .map(|k| {
                    let levels = k.get(..nf).ok_or_else(|| {
                        InvalidArgumentError::new_err(format!(
                            "a pattern of {} bytes where the schema's are {}",
                            k.len(),
                            nf + 8
                        ))
                    })?;
                    let w = self.inner.weight(levels).py()?;
                    Ok((w, probability(w)))
                })
                .collect()
        })
    }

    /// The match weight and probability of each pair at or above the review threshold once its
    /// standing's weight (the model's competing links) is added: `weights` before it,
    /// `standings` as `competition_standings` gives them. Unchanged without competing links.
    fn compete(&self, weights: Vec<f64>, standings: Vec<u8>) -> PyResult<Vec<(f64, f64)>> {
        guard(|| {
            if weights.len() != standings.len() {
                return Err(InvalidArgumentError::new_err(format!(
                    "{} weights for {} standings",
                    weights.len(),
                    standings.len()
                )));
            }
            weights
                .iter()
                .zip(&standings)
                .map(|(&w, &s)| {
                    let w = self.inner.compete(w, standing_of(s)?);
                    Ok((w, probability(w)))
                })
                .collect()
        })
    }
}

/// The standing of its number (its position in `Standing::ALL`).
fn standing_of(index: u8) -> PyResult<Standing> {
    Standing::from_index(usize::from(index)).ok_or_else(|| {
        InvalidArgumentError::new_err(format!("standing {index}: there are 0, 1 and 2"))
    })
}

/// The standing (0 alone, 1 ahead, 2 outranked) of each pair at or above the review threshold
/// from its match weight before any standing weight and its two records' aggregates over those
/// pairs: for the left record (with the right's source) and the right record (with the left's),
/// the highest match weight and the number of pairs (`Standing::from_neighbours`).
#[pyfunction]
pub fn competition_standings(
    weights: Vec<f64>,
    left_best: Vec<f64>,
    left_pairs: Vec<u64>,
    right_best: Vec<f64>,
    right_pairs: Vec<u64>,
) -> PyResult<Vec<u8>> {
    guard(|| {
        let n = weights.len();
        if [
            left_best.len(),
            left_pairs.len(),
            right_best.len(),
            right_pairs.len(),
        ]
        .iter()
        .any(|&k| k != n)
        {
            return Err(InvalidArgumentError::new_err(
                "competition_standings: the five lists have different lengths",
            ));
        }
        Ok((0..n)
            .map(|i| {
                let neighbours = [
                    (left_best[i], left_pairs[i]),
                    (right_best[i], right_pairs[i]),
                ];
                Standing::from_neighbours(weights[i], neighbours).index() as u8
            })
            .collect())
    })
}

/// Whether a run of `n_sources` inputs weighs competing links, as `pseudolink link` decides:
/// training (no model) when the schema's `link.competition` is on, given a model (its JSON) when
/// the model has them; deduplicating never.
#[pyfunction]
#[pyo3(signature = (schema, model_json, n_sources))]
pub fn competes(schema: &PySchema, model_json: Option<&str>, n_sources: usize) -> PyResult<bool> {
    guard(|| {
        let model = model_json.map(Model::from_json).transpose().py()?;
        Ok(core_competes(&schema.inner, model.as_ref(), n_sources))
    })
}

/// The model (its JSON) with the competing links estimated from sums over the pairs at or above
/// the review threshold, per standing (0 alone, 1 ahead, 2 outranked): `m_sums` of their match
/// probabilities before any standing weight, `u_sums` of one minus them, `pairs` their number
/// (`Competition::from_sums`). Returns the model file's JSON, as `pseudolink link` writes it.
#[pyfunction]
pub fn competition_model(
    model_json: &str,
    m_sums: [f64; 3],
    u_sums: [f64; 3],
    pairs: u64,
) -> PyResult<String> {
    guard(|| {
        let mut model = Model::from_json(model_json).py()?;
        model.competition = Some(Competition::from_sums(m_sums, u_sums, pairs));
        Ok(model.to_json())
    })
}

impl PyPairScorer {
    /// Finds the left and right columns of an Arrow table of pairs.
    fn pair_reader(
        &self,
        pairs: &Bound<'_, PyAny>,
        left_prefix: &str,
        right_prefix: &str,
    ) -> PyResult<PairReader> {
        let (names, batches) = import_arrow(pairs)?;
        let columns = self.columns();
        let find = |prefix: &str| -> PyResult<Vec<usize>> {
            columns
                .iter()
                .map(|c| {
                    let want = format!("{prefix}{c}");
                    names.iter().position(|n| *n == want).ok_or_else(|| {
                        InputError::new_err(format!(
                            "the pairs have no column {want:?}: they need the encoded extract's columns ({}) prefixed by {left_prefix:?} and {right_prefix:?}",
                            columns.join(", ")
                        ))
                    })
                })
                .collect()
        };
        let (left, right) = (find(left_prefix)?, find(right_prefix)?);
        Ok(PairReader {
            names,
            batches,
            left,
            right,
        })
    }
}

/// An Arrow table of pairs, with the columns of each side's record.
struct PairReader {
    names: Vec<String>,
    batches: Vec<Vec<ArrayRef>>,
    left: Vec<usize>,
    right: Vec<usize>,
}

impl PairReader {
    /// The pairs, parsed, batch by batch.
    fn batches(
        self,
        scorer: &PairScorer,
    ) -> Result<Vec<Vec<(EncodedRecord, EncodedRecord)>>, PyErrText> {
        let table = arrow_to_text(self.names, self.batches)
            .map_err(|(c, m)| PyErrText::Input(format!("column {c:?} {m}")))?;
        let (left, right) = (&self.left, &self.right);
        table
            .batches
            .iter()
            .map(|batch| {
                let record = |cols: &[usize], row: usize| {
                    let cells: Vec<Option<&str>> =
                        cols.iter().map(|&c| batch.cell(c, row)).collect();
                    scorer.parse_record(&cells)
                };
                (0..batch.rows())
                    .map(|row| Ok((record(left, row)?, record(right, row)?)))
                    .collect::<pseudolink::Result<Vec<_>>>()
                    .map_err(PyErrText::Core)
            })
            .collect()
    }
}

/// An error made without the GIL, raised once it is held again.
enum PyErrText {
    Core(pseudolink::Error),
    Input(String),
    Internal(String),
}

impl PyErrText {
    fn into_py(self) -> PyErr {
        match self {
            PyErrText::Core(e) => crate::errors::to_py(e),
            PyErrText::Input(m) => InputError::new_err(m),
            PyErrText::Internal(m) => crate::errors::InternalError::new_err(m),
        }
    }
}

/// Trains a model as `pseudolink link` does without `--model`, from the number of candidate
/// pairs per training key (`PairScorer.patterns`): `manifests` are the inputs' manifest files'
/// JSON (their pair statistics give u), `source_sizes` the records per input. Returns the model
/// file's JSON.
#[pyfunction]
pub fn train_model(
    py: Python<'_>,
    schema: &PySchema,
    patterns: Vec<(Vec<u8>, u64)>,
    manifests: Vec<String>,
    source_sizes: Vec<usize>,
    candidate_pairs: u64,
) -> PyResult<String> {
    guard(|| {
        let texts: Vec<&str> = manifests.iter().map(String::as_str).collect();
        let pair_stats = manifest_pair_stats(&schema.inner, &texts).py()?;
        let inputs = TrainingInputs {
            source_sizes,
            pair_stats,
            candidate_pairs,
        };
        let schema = &schema.inner;
        let model = py
            .detach(|| core_train_model(schema, &patterns, &inputs))
            .py()?;
        Ok(model.to_json())
    })
}

/// Resolves one connected component of the pairs at or above `threshold` as `pseudolink link`
/// does: `records` are `(input, position, record_id)`, `pairs` `(i, j, match_weight)` (indices
/// into `records`) for its pairs at or above `review_threshold`. `one_to_one` assigns pairs one
/// to one, else clusters with the guard `cluster_support`. Returns, per record, the index of the
/// least (by input, then position) record of its cluster, or None when it is alone.
#[pyfunction]
#[pyo3(signature = (records, pairs, n_sources, threshold, review_threshold, cluster_support, one_to_one=false))]
#[allow(clippy::too_many_arguments)]
pub fn resolve_component(
    records: Vec<(u16, u64, String)>,
    pairs: Vec<(u32, u32, f64)>,
    n_sources: u16,
    threshold: f64,
    review_threshold: f64,
    cluster_support: f64,
    one_to_one: bool,
) -> PyResult<Vec<Option<u32>>> {
    guard(|| {
        let records: Vec<ComponentRecord> = records
            .into_iter()
            .map(|(source, position, id)| ComponentRecord {
                source,
                position,
                id,
            })
            .collect();
        let resolution = if one_to_one {
            Resolution::OneToOne
        } else {
            Resolution::Clusters(cluster_support)
        };
        core_resolve_component(
            &records,
            &pairs,
            n_sources,
            threshold,
            review_threshold,
            resolution,
        )
        .py()
    })
}

/// Whether resolving a component of two records (its one pair at or above the threshold) links
/// them, as `resolve_component` would: one-to-one always, clusters when `cluster_support` is
/// below 1 (`Resolution::links_lone_pair`).
#[pyfunction]
#[pyo3(signature = (cluster_support, one_to_one=false))]
pub fn links_lone_pair(cluster_support: f64, one_to_one: bool) -> bool {
    if one_to_one {
        Resolution::OneToOne
    } else {
        Resolution::Clusters(cluster_support)
    }
    .links_lone_pair()
}

/// The blocking rules of `schema`, in order: `(rule, column, is_token_set, crossed_column)` each
/// (`crossed_column` None unless the rule is crossed).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn blocking_columns(
    schema: &PySchema,
) -> PyResult<Vec<(String, String, bool, Option<String>)>> {
    guard(|| {
        let rules = core_blocking_columns(&schema.inner).py()?;
        if rules.is_empty() {
            return Err(InvalidArgumentError::new_err(
                "the schema has no blocking rule: there is no candidate pair to link",
            ));
        }
        Ok(rules
            .into_iter()
            .map(|r| (r.rule, r.column, r.set, r.crossed))
            .collect())
    })
}
