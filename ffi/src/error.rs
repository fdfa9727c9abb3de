//! Result codes, the one mapping from core errors to codes, and the thread-local last error.

use std::cell::RefCell;
use std::os::raw::c_char;

use pseudolink::Error;

use crate::ffi::{out_ref, write_bytes};
use crate::panic::ffi_boundary;

/// The result of every pseudolink function (except `pl_version` and the `_free` functions).
///
/// `PL_OK` is zero; every other value is an error whose message can be read with
/// `pl_last_error_message` on the same thread. The numbers are part of the ABI: they never change
/// and are never reused; new codes are added at the end. Treat an unknown value like
/// `PL_UNKNOWN`.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pl_result {
    /// Success.
    PL_OK = 0,
    /// A required pointer argument was NULL (or a buffer pointer was NULL with a non-zero length).
    PL_NULL_POINTER = 1,
    /// A string argument was not valid UTF-8.
    PL_INVALID_UTF8 = 2,
    /// An argument makes no sense: wrong number of values, empty record id, empty path,
    /// threshold outside 0..1, impossible date, length too large.
    PL_INVALID_ARGUMENT = 3,
    /// The output buffer is too small; `*written` holds the size needed. Nothing else was written.
    PL_BUFFER_TOO_SMALL = 4,
    /// The schema JSON is invalid (the message gives the JSON path of the problem).
    PL_SCHEMA_ERROR = 5,
    /// The secret is invalid: wrong length, not hexadecimal, empty file.
    PL_SECRET_ERROR = 6,
    /// An input file is malformed (the message names the file, line and field).
    PL_INPUT_ERROR = 7,
    /// Two inputs that must agree do not (schema fingerprint, key check value, format version).
    PL_MISMATCH = 8,
    /// A file could not be read or written (the message names it and the system error).
    PL_IO_ERROR = 9,
    /// A model file is invalid or does not fit the schema.
    PL_MODEL_ERROR = 10,
    /// The run was cancelled.
    PL_CANCELLED = 11,
    /// An internal error (a Rust panic) was caught at the library boundary. The call had no
    /// effect on its outputs; the handles passed to it remain usable. Please report it.
    PL_PANIC = 12,
    /// An error of a kind this version of the C API does not know (a newer core error).
    PL_UNKNOWN = 13,
}

/// A failed call: its code and the message stored for `pl_last_error_message`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: pl_result,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: pl_result, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(name: &str) -> Self {
        Failure::new(
            pl_result::PL_NULL_POINTER,
            format!("argument '{name}' is NULL"),
        )
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure::new(pl_result::PL_INVALID_ARGUMENT, message)
    }
}

/// The code of a core error: the one place where core errors become C result codes.
pub(crate) fn code_of(e: &Error) -> pl_result {
    match e {
        Error::Schema { .. } => pl_result::PL_SCHEMA_ERROR,
        Error::Input { .. } => pl_result::PL_INPUT_ERROR,
        Error::Secret(_) => pl_result::PL_SECRET_ERROR,
        Error::Mismatch(_) => pl_result::PL_MISMATCH,
        Error::Model(_) => pl_result::PL_MODEL_ERROR,
        Error::Io { .. } => pl_result::PL_IO_ERROR,
        Error::Cancelled => pl_result::PL_CANCELLED,
        Error::Invalid(_) => pl_result::PL_INVALID_ARGUMENT,
        // `Error` is #[non_exhaustive]: a kind added to the core after this list was written.
        _ => pl_result::PL_UNKNOWN,
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        // Core messages name files, lines and fields and never contain secret material.
        Failure::new(code_of(&e), e.to_string())
    }
}

/// A `Result` whose error is a [`Failure`].
pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

thread_local! {
    static LAST_WARNING: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Stores the core's `warnings` of the current call (one per line) for
/// `pl_last_warning_message`.
pub(crate) fn set_last_warnings(warnings: &[String]) {
    let _ = LAST_WARNING.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            *m = warnings.join("\n");
        }
    });
}

/// Clears this thread's warnings (every call that returns a `pl_result` does, first).
pub(crate) fn clear_last_warning() {
    let _ = LAST_WARNING.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            m.clear();
        }
    });
}

/// A copy of this thread's warnings.
pub(crate) fn last_warning() -> String {
    LAST_WARNING
        .try_with(|m| m.try_borrow().map(|m| m.clone()).unwrap_or_default())
        .unwrap_or_default()
}

