//! `pseudolink._native.PairScorer` and `blocking_columns`: the core's parts for a distributed
//! engine (`pseudolink::link::distributed`), which `pseudolink.spark` runs inside Spark's
//! `mapInArrow`. Only conversions here: Arrow columns of encoded cells in, comparison vectors and
//! match weights out.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use pseudolink::link::distributed::{
    blocking_columns as core_blocking_columns, probability, PairScorer,
};
use pseudolink::link::model::Model;
use pseudolink::run::TextColumns;
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
            let scorer = Arc::clone(&self.inner);
            let scored = py.detach(move || -> Result<RecordBatch, PyErrText> {
                let table = arrow_to_text(names, batches)
                    .map_err(|(c, m)| PyErrText::Input(format!("column {c:?} {m}")))?;
                let mut levels = BinaryBuilder::new();
                let mut weights = Float64Builder::new();
                let mut probabilities = Float64Builder::new();
                let mut scoring = true;
                for batch in &table.batches {
                    let record = |cols: &[usize], row: usize| {
                        let cells: Vec<Option<&str>> =
                            cols.iter().map(|&c| batch.cell(c, row)).collect();
                        scorer.parse_record(&cells)
                    };
                    let pairs = (0..batch.rows())
                        .map(|row| Ok((record(&left, row)?, record(&right, row)?)))
                        .collect::<pseudolink::Result<Vec<_>>>()
                        .map_err(PyErrText::Core)?;
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
            let batch = match scored {
                Ok(b) => b,
                Err(PyErrText::Core(e)) => return Err(e).py(),
                Err(PyErrText::Input(m)) => return Err(InputError::new_err(m)),
                Err(PyErrText::Internal(m)) => {
                    return Err(crate::errors::InternalError::new_err(m))
                }
            };
            let schema = batch.schema();
            PyTable::try_new(vec![batch], schema)?.into_pyarrow(py)
        })
    }
}

/// An error made without the GIL, raised once it is held again.
enum PyErrText {
    Core(pseudolink::Error),
    Input(String),
    Internal(String),
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
