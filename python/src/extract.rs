//! `pseudolink.EncodedExtract`, `encode_*` and `read_encoded`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use pseudolink::internals::encode::layout::{Layout, Slot};
use pseudolink::internals::encode::pair_stats::Sampler;
use pseudolink::io::encoded::{read_encoded as core_read, ReadOptions};
use pseudolink::io::text::TextEncoding;
use pseudolink::io::Manifest;
use pseudolink::run::{self, EncodeOptions, Encoded, Rejects, RunControl};
use pseudolink::{EncodedRecord, Encoder, Schema};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3_arrow::PyTable;
use rayon::prelude::*;

use crate::errors::{
    guard, to_py, warn_all, InputError, InvalidArgumentError, UnverifiedExtractWarning,
};
use crate::input::{self, Table};
use crate::run::detached;
use crate::schema::PySchema;
use crate::secret::PySecret;

/// Rows per Arrow record batch in `to_arrow()`.
const BATCH_ROWS: usize = 1 << 18;

/// An encoded extract held in memory: the result of `encode()` or `read_encoded()`.
#[pyclass(frozen, module = "pseudolink._native", name = "EncodedExtract")]
pub struct PyEncodedExtract {
    pub data: Arc<ExtractData>,
}

/// The extract's contents, shared with linking.
pub struct ExtractData {
    pub schema: Schema,
    pub layout: Layout,
    pub records: Vec<EncodedRecord>,
    pub rejected: Vec<run::RejectedRow>,
    /// Updated when the extract is written. `None` only for a file read with `allow_unverified`
    /// whose manifest was missing or unreadable.
    pub manifest: Mutex<Option<Manifest>>,
    /// The file it was read from (`read_encoded`, or a path given to `link`), for messages.
    pub path: Option<PathBuf>,
    /// False when it was read with `allow_unverified` and its manifest was missing or did not
    /// match the file.
    pub verified: bool,
    /// The pair statistics' sample, when encoded with `keep_sample` and not yet taken.
    pub sample: Mutex<Option<Sampler>>,
}

impl ExtractData {
    fn from_encoded(schema: Schema, encoded: Encoded) -> Self {
        ExtractData {
            layout: Layout::new(&schema),
            schema,
            records: encoded.records,
            rejected: encoded.rejected,
            manifest: Mutex::new(Some(encoded.manifest)),
            path: None,
            verified: true,
            sample: Mutex::new(encoded.sample),
        }
    }

    /// Reads the encoded extract at `path` under `schema`, checked against its manifest unless
    /// `allow_unverified` (as `pseudolink link --allow-unverified` reads its inputs). The core's
    /// warnings (a manifest missing or not matching) are issued as `UnverifiedExtractWarning`s.
    pub fn read(
        py: Python<'_>,
        path: PathBuf,
        schema: Schema,
        allow_unverified: bool,
    ) -> PyResult<Self> {
        let (read, schema) = detached(py, "reading", false, move |_| {
            core_read(&path, &schema, ReadOptions { allow_unverified }).map(|r| (r, schema))
        })?;
        warn_all::<UnverifiedExtractWarning>(py, &read.warnings)?;
        Ok(ExtractData {
            layout: Layout::new(&schema),
            schema,
            verified: read.manifest.is_some() && read.warnings.is_empty(),
            records: read.records,
            rejected: Vec::new(),
            manifest: Mutex::new(read.manifest),
            path: Some(read.path),
            sample: Mutex::new(None),
        })
    }

