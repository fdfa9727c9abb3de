//! `pseudolink.Index`: the person index with stable person ids (the core's `index` module, the
//! engine of `pseudolink index`).

use std::path::PathBuf;
use std::sync::Mutex;

use pseudolink::index::{AddOptions, Assignment, CreateOptions, PersonIndex};
use pseudolink::link::LinkOptions;
use pseudolink::run::{Rejects, RunControl};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use crate::errors::{guard, CoreResult, InvalidArgumentError};
use crate::link::PyModel;
use crate::schema::PySchema;

/// A person index in a folder: stable person ids, new records assigned as they come
/// (docs/index.md). Open one with `Index(path)` or make one with `Index.create(...)`; close it
/// with `close()` or a `with` block (one process at a time may hold an index open).
#[pyclass(frozen, module = "pseudolink._native", name = "Index")]
pub struct PyIndex {
    inner: Mutex<Option<PersonIndex>>,
}

fn assignment<'py>(py: Python<'py>, a: &Assignment) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("record_id", &a.record_id)?;
    d.set_item("source", &a.source)?;
    d.set_item("person_id", &a.person_id)?;
    d.set_item("match_probability", a.match_probability)?;
    d.set_item("band", a.band.as_str())?;
    d.set_item("candidate_person_id", &a.candidate_person_id)?;
    Ok(d)
}

impl PyIndex {
    fn with<T>(&self, f: impl FnOnce(&mut PersonIndex) -> PyResult<T>) -> PyResult<T> {
        let mut lock = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match lock.as_mut() {
            Some(index) => f(index),
            None => Err(InvalidArgumentError::new_err("the index is closed")),
        }
    }
}

