//! The one error type of the core library.
//!
//! Every binding (CLI, Python, C) maps [`Error`] to its own vocabulary in exactly one place, so the
//! variants are the contract: they are `#[non_exhaustive]` and new kinds may be added.

use std::fmt;
use std::path::PathBuf;

/// Where in an input file a problem was found: file, line and (optionally) field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, when the input came from a file.
    pub file: Option<PathBuf>,
    /// 1-based line number in the file (the header is line 1).
    pub line: Option<u64>,
    /// The column or field name.
    pub field: Option<String>,
}

impl Location {
    /// A location in `file` at `line`.
    pub fn at(file: Option<&std::path::Path>, line: u64) -> Self {
        Location {
            file: file.map(PathBuf::from),
            line: Some(line),
            field: None,
        }
    }

    /// The same location, naming `field`.
    #[must_use]
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        match &self.file {
            Some(p) => parts.push(p.display().to_string()),
            None => parts.push("<input>".to_string()),
        }
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(field) = &self.field {
            parts.push(format!("field '{field}'"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Everything that can go wrong in pseudolink.
///
/// Messages name the file, line and field a user must fix, and never contain secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The schema is not valid JSON, has unknown keys or wrong types, or asks for something impossible.
    #[error("schema error at {path}: {message}")]
    Schema {
        /// JSON path of the problem, e.g. `fields[2].bloom.bits`.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// An input file (raw extract, encoded extract, links, truth) is malformed.
    #[error("{location}: {message}")]
    Input {
        /// Where the problem is.
        location: Location,
        /// What is wrong and what to do.
        message: String,
    },
    /// A secret could not be loaded or generated (wrong length, not hex, unreadable file...).
    #[error("secret error: {0}")]
    Secret(String),
    /// Two inputs that must agree do not (schema fingerprint, key check value, format version).
    #[error("mismatch: {0}")]
    Mismatch(String),
    /// A model file is invalid or does not fit the schema.
    #[error("model error: {0}")]
    Model(String),
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "create", "write", "rename").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The run was cancelled by the caller (Ctrl-C, a cancelled Python call).
    #[error("cancelled")]
    Cancelled,
    /// A usage error: an argument that makes no sense (an empty file list, a threshold outside 0..1).
    #[error("invalid argument: {0}")]
    Invalid(String),
}

impl Error {
    /// A schema error at JSON `path`.
    pub fn schema(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Schema {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An input error at `location`.
    pub fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input {
            location,
            message: message.into(),
        }
    }

    /// An I/O error while doing `action` on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Result type of the core library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