    pub fn manifest(&self) -> Option<Manifest> {
        match self.manifest.lock() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Options shared by the encode entry points.
struct Common<'a> {
    schema: &'a PySchema,
    secret: &'a PySecret,
    keep_rejected: bool,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    /// Keep the pair statistics' sample instead of counting it (`encode_arrow` only).
    keep_sample: bool,
    input: InputArgs,
}

/// How to read the input, and the source's name: the `encoding`, `delimiter`, `sheet`,
/// `columns` and `source` keyword arguments.
struct InputArgs {
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    source: Option<String>,
}

impl InputArgs {
    /// Sets them in `options` (an unknown encoding or delimiter is an `InvalidArgumentError`).
    fn apply(self, options: &mut EncodeOptions) -> PyResult<()> {
        if let Some(e) = &self.encoding {
            options.encoding = TextEncoding::parse(e).map_err(to_py)?;
        }
        if let Some(d) = &self.delimiter {
            options.delimiter = Some(pseudolink::io::text::parse_delimiter(d).map_err(to_py)?);
        }
        options.sheet = self.sheet;
        for (from, to) in self.columns.unwrap_or_default() {
            pseudolink::io::add_column(&mut options.columns, from, to).map_err(to_py)?;
        }
        options.source = self.source;
        Ok(())
    }
}

impl Common<'_> {
    fn run(
        self,
        py: Python<'_>,
        work: impl FnOnce(&Encoder, &EncodeOptions, &RunControl<'_>) -> pseudolink::Result<Encoded>
            + Send,
    ) -> PyResult<PyEncodedExtract> {
        let schema = self.schema.inner.clone();
        let encoder = Encoder::new(&schema, &self.secret.inner);
        let mut options = EncodeOptions {
            rejects: Rejects::keep(self.keep_rejected),
            agreement: self.agreement,
            purpose: self.purpose,
            keep_sample: self.keep_sample,
            ..EncodeOptions::default()
        };
        self.input.apply(&mut options)?;
        let encoded = detached(py, "encoding", self.progress, move |control| {
            control.with_run_control(|run| work(&encoder, &options, run))
        })?;
        Ok(PyEncodedExtract {
            data: Arc::new(ExtractData::from_encoded(schema, encoded)),
        })
    }
}

/// Encodes the raw extract at `path`: CSV text, an Excel workbook (`.xlsx`) or a Parquet file.
#[pyfunction]
#[pyo3(signature = (path, schema, secret, *, keep_rejected=true, progress=false, agreement=None, purpose=None, encoding=None, delimiter=None, sheet=None, columns=None, source=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_csv(
    py: Python<'_>,
    path: PathBuf,
    schema: &PySchema,
    secret: &PySecret,
    keep_rejected: bool,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    source: Option<String>,
) -> PyResult<PyEncodedExtract> {
    guard(|| {
        let common = Common {
            schema,
            secret,
            keep_rejected,
            progress,
            agreement,
            purpose,
            keep_sample: false,
            input: InputArgs {
                encoding,
                delimiter,
                sheet,
                columns,
                source,
            },
        };
        common.run(py, move |encoder, options, control| {
            run::encode_csv(encoder, &path, options, control)
        })
    })
}

/// Encodes the raw extract at `input` (CSV, `.xlsx` or Parquet) into `output` (and `output.manifest.json`, and `rejects` if
/// given), exactly as `pseudolink encode` does; returns the manifest as JSON text.
#[pyfunction]
#[pyo3(signature = (input, output, schema, secret, *, rejects=None, progress=false, agreement=None, purpose=None, id_memory=None, temp_dir=None, encoding=None, delimiter=None, sheet=None, columns=None, source=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_file(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    schema: &PySchema,
    secret: &PySecret,
    rejects: Option<PathBuf>,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    id_memory: Option<u64>,
    temp_dir: Option<PathBuf>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    source: Option<String>,
) -> PyResult<String> {
    guard(|| {
        let file = FileRun {
            schema,
            secret,
            rejects,
            progress,
            agreement,
            purpose,
            id_memory,
            temp_dir,
            input: InputArgs {
                encoding,
                delimiter,
                sheet,
                columns,
                source,
            },
        };
        file.run(py, move |encoder, options, control| {
            run::encode_file(encoder, &input, &output, options, control)
        })
    })
}

/// What `encode_file` and `encode_table_file` share: their options, and encoding with the GIL
/// released.
struct FileRun<'a> {
    schema: &'a PySchema,
    secret: &'a PySecret,
    rejects: Option<PathBuf>,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    id_memory: Option<u64>,
    temp_dir: Option<PathBuf>,
    input: InputArgs,
}

impl FileRun<'_> {
    /// Runs `work` with the encoder and the file options; returns the manifest as JSON text.
    fn run(
        self,
        py: Python<'_>,
        work: impl FnOnce(&Encoder, &EncodeOptions, &RunControl<'_>) -> pseudolink::Result<Manifest>
            + Send,
    ) -> PyResult<String> {
        let id_memory = self
            .id_memory
            .map(run::id_memory_from_mib)
            .transpose()
            .map_err(to_py)?;
        let encoder = Encoder::new(&self.schema.inner, &self.secret.inner);
        let mut options = EncodeOptions {
            rejects: Rejects::from(self.rejects),
            agreement: self.agreement,
            purpose: self.purpose,
            id_memory,
            temp_dir: self.temp_dir,
            ..EncodeOptions::default()
        };
        self.input.apply(&mut options)?;
        let manifest = detached(py, "encoding", self.progress, move |control| {
            control.with_run_control(|run| work(&encoder, &options, run))
        })?;
        Ok(manifest.to_json())
    }
}

