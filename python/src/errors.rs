//! The Python exceptions, and the one place a core [`Error`] becomes a Python exception.
//!
//! Every function the module exposes runs inside [`guard`], so a Rust panic reaches Python as
//! [`InternalError`] (a [`PseudolinkError`]), never as pyo3's `PanicException`, which derives from
//! `BaseException` and escapes `except Exception`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pseudolink::Error;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyUserWarning};
use pyo3::prelude::*;

create_exception!(
    pseudolink,
    PseudolinkError,
    PyException,
    "Base class of every error pseudolink raises."
);
create_exception!(
    pseudolink,
    SchemaError,
    PseudolinkError,
    "The schema is not valid JSON, has unknown keys or wrong types, or asks for something impossible. `path` is the JSON path of the problem."
);
create_exception!(
    pseudolink,
    InputError,
    PseudolinkError,
    "An input (CSV file, table, encoded extract) is malformed. `file`, `line` and `field` say where: for in-memory tables `file` is None and `line` counts as in a CSV export (the first row is line 2)."
);
create_exception!(
    pseudolink,
    SecretError,
    PseudolinkError,
    "A secret could not be loaded or generated. Messages never contain secret material."
);
create_exception!(
    pseudolink,
    MismatchError,
    PseudolinkError,
    "Two inputs that must agree do not: extracts encoded under different schemas or secrets, or an extract that does not match its manifest."
);
create_exception!(
    pseudolink,
    ModelError,
    PseudolinkError,
    "A linkage model is invalid or does not fit the schema."
);
create_exception!(
    pseudolink,
    FileError,
    PseudolinkError,
    "A file could not be read or written. `path` and `action` say which and what; the operating system's error is the `__cause__` (an OSError)."
);
create_exception!(
    pseudolink,
    InvalidArgumentError,
    PseudolinkError,
    "An argument that makes no sense, such as a threshold outside 0..1."
);
create_exception!(
    pseudolink,
    CancelledError,
    PseudolinkError,
    "The operation was cancelled."
);
create_exception!(
    pseudolink,
    InternalError,
    PseudolinkError,
    "A bug in pseudolink (a Rust panic caught at the boundary). Please report it with the message."
);

create_exception!(
    pseudolink,
    SecretPermissionWarning,
    PyUserWarning,
    "A secret file can be read by users other than its owner: restrict it with chmod 600. Raised as an error (SecretError) instead with Secret.from_file(path, strict=True)."
);
create_exception!(
    pseudolink,
    UnverifiedExtractWarning,
    PyUserWarning,
    "An encoded extract was read with allow_unverified=True and its manifest was missing or did not match it, or extracts without a manifest were linked: their schema, secret and row counts could not be confirmed."
);

/// Adds the exception classes to the module, with class-level defaults for their attributes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PseudolinkError", py.get_type::<PseudolinkError>())?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("SecretError", py.get_type::<SecretError>())?;
    m.add("MismatchError", py.get_type::<MismatchError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("FileError", py.get_type::<FileError>())?;
    m.add(
        "InvalidArgumentError",
        py.get_type::<InvalidArgumentError>(),
    )?;
    m.add("CancelledError", py.get_type::<CancelledError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add(
        "SecretPermissionWarning",
        py.get_type::<SecretPermissionWarning>(),
    )?;
    m.add(
        "UnverifiedExtractWarning",
        py.get_type::<UnverifiedExtractWarning>(),
    )?;
    let none = py.None();
    let schema = py.get_type::<SchemaError>();
    schema.setattr("path", &none)?;
    let input = py.get_type::<InputError>();
    for attr in ["file", "line", "field"] {
        input.setattr(attr, &none)?;
    }
    let file = py.get_type::<FileError>();
    for attr in ["path", "action"] {
        file.setattr(attr, &none)?;
    }
    Ok(())
}

/// The Python exception of a core error: the only conversion in the binding.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| convert(py, e))
}

fn convert(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    let with_attrs = |err: PyErr, attrs: &[(&str, Py<PyAny>)]| -> PyErr {
        let value = err.value(py);
        for (name, v) in attrs {
            if let Err(set) = value.setattr(*name, v) {
                return set;
            }
        }
        err
    };
    let opt_str = |s: Option<String>| -> Py<PyAny> {
        match s {
            Some(s) => s
                .into_pyobject(py)
                .map(|o| o.into_any().unbind())
                .unwrap_or_else(|_| py.None()),
            None => py.None(),
        }
    };
    match e {
        Error::Schema { path, .. } => with_attrs(
            SchemaError::new_err(message),
            &[("path", opt_str(Some(path)))],
        ),
        Error::Input { location, .. } => {
            let line: Py<PyAny> = match location.line {
                Some(l) => l
                    .into_pyobject(py)
                    .map(|o| o.into_any().unbind())
                    .unwrap_or_else(|_| py.None()),
                None => py.None(),
            };
            with_attrs(
                InputError::new_err(message),
                &[
                    (
                        "file",
                        opt_str(location.file.map(|f| f.display().to_string())),
                    ),
                    ("line", line),
                    ("field", opt_str(location.field)),
                ],
            )
        }
        Error::Secret(_) => SecretError::new_err(message),
        Error::Mismatch(_) => MismatchError::new_err(message),
        Error::Model(_) => ModelError::new_err(message),
        Error::Io {
            action,
            path,
            source,
        } => {
            let err = with_attrs(
                FileError::new_err(message),
                &[
                    ("path", opt_str(Some(path.display().to_string()))),
                    ("action", opt_str(Some(action.to_string()))),
                ],
            );
            err.set_cause(py, Some(PyErr::from(source)));
            err
        }
        Error::Invalid(_) => InvalidArgumentError::new_err(message),
        Error::Cancelled => CancelledError::new_err(message),
        // `Error` is non-exhaustive: a kind added to the core later is still a PseudolinkError.
        _ => PseudolinkError::new_err(message),
    }
}

/// Runs `f`, turning a core error into its Python exception and a panic into [`InternalError`].
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(InternalError::new_err(format!(
                "internal error (a bug in pseudolink, please report it): {what}"
            )))
        }
    }
}

/// Issues each of the core's `warnings` as a Python warning of `category`, attributed to the
/// Python code that called the native function (stack level 1).
pub fn warn_all<T: pyo3::PyTypeInfo>(py: Python<'_>, warnings: &[String]) -> PyResult<()> {
    let category = py.get_type::<T>();
    for w in warnings {
        // Core messages hold no NUL (paths come from Python strings, which can: replace it).
        let message = std::ffi::CString::new(w.replace('\0', "\\0"))
            .map_err(|e| InternalError::new_err(e.to_string()))?;
        PyErr::warn(py, &category, &message, 1)?;
    }
    Ok(())
}

/// Extension for core results: `.py()?` converts the error.
pub trait CoreResult<T> {
    /// The Python result.
    fn py(self) -> PyResult<T>;
}

impl<T> CoreResult<T> for pseudolink::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
