//! `pseudolink.link`, `dedupe`, `evaluate`, `Links` and `Model`: the core's one linking entry
//! point (`pseudolink::run::link`, what `pseudolink link` runs) on extracts held in memory or
//! files; this module only converts its arguments and results.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use pseudolink::io::manifest::{FileRecord, Manifest, RunRecord};
use pseudolink::link::evaluate::{
    evaluate as core_evaluate, read_links, read_truth, truth_from_pairs, ScoredLink,
};
use pseudolink::link::model::Model;
use pseudolink::link::{LinkOptions, Linkage};
use pseudolink::report::{rows_of, Report, ReportInput};
use pseudolink::run::{link as link_run, InputSummary, LinkInput, LinkRun, Linked};
use pseudolink::Schema;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use pyo3_arrow::PyTable;
use serde::Serialize;

use crate::errors::{guard, warn_all, CoreResult, InvalidArgumentError, UnverifiedExtractWarning};
use crate::extract::{ExtractData, PyEncodedExtract};
use crate::run::detached;
use crate::schema::PySchema;

// The defaults in the signatures below are the core's, written out so Python shows them.
const _: () = assert!(
    pseudolink::link::DEFAULT_THRESHOLD == 0.9 && pseudolink::link::DEFAULT_REVIEW_THRESHOLD == 0.5
);

/// A trained Fellegi-Sunter model: reuse it to link new extracts without training.
#[pyclass(frozen, module = "pseudolink._native", name = "Model")]
pub struct PyModel {
    pub inner: Model,
}

#[pymethods]
impl PyModel {
    /// Parses a model file's JSON (as `pseudolink link --save-model` writes it).
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        guard(|| {
            Ok(PyModel {
                inner: Model::from_json(json).py()?,
            })
        })
    }

    /// The model as JSON, as `pseudolink link --save-model` writes it.
    fn to_json(&self) -> PyResult<String> {
        guard(|| Ok(self.inner.to_json()))
    }

    /// The prior match rate λ.
    #[getter]
    fn lambda_(&self) -> f64 {
        self.inner.lambda
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(schema='{}', lambda={:.3e}, comparisons={})",
            self.inner.schema_fingerprint,
            self.inner.lambda,
            self.inner.comparisons.len()
        )
    }
}

/// The result of `link()` or `dedupe()`: scored, banded, clustered pairs.
#[pyclass(frozen, module = "pseudolink._native", name = "Links")]
pub struct PyLinks {
    /// The core's outcome of the run: the linkage and what its summary needs.
    linked: Arc<Linked>,
    /// The inputs' manifests, in order, where they have one (for the report's data quality).
    manifests: Arc<Vec<Option<Manifest>>>,
}

/// What a linking call was given: encoded extracts (in memory, or read from the paths given),
/// or raw CSV files to compare in cleartext.
enum Inputs {
    Encoded(Vec<Arc<ExtractData>>),
    Clear(Vec<PathBuf>),
}

const TAKES: &str = "link() and dedupe() take EncodedExtracts (from encode() or read_encoded()) or paths of encoded extracts, or with clear=True paths of raw CSV files";