fn encode_text_table(
    common: Common<'_>,
    py: Python<'_>,
    table: Table,
    input_name: String,
) -> PyResult<PyEncodedExtract> {
    common.run(py, move |encoder, options, control| {
        let (names, batches) = (&table.names, &table.batches);
        run::encode_table(encoder, names, batches, &input_name, options, control)
    })
}

/// Encodes an Arrow table (any object with `__arrow_c_stream__`); `input_name` is recorded in
/// the manifest.
#[pyfunction]
#[pyo3(signature = (data, schema, secret, *, input_name, keep_rejected=true, progress=false, agreement=None, purpose=None, encoding=None, delimiter=None, sheet=None, columns=None, source=None, keep_sample=false))]
#[allow(clippy::too_many_arguments)]
pub fn encode_arrow(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    schema: &PySchema,
    secret: &PySecret,
    input_name: String,
    keep_rejected: bool,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    source: Option<String>,
    keep_sample: bool,
) -> PyResult<PyEncodedExtract> {
    guard(|| {
        let table = arrow_table(py, data)?;
        let common = Common {
            schema,
            secret,
            keep_rejected,
            progress,
            agreement,
            purpose,
            keep_sample,
            input: InputArgs {
                encoding,
                delimiter,
                sheet,
                columns,
                source,
            },
        };
        encode_text_table(common, py, table, input_name)
    })
}

/// Encodes a list of dicts (one per row) or a dict of columns (name to sequence of values).
#[pyfunction]
#[pyo3(signature = (data, schema, secret, *, input_name, keep_rejected=true, progress=false, agreement=None, purpose=None, encoding=None, delimiter=None, sheet=None, columns=None, source=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_python(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    schema: &PySchema,
    secret: &PySecret,
    input_name: String,
    keep_rejected: bool,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    source: Option<String>,
) -> PyResult<PyEncodedExtract> {
    guard(|| {
        let table = python_table(data)?;
        let common = Common {
            schema,
            secret,
            keep_rejected,
            progress,
            agreement,
            purpose,
            keep_sample: false,
            input: InputArgs {
                encoding,
                delimiter,
                sheet,
                columns,
                source,
            },
        };
        encode_text_table(common, py, table, input_name)
    })
}

/// The table of an Arrow stream (any object with `__arrow_c_stream__`), its cells as text.
fn arrow_table(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Table> {
    let (names, batches) = input::import_arrow(data)?;
    py.detach(move || input::arrow_to_text(names, batches))
        .map_err(|(column, message)| {
            let err = InputError::new_err(format!("column '{column}' {message}"));
            let _ = err.value(py).setattr("field", column);
            err
        })
}

/// The table of a list of dicts (one per row) or a dict of columns.
fn python_table(data: &Bound<'_, PyAny>) -> PyResult<Table> {
    if let Ok(rows) = data.cast::<PyList>() {
        input::records_to_table(rows)
    } else if let Ok(columns) = data.cast::<PyDict>() {
        input::columns_to_table(columns)
    } else {
        Err(pyo3::exceptions::PyTypeError::new_err(
            "expected a list of dicts or a dict of columns",
        ))
    }
}

/// Encodes a table (an Arrow stream when `arrow`, otherwise a list of dicts or a dict of
/// columns) into `output` (and `output.manifest.json`, and `rejects` if given), rows written
/// while the next ones are encoded: what `encode_arrow`/`encode_python` then `write_csv` write.
/// Returns the manifest as JSON text.
#[pyfunction]
#[pyo3(signature = (data, output, schema, secret, *, arrow, input_name, rejects=None, progress=false, agreement=None, purpose=None, id_memory=None, temp_dir=None, encoding=None, delimiter=None, sheet=None, columns=None, source=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_table_file(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    output: PathBuf,
    schema: &PySchema,
    secret: &PySecret,
    arrow: bool,
    input_name: String,
    rejects: Option<PathBuf>,
    progress: bool,
    agreement: Option<String>,
    purpose: Option<String>,
    id_memory: Option<u64>,
    temp_dir: Option<PathBuf>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    source: Option<String>,
) -> PyResult<String> {
    guard(|| {
        let table = if arrow {
            arrow_table(py, data)?
        } else {
            python_table(data)?
        };
        let file = FileRun {
            schema,
            secret,
            rejects,
            progress,
            agreement,
            purpose,
            id_memory,
            temp_dir,
            input: InputArgs {
                encoding,
                delimiter,
                sheet,
                columns,
                source,
            },
        };
        file.run(py, move |encoder, options, control| {
            let (names, batches) = (&table.names, &table.batches);
            run::encode_table_file(
                encoder,
                names,
                batches,
                &input_name,
                &output,
                options,
                control,
            )
        })
    })
}

