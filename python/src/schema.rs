//! `pseudolink.Schema`.

use std::path::PathBuf;

use pseudolink::Schema;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::errors::{guard, CoreResult};

/// A validated linkage schema: which columns are read and how each field is normalised, encoded
/// and compared. Holds no secret.
#[pyclass(frozen, module = "pseudolink._native", name = "Schema")]
pub struct PySchema {
    pub inner: Schema,
}

#[pymethods]
impl PySchema {
    /// Reads, parses and validates a schema file.
    #[classmethod]
    fn from_file(_cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Self> {
        guard(|| {
            Ok(PySchema {
                inner: Schema::from_file(&path).py()?,
            })
        })
    }

    /// Parses and validates a schema from JSON text.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Self> {
        guard(|| {
            Ok(PySchema {
                inner: Schema::from_json(json).py()?,
            })
        })
    }

    /// The default schema for UK person records.
    #[classmethod]
    fn example(_cls: &Bound<'_, PyType>) -> PyResult<Self> {
        guard(|| {
            Ok(PySchema {
                inner: Schema::example(),
            })
        })
    }

    /// Pretty JSON of the schema, defaults filled in.
    fn to_json(&self) -> PyResult<String> {
        guard(|| Ok(self.inner.to_json_pretty()))
    }

    /// 32 hex characters identifying the schema: equal schemas have equal fingerprints.
    #[getter]
    fn fingerprint(&self) -> PyResult<String> {
        guard(|| Ok(self.inner.fingerprint().to_string()))
    }

    /// The input column holding each record's id.
    #[getter]
    fn record_id(&self) -> String {
        self.inner.record_id.clone()
    }

    /// The input columns the schema reads, record id first.
    #[getter]
    fn input_columns(&self) -> Vec<String> {
        self.inner
            .input_columns()
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PySchema>() {
            Ok(o) => o.get().inner == self.inner,
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        let f = self.inner.fingerprint();
        u64::from_str_radix(f.as_str().get(..16).unwrap_or("0"), 16).unwrap_or(0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Schema(fingerprint='{}', fields={})",
            self.inner.fingerprint(),
            self.inner.fields.len()
        )
    }
}