/// The inputs of a linking call. Without `clear`, a path is an encoded extract, read and checked
/// as `read_encoded(path, schema, allow_unverified=...)` reads it; with `clear`, a path is a raw
/// CSV extract (and an `EncodedExtract` makes no sense).
fn inputs(
    py: Python<'_>,
    items: &[Bound<'_, PyAny>],
    schema: &Schema,
    clear: bool,
    allow_unverified: bool,
) -> PyResult<Inputs> {
    let path = |i: &Bound<'_, PyAny>| -> Option<PathBuf> {
        // A str or os.PathLike (bytes are not paths here).
        if i.is_instance_of::<pyo3::types::PyBytes>() {
            return None;
        }
        i.extract::<PathBuf>().ok()
    };
    if clear {
        let paths = items
            .iter()
            .map(|i| {
                path(i).ok_or_else(|| {
                    PyTypeError::new_err(
                        "clear=True compares raw CSV files: pass their paths (str or os.PathLike)",
                    )
                })
            })
            .collect::<PyResult<_>>()?;
        return Ok(Inputs::Clear(paths));
    }
    let mut extracts = Vec::with_capacity(items.len());
    for i in items {
        if let Ok(x) = i.cast::<PyEncodedExtract>() {
            extracts.push(Arc::clone(&x.get().data));
        } else if let Some(p) = path(i) {
            extracts.push(Arc::new(ExtractData::read(
                py,
                p,
                schema.clone(),
                allow_unverified,
            )?));
        } else {
            return Err(PyTypeError::new_err(format!(
                "{TAKES}, not {}",
                i.get_type().name()?
            )));
        }
    }
    Ok(Inputs::Encoded(extracts))
}

/// Runs the core's linking entry point ([`pseudolink::run::link`], what `pseudolink link`
/// runs) on the inputs: this binding only converts them.
#[allow(clippy::too_many_arguments)]
fn run_link(
    py: Python<'_>,
    items: &[Bound<'_, PyAny>],
    schema: &PySchema,
    options: LinkOptions,
    clear: bool,
    allow_unverified: bool,
    progress: bool,
    audit: Audit,
) -> PyResult<PyLinks> {
    let schema: Schema = schema.inner.clone();
    let given = inputs(py, items, &schema, clear, allow_unverified)?;
    let manifests: Vec<Option<Manifest>> = match &given {
        Inputs::Encoded(extracts) => extracts.iter().map(|x| x.manifest()).collect(),
        Inputs::Clear(paths) => vec![None; paths.len()],
    };
    let mut run = LinkRun::new(match given {
        Inputs::Encoded(extracts) => extracts
            .iter()
            .map(|x| LinkInput::Encoded {
                name: None,
                path: x.path.clone(),
                schema_fingerprint: x.schema.fingerprint(),
                manifest: x.manifest().map(Box::new),
                records: x.records.clone(),
                verified: x.verified,
            })
            .collect(),
        Inputs::Clear(paths) => paths.into_iter().map(LinkInput::ClearFile).collect(),
    });
    run.link = options;
    run.model = run.link.model.take();
    run.allow_unverified = allow_unverified;
    run.agreement = audit.agreement;
    run.purpose = audit.purpose;
    let linked = detached(py, "linking", progress, move |control| {
        control.with_run_control(|control| link_run(&schema, run, control))
    })?;
    // Warnings about the inputs' manifests reach Python as warnings.
    warn_all::<UnverifiedExtractWarning>(py, linked.input_warnings())?;
    Ok(PyLinks {
        linked: Arc::new(linked),
        manifests: Arc::new(manifests),
    })
}

/// The agreement reference and purpose recorded in the run summary.
struct Audit {
    agreement: Option<String>,
    purpose: Option<String>,
}

fn link_options(
    threshold: f64,
    review_threshold: f64,
    one_to_one: bool,
    model: Option<&PyModel>,
) -> LinkOptions {
    LinkOptions {
        threshold,
        review_threshold,
        one_to_one,
        model: model.map(|m| m.inner.clone()),
        ..LinkOptions::default()
    }
}

/// Links two encoded extracts (`EncodedExtract`s or paths of encoded extract files) or, with
/// `clear=True`, two raw CSV files.
#[pyfunction]
#[pyo3(signature = (left, right, schema, *, threshold=0.9, review_threshold=0.5, model=None, clear=false, one_to_one=false, allow_unverified=false, progress=false, agreement=None, purpose=None))]
#[allow(clippy::too_many_arguments)]
pub fn link(
    py: Python<'_>,
    left: Bound<'_, PyAny>,
    right: Bound<'_, PyAny>,
    schema: &PySchema,
    threshold: f64,
    review_threshold: f64,
    model: Option<&PyModel>,
    clear: bool,
    one_to_one: bool,
    allow_unverified: bool,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
) -> PyResult<PyLinks> {
    guard(|| {
        let options = link_options(threshold, review_threshold, one_to_one, model);
        let audit = Audit { agreement, purpose };
        run_link(
            py,
            &[left, right],
            schema,
            options,
            clear,
            allow_unverified,
            progress,
            audit,
        )
    })
}

/// Finds the records of one extract (an `EncodedExtract` or the path of an encoded extract file,
/// or with `clear=True` a raw CSV file) that are the same person.
#[pyfunction]
#[pyo3(signature = (data, schema, *, threshold=0.9, review_threshold=0.5, model=None, clear=false, allow_unverified=false, progress=false, agreement=None, purpose=None))]
#[allow(clippy::too_many_arguments)]
pub fn dedupe(
    py: Python<'_>,
    data: Bound<'_, PyAny>,
    schema: &PySchema,
    threshold: f64,
    review_threshold: f64,
    model: Option<&PyModel>,
    clear: bool,
    allow_unverified: bool,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
) -> PyResult<PyLinks> {
    guard(|| {
        let options = link_options(threshold, review_threshold, false, model);
        let audit = Audit { agreement, purpose };
        run_link(
            py,
            &[data],
            schema,
            options,
            clear,
            allow_unverified,
            progress,
            audit,
        )
    })
}

/// Precision, recall and F1 of the `match` links against the true pairs: a list of
/// `(left_id, right_id)` tuples of strings, or the path of a truth CSV file (`left_id,right_id`,
/// read as `pseudolink evaluate --truth` reads it); `links` is a `Links` or the path of a links
/// CSV file.
#[pyfunction]
pub fn evaluate<'py>(
    py: Python<'py>,
    links: Bound<'py, PyAny>,
    truth: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let (scored, unordered) = if let Ok(l) = links.cast::<PyLinks>() {
            let linkage = l.get().linked.linkage();
            (scored_links(linkage), linkage.is_dedupe())
        } else if let Ok(path) = links.extract::<PathBuf>() {
            (read_links(&path).py()?, false)
        } else {
            return Err(PyTypeError::new_err(
                "evaluate() takes a Links or the path of a links CSV file",
            ));
        };
        let truth: BTreeSet<(String, String)> = if truth.is_instance_of::<PyList>() {
            truth
                .extract::<Vec<(String, String)>>()
                .map_err(|_| {
                    InvalidArgumentError::new_err(
                        "evaluate() takes the true pairs as a list of (left_id, right_id) tuples of strings",
                    )
                })
                .and_then(|pairs| truth_from_pairs(pairs).py())?
        } else if let Ok(path) = truth.extract::<PathBuf>() {
            read_truth(&path).py()?
        } else {
            return Err(PyTypeError::new_err(
                "evaluate() takes the true pairs as a list of (left_id, right_id) tuples or the path of a truth CSV file",
            ));
        };
        to_dict(py, &core_evaluate(&scored, &truth, unordered))
    })
}

