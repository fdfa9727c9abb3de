//! The one place core errors become messages and exit codes (documented in docs/cli.md).

use std::process::ExitCode;

use pseudolink::Error;
use pseudolink_synth::SynthError;

/// Exit code of an error.
pub fn code(e: &Error) -> u8 {
    match e {
        Error::Input { .. } => 3,
        Error::Schema { .. } => 4,
        Error::Secret(_) => 5,
        Error::Mismatch(_) => 6,
        Error::Io { .. } => 7,
        Error::Model(_) => 8,
        Error::Invalid(_) => 2,
        Error::Cancelled => 130,
        _ => 1,
    }
}

/// Prints the error on stderr and returns its exit code.
pub fn report(e: &Error) -> ExitCode {
    eprintln!("pseudolink: error: {e}");
    ExitCode::from(code(e))
}

/// The core error a synthetic-population error stands for (its exit code and message): bad
/// settings are invalid arguments, failed writes I/O errors.
pub fn from_synth(e: SynthError) -> Error {
    match e {
        SynthError::Config(m) => Error::Invalid(m),
        SynthError::Io { path, source } => Error::io("write", path, source),
        SynthError::Csv { path, message } => {
            Error::io("write", path, std::io::Error::other(message))
        }
        other => Error::Invalid(other.to_string()),
    }
}