#[pymethods]
impl PyIndex {
    /// Opens the index in the folder `path`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        guard(|| {
            let index = py.detach(|| PersonIndex::open(&path)).py()?;
            Ok(PyIndex {
                inner: Mutex::new(Some(index)),
            })
        })
    }

    /// Links the encoded extract files `inputs` (each with its manifest) into a new index in
    /// the folder `path`, as `pseudolink index create` does; `sources` names them (default: each
    /// file's name without `.enc.csv`); without `model` one is trained.
    #[classmethod]
    #[pyo3(signature = (path, schema, inputs, sources=None, model=None, threshold=0.9, review_threshold=0.5, cluster_support=0.5))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        path: PathBuf,
        schema: &PySchema,
        inputs: Vec<PathBuf>,
        sources: Option<Vec<String>>,
        model: Option<&PyModel>,
        threshold: f64,
        review_threshold: f64,
        cluster_support: f64,
    ) -> PyResult<Self> {
        guard(|| {
            let schema = schema.inner.clone();
            let model = model.map(|m| m.inner.clone());
            let options = CreateOptions {
                inputs,
                sources: sources.unwrap_or_default(),
                link: LinkOptions {
                    threshold,
                    review_threshold,
                    cluster_support,
                    ..LinkOptions::default()
                },
                model,
                control: pseudolink::run::RunControl::new(),
            };
            let (index, _) = py
                .detach(move || PersonIndex::create(&path, &schema, options))
                .py()?;
            Ok(PyIndex {
                inner: Mutex::new(Some(index)),
            })
        })
    }

    /// Adds the records of the encoded extract file `path` under `source` (default: the file's
    /// name without `.enc.csv`), as `pseudolink index add`; writes `output` (assigned.csv) if
    /// given. Returns one dict per record added: `record_id`, `source`, `person_id`,
    /// `match_probability`, `band` (`match`, `review` or `new`), `candidate_person_id`.
    ///
    /// A row that cannot be added (a record id repeated in the file, or already in the index
    /// for this source) raises `InputError` and nothing is added; with `rejects` (a path) such
    /// rows are written there instead (`line,reason,field,message,record_id`, as
    /// `encode_file` writes rejects) and the other rows added.
    #[pyo3(signature = (path, source=None, output=None, rejects=None))]
    fn add<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        source: Option<String>,
        output: Option<PathBuf>,
        rejects: Option<PathBuf>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        guard(|| {
            let options = AddOptions {
                source,
                rejects: Rejects::from(rejects),
            };
            let report = self.with(|index| {
                py.detach(|| match &output {
                    Some(o) => index.add_file_to(&path, o, &options),
                    None => index.add_file_with(&path, &options),
                })
                .py()
            })?;
            if report.compacted > 0 || report.compact_recommended {
                let message = if report.compacted > 0 {
                    format!(
                        "the index's recent block keys outgrew {} entries, so this add compacted \
                         it ({} moved); call compact() after each add to keep adds fast",
                        pseudolink::index::RECENT_BLOCKS_LIMIT,
                        report.compacted
                    )
                } else {
                    format!(
                        "the index holds {} recent block entries (more than {}); call compact() \
                         before the next add",
                        report.recent_blocks,
                        pseudolink::index::RECENT_BLOCKS_BOUND
                    )
                };
                py.import("warnings")?.call_method1("warn", (message,))?;
            }
            report
                .assignments
                .iter()
                .map(|a| assignment(py, a))
                .collect()
        })
    }

    /// Where one encoded row (as `pseudolink encode` writes it, no header) of `source` would
    /// go, without storing it: a dict as `add` returns (`person_id` None for a new person).
    fn match_row<'py>(
        &self,
        py: Python<'py>,
        source: &str,
        row: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let a = self.with(|index| index.match_row(source, row.as_bytes()).py())?;
            assignment(py, &a)
        })
    }

    /// Every record: dicts of `source`, `record_id`, `person_id`, sorted by source and id.
    fn export<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        guard(|| {
            let members = self.with(|index| index.export().py())?;
            members
                .iter()
                .map(|m| {
                    let d = PyDict::new(py);
                    d.set_item("source", &m.source)?;
                    d.set_item("record_id", &m.record_id)?;
                    d.set_item("person_id", &m.person_id)?;
                    Ok(d)
                })
                .collect()
        })
    }

    /// Writes `export()` to the CSV file `path`, as `pseudolink index export`.
    fn write_export(&self, path: PathBuf) -> PyResult<u64> {
        guard(|| self.with(|index| index.write_export(&path).py()))
    }

    /// Withdraws the records `record_ids` of `source`: no trace is left in the index (all or
    /// nothing). Returns a dict: `removed` (how many) and `splits`, the persons this withdrawal
    /// left no longer held together by links, listed for review (dicts of `person`, `when`,
    /// `parts`, as `splits()` gives them), as `pseudolink index remove` reports them.
    fn remove<'py>(
        &self,
        py: Python<'py>,
        source: &str,
        record_ids: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let report = self.with(|index| py.detach(|| index.remove(source, &record_ids)).py())?;
            let json = serde_json::to_string(&report.splits)
                .map_err(|e| InvalidArgumentError::new_err(e.to_string()))?;
            let d = PyDict::new(py);
            d.set_item("removed", report.removed)?;
            d.set_item("splits", py.import("json")?.call_method1("loads", (json,))?)?;
            Ok(d)
        })
    }

    /// Moves the block keys of the records added since the last compaction into the index's
    /// main blocking table, as `pseudolink index compact` does, so that adds stay fast (`add`
    /// warns when it is due). Safe at any time (one transaction); persons and assignments do not
    /// change. Returns a dict: `moved` (entries moved, 0 when there was nothing to do) and
    /// `blocks` (entries of the main table after).
    fn compact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let report = self.with(|index| py.detach(|| index.compact(&RunControl::new())).py())?;
            let d = PyDict::new(py);
            d.set_item("moved", report.moved)?;
            d.set_item("blocks", report.blocks)?;
            Ok(d)
        })
    }

    /// The merge log: dicts of `retired`, `surviving`, `when`, `evidence` (pairs `a`, `b`,
    /// `probability`).
    fn merges<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let merges = self.with(|index| index.merges().py())?;
            let json = serde_json::to_string(&merges)
                .map_err(|e| InvalidArgumentError::new_err(e.to_string()))?;
            py.import("json")?.call_method1("loads", (json,))
        })
    }

    /// Persons listed for a split review: dicts of `person`, `when`, `parts`.
    fn splits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let splits = self.with(|index| index.splits().py())?;
            let json = serde_json::to_string(&splits)
                .map_err(|e| InvalidArgumentError::new_err(e.to_string()))?;
            py.import("json")?.call_method1("loads", (json,))
        })
    }

    /// The source names, in the order they joined.
    #[getter]
    fn sources(&self) -> PyResult<Vec<String>> {
        guard(|| self.with(|index| Ok(index.sources().to_vec())))
    }

    /// Records in the index.
    fn __len__(&self) -> PyResult<usize> {
        guard(|| self.with(|index| Ok(index.len().py()? as usize)))
    }

    /// Closes the index (later calls raise); closing twice is allowed.
    fn close(&self) {
        let mut lock = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *lock = None;
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }
}