/// Stores `message` as this thread's last error.
pub(crate) fn set_last_error(message: &str) {
    // `try_with` fails only while the thread is being torn down; there is nobody to tell then.
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            m.clear();
            m.push_str(message);
        }
    });
}

/// Clears this thread's last error (every call that succeeds does).
pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            m.clear();
        }
    });
}

/// A copy of this thread's last error message.
pub(crate) fn last_error() -> String {
    LAST_ERROR
        .try_with(|m| m.try_borrow().map(|m| m.clone()).unwrap_or_default())
        .unwrap_or_default()
}

/// Writes the message of the last failed call on this thread into `buf` (UTF-8, not
/// NUL-terminated) and its length into `*written`.
///
/// The message describes the most recent call on this thread that returned an error; every call
/// that succeeds clears it, so after a success the message is empty (`*written` = 0). It never
/// contains secret material or record values. This function itself does not change the stored
/// message, so a caller whose buffer was too small can retry: it returns `PL_BUFFER_TOO_SMALL`
/// with `*written` set to the size needed and writes nothing to `buf`. `buf` may be NULL when
/// `buf_len` is 0.
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `buf_len` bytes; `written` must be NULL or a valid
/// pointer to a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_last_error_message(
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! { @keep_messages
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        let message = last_error();
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes of writes.
        unsafe { write_bytes(message.as_bytes(), buf, buf_len, written) }
    }
}