fn scored_links(linkage: &Linkage) -> Vec<ScoredLink> {
    linkage
        .links()
        .iter()
        .map(|l| ScoredLink {
            left_id: linkage.record_id(l.left).to_string(),
            right_id: linkage.record_id(l.right).to_string(),
            probability: l.probability,
            band: l.band,
        })
        .collect()
}

fn to_dict<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value)
        .map_err(|e| crate::errors::InternalError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (json,))
}

#[derive(Serialize)]
struct Summary<'a> {
    mode: &'static str,
    records: Vec<usize>,
    candidate_pairs: u64,
    skipped_blocks: u64,
    links: u64,
    #[serde(rename = "match")]
    match_: u64,
    review: u64,
    threshold: f64,
    review_threshold: f64,
    trained: bool,
    resolution: &'a pseudolink::link::ResolutionReport,
    timings: &'a [pseudolink::link::StageTime],
    schema_fingerprint: pseudolink::schema::SchemaFingerprint,
    inputs: &'a [InputSummary],
    warnings: Vec<String>,
    run: &'a RunRecord,
}

#[pymethods]
impl PyLinks {
    fn __len__(&self) -> usize {
        self.linked.linkage().links().len()
    }

    fn __repr__(&self) -> String {
        let (m, r) = self.linked.linkage().band_counts();
        format!("Links(match={m}, review={r})")
    }