/// Reads an encoded extract written by `pseudolink encode` or `EncodedExtract.write_csv`,
/// checking it against its manifest and the schema. With `allow_unverified=True` a missing or
/// mismatching manifest is an `UnverifiedExtractWarning` instead of an error (the CLI's
/// `--allow-unverified`).
#[pyfunction]
#[pyo3(signature = (path, schema=None, *, allow_unverified=false))]
pub fn read_encoded(
    py: Python<'_>,
    path: PathBuf,
    schema: Option<&PySchema>,
    allow_unverified: bool,
) -> PyResult<PyEncodedExtract> {
    guard(|| {
        let schema = schema.map_or_else(Schema::example, |s| s.inner.clone());
        Ok(PyEncodedExtract {
            data: Arc::new(ExtractData::read(py, path, schema, allow_unverified)?),
        })
    })
}

#[pymethods]
impl PyEncodedExtract {
    fn __len__(&self) -> usize {
        self.data.records.len()
    }

    fn __repr__(&self) -> String {
        let unverified = if self.data.verified {
            ""
        } else {
            ", unverified"
        };
        match self.data.manifest() {
            Some(m) => format!(
                "EncodedExtract(records={}, rejected={}, schema='{}', key_check_value='{}'{unverified})",
                self.data.records.len(),
                m.counts.rejected,
                m.schema_fingerprint,
                m.key_check_value
            ),
            None => format!(
                "EncodedExtract(records={}, no manifest{unverified})",
                self.data.records.len()
            ),
        }
    }

    /// The manifest as a dict (its `output` is filled in once the extract is written). Empty for
    /// an extract read with `allow_unverified=True` whose manifest was missing or unreadable.
    #[getter]
    fn manifest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| match self.data.manifest() {
            Some(m) => py.import("json")?.call_method1("loads", (m.to_json(),)),
            None => Ok(PyDict::new(py).into_any()),
        })
    }

    /// False for an extract read with `allow_unverified=True` whose manifest was missing or did
    /// not match the file; true otherwise.
    #[getter]
    fn verified(&self) -> bool {
        self.data.verified
    }

    /// The schema the extract was encoded under.
    #[getter]
    fn schema(&self) -> PySchema {
        PySchema {
            inner: self.data.schema.clone(),
        }
    }

    /// The rows set aside, as dicts with `line`, `reason`, `field`, `message` and `record_id`.
    #[getter]
    fn rejected<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let list = PyList::empty(py);
            for r in &self.data.rejected {
                let d = PyDict::new(py);
                d.set_item("line", r.line)?;
                d.set_item("reason", r.reason.as_str())?;
                d.set_item("field", r.field.as_deref())?;
                d.set_item("message", &r.message)?;
                d.set_item("record_id", &r.record_id)?;
                list.append(d)?;
            }
            Ok(list)
        })
    }

    /// The column names, `record_id` first.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.data
            .layout
            .header()
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// Writes the extract as CSV to `path` and its manifest to `path + ".manifest.json"` (and the
    /// rejected rows to `rejects`), exactly as `pseudolink encode` writes them. Nothing appears
    /// unless every file is complete.
    #[pyo3(signature = (path, *, rejects=None, progress=false))]
    fn write_csv(
        &self,
        py: Python<'_>,
        path: PathBuf,
        rejects: Option<PathBuf>,
        progress: bool,
    ) -> PyResult<()> {
        guard(|| {
            let Some(manifest) = self.data.manifest().filter(|_| self.data.verified) else {
                return Err(InvalidArgumentError::new_err(
                    "this extract was read with allow_unverified=True and its manifest was missing or did not match it: writing it would give it a manifest that vouches for it; copy the file instead",
                ));
            };
            let data = Arc::clone(&self.data);
            let written = detached(py, "writing", progress, move |control| {
                write(&data, &manifest, &path, rejects, &control.cancel)
            })?;
            match self.data.manifest.lock() {
                Ok(mut m) => *m = Some(written),
                Err(poisoned) => *poisoned.into_inner() = Some(written),
            }
            Ok(())
        })
    }

    /// The extract as a `pyarrow.Table` (requires pyarrow): string columns, null where a value
    /// was missing.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| self.table(py)?.into_pyarrow(py))
    }

    /// The extract as a `pandas.DataFrame` (through pyarrow when it is installed; otherwise
    /// from Python lists).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            if py.import("pyarrow").is_ok() {
                return self.to_arrow(py)?.call_method0("to_pandas");
            }
            let pandas = py.import("pandas")?;
            let data = Arc::clone(&self.data);
            let columns: Vec<ArrayRef> = py.detach(move || {
                (0..=data.layout.columns.len())
                    .into_par_iter()
                    .map(|c| column(&data.layout, &data.records, c))
                    .collect()
            });
            let dict = PyDict::new(py);
            for (name, col) in self.data.layout.header().into_iter().zip(columns) {
                let strings = col.as_string::<i32>();
                let values: Vec<Option<&str>> = strings.iter().collect();
                dict.set_item(name, values)?;
            }
            pandas.call_method1("DataFrame", (dict,))
        })
    }

    /// The Arrow PyCapsule stream interface: `pyarrow.table(extract)`, `polars.DataFrame(extract)`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let table = self.table(py)?.into_pyobject(py)?;
            table.call_method1("__arrow_c_stream__", (requested_schema,))
        })
    }
}

