//! `pl_index_open`, `pl_index_match_record` and `pl_index_close`: asking a person index (made by
//! `pseudolink index create`, see docs/index.md) in-process where a new record goes.

use std::os::raw::c_char;

use pseudolink::index::PersonIndex;

use crate::error::{pl_result, FfiResult};
use crate::ffi::{
    cpath_arg, free_handle, handle_arg, into_handle, out_arg, out_buf, out_ref, str_arg,
};
use crate::panic::ffi_boundary;

/// An open person index (see docs/index.md). Matching only reads it, so one handle may be used
/// by several threads at once; one process at a time may hold an index open. Close it with
/// `pl_index_close`.
#[allow(non_camel_case_types)]
pub struct pl_index {
    inner: PersonIndex,
}

/// Opens the person index in the folder `dir` (a NUL-terminated UTF-8 path, made by
/// `pseudolink index create`). On success stores a new handle in `*out`; close it with
/// `pl_index_close`. Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (empty
/// path, or no index in the folder), `PL_IO_ERROR` (unreadable, or in use by another process),
/// `PL_MISMATCH` (an index of another format version).
///
/// # Safety
///
/// `dir` must be NULL or a NUL-terminated string; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_index_open(dir: *const c_char, out: *mut *mut pl_index) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `dir` is NULL or NUL-terminated.
        let dir = unsafe { cpath_arg(dir, "dir") }?;
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        let inner = PersonIndex::open(dir)?;
        out.set(into_handle(pl_index { inner }));
        Ok(())
    }
}

/// Where one encoded record would go in the index, without storing it. `row` / `row_len` is one
/// encoded row (UTF-8, not NUL-terminated, no newline) in the index's schema: what
/// `pl_encode_record` writes with the partnership's secret; `source` / `source_len` names the
/// record's source (an agency of the index, or a new one).
///
/// Writes into `buf` (not NUL-terminated) and its length into `*written` the row
/// `pseudolink index add` would write to `assigned.csv` for it:
/// `record_id,source,person_id,match_probability,band,candidate_person_id`, where `person_id` is
/// empty when the record would be a new person, `band` is `match`, `review` or `new`, and absent
/// values are empty. Buffer too small: `PL_BUFFER_TOO_SMALL` with `*written` set to the size
/// needed (256 bytes hold any answer whose ids are shorter than 100 bytes). Errors:
/// `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (bad source name), `PL_INPUT_ERROR`
/// (not an encoded row of the index's schema; the message names the column), `PL_IO_ERROR`.
///
/// # Safety
///
/// `index` must be NULL or a live index; `source` must be valid for reads of `source_len` bytes
/// and `row` of `row_len` bytes (or NULL with length 0); `buf` must be NULL or valid for writes
/// of `buf_len` bytes; `written` must be NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_index_match_record(
    index: *const pl_index,
    source: *const c_char,
    source_len: usize,
    row: *const c_char,
    row_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `index` is NULL or a live handle, the strings valid for
        // their lengths, `written` NULL or valid for writes and `buf` for `buf_len` bytes.
        let (index, source, row, written, buf) = unsafe {
            (
                handle_arg(index, "index")?,
                str_arg(source, source_len, "source")?,
                str_arg(row, row_len, "row")?,
                out_ref(written, "written")?,
                out_buf(buf, buf_len, "buf")?,
            )
        };
        let answer = index.inner.match_row(source, row.as_bytes())?;
        let result: FfiResult = buf.put(answer.csv_row().as_bytes(), written);
        result
    }
}

/// Closes an index opened by `pl_index_open`; NULL is a no-op.
///
/// # Safety
///
/// `index` must be NULL or a live index not used by any other thread, and is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn pl_index_close(index: *mut pl_index) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `index` is NULL or a live handle no one else uses.
        unsafe { free_handle(index) }
    }
}