    /// The model used (trained on these extracts, or the one given).
    #[getter]
    fn model(&self) -> PyModel {
        PyModel {
            inner: self.linked.linkage().model().clone(),
        }
    }

    /// Counts, thresholds, resolution and timings of the run.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let l = self.linked.linkage();
            let (m, r) = l.band_counts();
            let full = self.linked.summary(FileRecord::default(), None);
            let summary = Summary {
                mode: if l.is_dedupe() { "dedupe" } else { "link" },
                records: l.source_sizes(),
                candidate_pairs: l.candidate_pairs(),
                skipped_blocks: l.skipped_blocks().len() as u64,
                links: m + r,
                match_: m,
                review: r,
                threshold: l.threshold(),
                review_threshold: l.review_threshold(),
                trained: l.trained(),
                resolution: l.resolution(),
                timings: l.timings(),
                schema_fingerprint: full.schema_fingerprint,
                inputs: self.linked.inputs(),
                warnings: full.warnings,
                run: self.linked.run_record(),
            };
            to_dict(py, &summary)
        })
    }

    /// Why the pair got its weight: the prior and each field's contribution.
    fn explain<'py>(
        &self,
        py: Python<'py>,
        left_id: &str,
        right_id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_dict(py, &self.linked.linkage().explain(left_id, right_id).py()?))
    }

    /// Writes the links CSV and its run summary (`path + ".summary.json"`), exactly as
    /// `pseudolink link --output` writes them; both or neither.
    fn write_csv(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        guard(|| {
            let linked = Arc::clone(&self.linked);
            detached(py, "writing", false, move |_| {
                linked.write(&path, None).map(|_| ())
            })
        })
    }

    /// The links as a `pyarrow.Table`: `left_id`, `right_id`, `match_weight`,
    /// `match_probability`, `band`, `cluster_id` (null outside clusters).
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| self.table()?.into_pyarrow(py))
    }

    /// The links as a `pandas.DataFrame` (through pyarrow when it is installed; otherwise from
    /// Python lists, with the same columns and dtypes: `cluster_id` a float column with NaN
    /// outside clusters, as pyarrow makes it).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            if py.import("pyarrow").is_ok() {
                return self.to_arrow(py)?.call_method0("to_pandas");
            }
            let pandas = py.import("pandas")?;
            let l = self.linked.linkage();
            let links = l.links();
            let dict = PyDict::new(py);
            let ids = |f: &dyn Fn(&pseudolink::link::Link) -> u32| -> Vec<&str> {
                links.iter().map(|k| l.record_id(f(k))).collect()
            };
            dict.set_item("left_id", ids(&|k| k.left))?;
            dict.set_item("right_id", ids(&|k| k.right))?;
            dict.set_item(
                "match_weight",
                links.iter().map(|k| k.weight).collect::<Vec<f64>>(),
            )?;
            dict.set_item(
                "match_probability",
                links.iter().map(|k| k.probability).collect::<Vec<f64>>(),
            )?;
            dict.set_item(
                "band",
                links.iter().map(|k| k.band.as_str()).collect::<Vec<&str>>(),
            )?;
            dict.set_item(
                "cluster_id",
                links
                    .iter()
                    .map(|k| (k.cluster > 0).then_some(f64::from(k.cluster)))
                    .collect::<Vec<Option<f64>>>(),
            )?;
            let columns = PyList::new(
                py,
                [
                    "left_id",
                    "right_id",
                    "match_weight",
                    "match_probability",
                    "band",
                    "cluster_id",
                ],
            )?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("columns", columns)?;
            pandas.call_method("DataFrame", (dict,), Some(&kwargs))
        })
    }

    /// Writes the run report (one self-contained HTML file, as `pseudolink report` writes) to
    /// `path`. `truth`: known true pairs (a list of `(left_id, right_id)` or the path of a truth
    /// CSV file), for precision and recall by threshold; `explain`: pairs to draw as waterfalls.
    #[pyo3(signature = (path, *, truth=None, explain=None))]
    fn report(
        &self,
        py: Python<'_>,
        path: PathBuf,
        truth: Option<Bound<'_, PyAny>>,
        explain: Option<Vec<(String, String)>>,
    ) -> PyResult<()> {
        guard(|| {
            let truth = match truth {
                None => None,
                Some(t) => Some(
                    match t.extract::<PathBuf>() {
                        Ok(p) if !t.is_instance_of::<PyList>() => read_truth(&p),
                        _ => truth_from_pairs(t.extract::<Vec<(String, String)>>()?),
                    }
                    .py()?,
                ),
            };
            let report = self.report_of(truth, explain.unwrap_or_default())?;
            py.detach(move || report.write(&path)).py()
        })
    }

    /// The report's headline (counts, match weights, threshold selection) for a notebook.
    fn _repr_html_(&self) -> PyResult<String> {
        guard(|| self.report_of(None, Vec::new())?.summary_html().py())
    }

    /// The Arrow PyCapsule stream interface.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let table = self.table()?.into_pyobject(py)?;
            table.call_method1("__arrow_c_stream__", (requested_schema,))
        })
    }
}