/// Writes the warnings of the last call on this thread into `buf` (UTF-8, not NUL-terminated;
/// several warnings are separated by a newline) and their length into `*written`.
///
/// Some calls succeed but have something the user should know, which the CLI would print as a
/// warning: `pl_secret_from_file` loaded a secret file that users other than its owner can read
/// (`pl_secret_from_file_strict` refuses it instead), `pl_link_files_with_options` accepted
/// inputs unverified, a linkage model did not converge. Every call that returns a `pl_result`
/// (except this function and `pl_last_error_message`) first clears the warnings, so after a call
/// without any `*written` is 0. Like the last error the warnings are per thread, never contain
/// secret material, and follow the same buffer protocol: `PL_BUFFER_TOO_SMALL` with `*written`
/// set to the size needed and nothing written to `buf`; `buf` may be NULL when `buf_len` is 0.
/// Reading them does not clear them.
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `buf_len` bytes; `written` must be NULL or a valid
/// pointer to a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_last_warning_message(
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! { @keep_messages
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        let message = last_warning();
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes of writes.
        unsafe { write_bytes(message.as_bytes(), buf, buf_len, written) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn every_core_error_kind_has_its_own_code() {
        let cases = [
            (Error::schema("$.fields", "bad"), pl_result::PL_SCHEMA_ERROR),
            (
                Error::input(pseudolink::Location::default(), "bad row"),
                pl_result::PL_INPUT_ERROR,
            ),
            (Error::Secret("short".into()), pl_result::PL_SECRET_ERROR),
            (Error::Mismatch("kcv".into()), pl_result::PL_MISMATCH),
            (Error::Model("m".into()), pl_result::PL_MODEL_ERROR),
            (
                Error::io(
                    "read",
                    PathBuf::from("/x"),
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                ),
                pl_result::PL_IO_ERROR,
            ),
            (Error::Cancelled, pl_result::PL_CANCELLED),
            (Error::Invalid("n".into()), pl_result::PL_INVALID_ARGUMENT),
        ];
        let mut seen = std::collections::HashSet::new();
        for (e, code) in cases {
            let text = e.to_string();
            let f = Failure::from(e);
            assert_eq!(f.code, code, "{text}");
            assert_eq!(f.message, text);
            assert!(seen.insert(code as u32), "{code:?} used twice");
        }
    }

    #[test]
    fn result_numbers_are_the_documented_abi() {
        // These numbers are in pseudolink.h and docs/c.md; changing one breaks every caller.
        let expected = [
            (pl_result::PL_OK, 0),
            (pl_result::PL_NULL_POINTER, 1),
            (pl_result::PL_INVALID_UTF8, 2),
            (pl_result::PL_INVALID_ARGUMENT, 3),
            (pl_result::PL_BUFFER_TOO_SMALL, 4),
            (pl_result::PL_SCHEMA_ERROR, 5),
            (pl_result::PL_SECRET_ERROR, 6),
            (pl_result::PL_INPUT_ERROR, 7),
            (pl_result::PL_MISMATCH, 8),
            (pl_result::PL_IO_ERROR, 9),
            (pl_result::PL_MODEL_ERROR, 10),
            (pl_result::PL_CANCELLED, 11),
            (pl_result::PL_PANIC, 12),
            (pl_result::PL_UNKNOWN, 13),
        ];
        for (code, n) in expected {
            assert_eq!(code as u32, n, "{code:?}");
        }
    }

    #[test]
    fn last_error_is_per_thread() {
        set_last_error("on the main thread");
        let other = std::thread::spawn(|| {
            let before = last_error();
            set_last_error("on another thread");
            (before, last_error())
        })
        .join()
        .unwrap();
        assert_eq!(other, (String::new(), "on another thread".to_string()));
        assert_eq!(last_error(), "on the main thread");
        clear_last_error();
        assert_eq!(last_error(), "");
    }

    #[test]
    fn warnings_are_per_thread_and_cleared_by_the_next_call() {
        set_last_warnings(&["one".into(), "two".into()]);
        let other = std::thread::spawn(last_warning).join().unwrap();
        assert_eq!(other, "");
        let mut written = 0usize;
        let mut small = [0 as c_char; 3];
        // SAFETY: valid buffer and out pointer.
        let r = unsafe { pl_last_warning_message(small.as_mut_ptr(), small.len(), &mut written) };
        assert_eq!(r, pl_result::PL_BUFFER_TOO_SMALL);
        assert_eq!(written, 7);
        assert_eq!(small, [0; 3], "nothing written on failure");
        let mut buf = [0 as c_char; 7];
        // SAFETY: valid buffer and out pointer.
        let r = unsafe { pl_last_warning_message(buf.as_mut_ptr(), buf.len(), &mut written) };
        assert_eq!(r, pl_result::PL_OK);
        let bytes: Vec<u8> = buf[..written].iter().map(|&c| c as u8).collect();
        assert_eq!(bytes, b"one\ntwo");
        assert_eq!(
            last_warning(),
            "one\ntwo",
            "reading never clears the warnings"
        );
        // The last error reader leaves them; any other call clears them first.
        // SAFETY: NULL `written` is reported, not dereferenced.
        let r = unsafe { pl_last_error_message(std::ptr::null_mut(), 0, std::ptr::null_mut()) };
        assert_eq!(r, pl_result::PL_NULL_POINTER);
        assert_eq!(last_warning(), "one\ntwo");
        assert_eq!(crate::panic::boundary(|| Ok(())), pl_result::PL_OK);
        assert_eq!(last_warning(), "");
    }

    #[test]
    fn last_error_message_protocol() {
        set_last_error("twelve bytes");
        let mut written = 0usize;
        let mut small = [0 as c_char; 4];
        // SAFETY: valid buffer and out pointer.
        let r = unsafe { pl_last_error_message(small.as_mut_ptr(), small.len(), &mut written) };
        assert_eq!(r, pl_result::PL_BUFFER_TOO_SMALL);
        assert_eq!(written, 12);
        assert_eq!(small, [0; 4], "nothing written on failure");
        // Size query with a NULL buffer, then the message is still there.
        // SAFETY: NULL buffer with length 0 is allowed.
        let r = unsafe { pl_last_error_message(std::ptr::null_mut(), 0, &mut written) };
        assert_eq!(r, pl_result::PL_BUFFER_TOO_SMALL);
        assert_eq!(written, 12);
        let mut buf = [0 as c_char; 12];
        // SAFETY: valid buffer and out pointer.
        let r = unsafe { pl_last_error_message(buf.as_mut_ptr(), buf.len(), &mut written) };
        assert_eq!(r, pl_result::PL_OK);
        let bytes: Vec<u8> = buf[..written].iter().map(|&c| c as u8).collect();
        assert_eq!(bytes, b"twelve bytes");
        // SAFETY: NULL `written` is reported, not dereferenced.
        let r = unsafe { pl_last_error_message(buf.as_mut_ptr(), buf.len(), std::ptr::null_mut()) };
        assert_eq!(r, pl_result::PL_NULL_POINTER);
        assert_eq!(
            last_error(),
            "twelve bytes",
            "reading never changes the message"
        );
    }
}