impl PyEncodedExtract {
    fn table(&self, py: Python<'_>) -> PyResult<PyTable> {
        let data = Arc::clone(&self.data);
        let (batches, schema) = py.detach(move || arrow_batches(&data.layout, &data.records));
        PyTable::try_new(batches?, schema)
    }
}

fn write(
    data: &ExtractData,
    manifest: &Manifest,
    path: &std::path::Path,
    rejects: Option<PathBuf>,
    cancel: &std::sync::atomic::AtomicBool,
) -> pseudolink::Result<Manifest> {
    run::write_encoded(
        &data.records,
        &data.rejected,
        manifest,
        &data.layout,
        path,
        rejects.as_deref(),
        &RunControl::new().cancel(cancel),
    )
}

/// The Arrow schema and record batches of `records`.
fn arrow_batches(
    layout: &Layout,
    records: &[EncodedRecord],
) -> (PyResult<Vec<RecordBatch>>, SchemaRef) {
    let header = layout.header();
    let fields: Vec<Field> = header
        .iter()
        .enumerate()
        .map(|(i, name)| Field::new(*name, DataType::Utf8, i != 0))
        .collect();
    let schema: SchemaRef = Arc::new(ArrowSchema::new(fields));
    let batches = records
        .chunks(BATCH_ROWS)
        .map(|chunk| {
            let columns: Vec<ArrayRef> = (0..header.len())
                .into_par_iter()
                .map(|c| column(layout, chunk, c))
                .collect();
            RecordBatch::try_new(Arc::clone(&schema), columns)
                .map_err(|e| crate::errors::InternalError::new_err(e.to_string()))
        })
        .collect();
    (batches, schema)
}

/// Column `c` of the header (0 is the record id) for `records`.
fn column(layout: &Layout, records: &[EncodedRecord], c: usize) -> ArrayRef {
    let slot = c
        .checked_sub(1)
        .and_then(|i| layout.columns.get(i))
        .map(|col| col.slot);
    let width = match slot {
        None => 16,
        Some(Slot::Token(_)) => 32,
        Some(Slot::Set(_)) => 16 * 16,
        Some(Slot::Bloom { bits, .. }) => (bits as usize / 8).div_ceil(3) * 4,
    };
    let mut builder = StringBuilder::with_capacity(records.len(), records.len() * width);
    let mut buf = Vec::with_capacity(width);
    for r in records {
        buf.clear();
        let Some(slot) = slot else {
            builder.append_value(&r.id);
            continue;
        };
        match (r.write_cell(slot, &mut buf), std::str::from_utf8(&buf)) {
            (true, Ok(text)) => builder.append_value(text),
            _ => builder.append_null(),
        }
    }
    Arc::new(builder.finish())
}