impl PyLinks {
    /// The core's report of this run.
    fn report_of(
        &self,
        truth: Option<BTreeSet<(String, String)>>,
        explain: Vec<(String, String)>,
    ) -> PyResult<Report> {
        let l = self.linked.linkage();
        let explanations = explain
            .iter()
            .map(|(a, b)| l.explain(a, b))
            .collect::<pseudolink::Result<Vec<_>>>()
            .py()?;
        let summary = self.linked.summary(FileRecord::default(), None);
        let mut notes = Vec::new();
        if self.manifests.iter().any(Option::is_none)
            && summary.comparison != pseudolink::link::model::ComparisonMode::Clear
        {
            notes.push("an input has no manifest: its data quality is not shown".to_string());
        }
        Ok(Report::new(ReportInput {
            summary,
            links: rows_of(l),
            manifests: self.manifests.as_ref().clone(),
            truth,
            explanations,
            notes,
        }))
    }

    fn table(&self) -> PyResult<PyTable> {
        let l = self.linked.linkage();
        let n = l.links().len();
        let mut left = StringBuilder::with_capacity(n, n * 12);
        let mut right = StringBuilder::with_capacity(n, n * 12);
        let mut weight = Float64Builder::with_capacity(n);
        let mut prob = Float64Builder::with_capacity(n);
        let mut band = StringBuilder::with_capacity(n, n * 6);
        let mut cluster = UInt32Builder::with_capacity(n);
        for link in l.links() {
            left.append_value(l.record_id(link.left));
            right.append_value(l.record_id(link.right));
            weight.append_value(link.weight);
            prob.append_value(link.probability);
            band.append_value(link.band.as_str());
            cluster.append_option((link.cluster > 0).then_some(link.cluster));
        }
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("left_id", DataType::Utf8, false),
            Field::new("right_id", DataType::Utf8, false),
            Field::new("match_weight", DataType::Float64, false),
            Field::new("match_probability", DataType::Float64, false),
            Field::new("band", DataType::Utf8, false),
            Field::new("cluster_id", DataType::UInt32, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(left.finish()),
            Arc::new(right.finish()),
            Arc::new(weight.finish()),
            Arc::new(prob.finish()),
            Arc::new(band.finish()),
            Arc::new(cluster.finish()),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
            .map_err(|e| crate::errors::InternalError::new_err(e.to_string()))?;
        PyTable::try_new(vec![batch], schema)
    }
}
