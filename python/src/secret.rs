//! `pseudolink.Secret`: never shown, never pickled.

use std::path::PathBuf;

use pseudolink::secret::load_secret_file;
use pseudolink::Secret;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::errors::{guard, warn_all, CoreResult, SecretPermissionWarning};

/// The 256-bit secret shared by the agencies under the Information Sharing Agreement.
///
/// Its `repr` and `str` show only the key check value, and it cannot be pickled or copied into
/// another process.
#[pyclass(frozen, module = "pseudolink._native", name = "Secret")]
pub struct PySecret {
    pub inner: Secret,
}

const NO_PICKLE: &str =
    "a pseudolink Secret cannot be pickled: load it in each process with Secret.from_file()";

#[pymethods]
impl PySecret {
    /// A new random secret from the operating system.
    #[classmethod]
    fn generate(_cls: &Bound<'_, PyType>) -> PyResult<Self> {
        guard(|| {
            Ok(PySecret {
                inner: Secret::generate().py()?,
            })
        })
    }

    /// Loads a secret file written by `pseudolink keygen` (64 hex characters).
    ///
    /// A file that users other than its owner can read gives a `SecretPermissionWarning` (as the
    /// CLI warns); with `strict=True` it raises `SecretError` instead (the CLI's `--strict`).
    #[classmethod]
    #[pyo3(signature = (path, *, strict=false))]
    fn from_file(cls: &Bound<'_, PyType>, path: PathBuf, strict: bool) -> PyResult<Self> {
        guard(|| {
            let loaded = load_secret_file(&path, strict).py()?;
            warn_all::<SecretPermissionWarning>(cls.py(), &loaded.warnings)?;
            Ok(PySecret {
                inner: loaded.secret,
            })
        })
    }

    /// A secret from exactly 32 bytes.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, data: &[u8]) -> PyResult<Self> {
        guard(|| {
            Ok(PySecret {
                inner: Secret::from_bytes(data).py()?,
            })
        })
    }

    /// The key check value: 16 hex characters that parties compare to confirm they hold the
    /// same secret without revealing it.
    #[getter]
    fn check_value(&self) -> PyResult<String> {
        guard(|| Ok(self.inner.check_value().to_string()))
    }

    fn __repr__(&self) -> String {
        format!("Secret(check_value='{}')", self.inner.check_value())
    }

    fn __str__(&self) -> String {
        self.__repr__()
    }

    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(NO_PICKLE))
    }

    fn __getstate__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(NO_PICKLE))
    }

    fn __copy__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(NO_PICKLE))
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyTypeError::new_err(NO_PICKLE))
    }
}
