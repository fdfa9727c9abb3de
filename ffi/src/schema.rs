//! `pl_schema`: a validated linkage schema.

use std::os::raw::c_char;
use std::path::Path;

use pseudolink::Schema;

use crate::error::{pl_result, FfiResult};
use crate::ffi::{
    cpath_arg, free_handle, handle_arg, into_handle, out_arg, out_buf, out_ref, path_arg, str_arg,
    write_bytes,
};
use crate::panic::ffi_boundary;

/// A validated linkage schema (see docs/schema.md). Immutable once made: it may be used from
/// several threads at once. Free it with `pl_schema_free`.
#[allow(non_camel_case_types)]
pub struct pl_schema {
    pub(crate) inner: Schema,
}

/// Parses and validates a schema from `json_len` bytes of UTF-8 JSON at `json` (not
/// NUL-terminated). On success stores a new schema in `*out`; the caller frees it with
/// `pl_schema_free`. Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_SCHEMA_ERROR` (the last
/// error message gives the JSON path of the problem).
///
/// # Safety
///
/// `json` must be valid for reads of `json_len` bytes (or NULL with `json_len` 0); `out` must be
/// NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut pl_schema,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `json` is valid for `json_len` bytes.
        let json = unsafe { str_arg(json, json_len, "json") }?;
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        let inner = Schema::from_json(json)?;
        out.set(into_handle(pl_schema { inner }));
        Ok(())
    }
}

/// Reads, parses and validates the schema file at `path`, a NUL-terminated UTF-8 path (as every
/// path the library takes). On success stores a new schema in `*out`; free it with
/// `pl_schema_free`. Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (empty
/// path), `PL_IO_ERROR`, `PL_SCHEMA_ERROR` (the message names the file and the JSON path of the
/// problem).
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_from_path(
    path: *const c_char,
    out: *mut *mut pl_schema,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `path` is NULL or NUL-terminated.
        let path = unsafe { cpath_arg(path, "path") }?;
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        unsafe { from_file(path, out) }
    }
}

/// Deprecated, to be removed before 1.0: use `pl_schema_from_path`, which takes a
/// NUL-terminated path like every other function.
///
/// `pl_schema_from_path` with the path given as `path_len` bytes of UTF-8 at `path` (not
/// NUL-terminated). Errors: as `pl_schema_from_path`.
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
#[deprecated(note = "use pl_schema_from_path (a NUL-terminated path); to be removed before 1.0")]
pub unsafe extern "C" fn pl_schema_from_file(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut pl_schema,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `path` is valid for `path_len` bytes.
        let path = unsafe { path_arg(path, path_len, "path") }?;
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        unsafe { from_file(path, out) }
    }
}

/// Reads the schema at `path` into a new handle in `*out`.
///
/// # Safety
///
/// `out` must be NULL or valid for writing a pointer.
unsafe fn from_file(path: &Path, out: *mut *mut pl_schema) -> FfiResult {
    // SAFETY: the caller guarantees `out` is NULL or valid for writes.
    let out = unsafe { out_arg(out, "out") }?;
    let inner = Schema::from_file(path)?;
    out.set(into_handle(pl_schema { inner }));
    Ok(())
}

/// Frees a schema. NULL is a no-op. Encoders made from the schema stay valid (they hold their
/// own copy).
///
/// # Safety
///
/// `schema` must be NULL or a schema from this library that has not been freed, and no other
/// thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_free(schema: *mut pl_schema) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` is NULL or a live, unshared handle.
        unsafe { free_handle(schema) }
    }
}

/// Writes the schema's fingerprint (32 lower-case hex characters, not NUL-terminated) into `buf`
/// and its length into `*written`. The fingerprint is recorded in every manifest: extracts
/// encoded under schemas with different fingerprints are never linked. Buffer too small:
/// `PL_BUFFER_TOO_SMALL` with `*written` set to the size needed.
///
/// # Safety
///
/// `schema` must be NULL or a live schema; `buf` must be NULL or valid for writes of `buf_len`
/// bytes; `written` must be NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_fingerprint(
    schema: *const pl_schema,
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` is NULL or a live handle.
        let schema = unsafe { handle_arg(schema, "schema") }?;
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        let fingerprint = schema.inner.fingerprint();
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes.
        unsafe { write_bytes(fingerprint.as_bytes(), buf, buf_len, written) }
    }
}

/// Writes the bundled default schema for UK person records (the JSON text of
/// `pseudolink schema example`, not NUL-terminated) into `buf` and its length into `*written`.
/// Buffer too small: `PL_BUFFER_TOO_SMALL` with `*written` set to the size needed.
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `buf_len` bytes; `written` must be NULL or valid for
/// writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_example(
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes.
        unsafe { write_bytes(Schema::example_json().as_bytes(), buf, buf_len, written) }
    }
}

/// Stores in `*out` the number of input columns a record has under this schema: the record id
/// and one per field. This is the `n_values` that `pl_encode_record` expects.
///
/// # Safety
///
/// `schema` must be NULL or a live schema; `out` must be NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_input_column_count(
    schema: *const pl_schema,
    out: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` is NULL or a live handle.
        let schema = unsafe { handle_arg(schema, "schema") }?;
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        out.set(schema.inner.input_columns().len());
        Ok(())
    }
}

/// Writes the name of input column `index` (0 is the record id column, then the fields in schema
/// order: the order of `pl_encode_record`'s values) into `buf` (not NUL-terminated) and its
/// length into `*written`. Errors: `PL_INVALID_ARGUMENT` when `index` is not below
/// `pl_schema_input_column_count`; `PL_BUFFER_TOO_SMALL` with `*written` set to the size needed.
///
/// # Safety
///
/// `schema` must be NULL or a live schema; `buf` must be NULL or valid for writes of `buf_len`
/// bytes; `written` must be NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_schema_input_column(
    schema: *const pl_schema,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` is NULL or a live handle.
        let schema = unsafe { handle_arg(schema, "schema") }?;
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes.
        let buf = unsafe { out_buf(buf, buf_len, "buf") }?;
        let columns = schema.inner.input_columns();
        let name = columns.get(index).ok_or_else(|| {
            crate::error::Failure::invalid(format!(
                "column index {index} is out of range: the schema has {} input columns",
                columns.len()
            ))
        })?;
        buf.put(name.as_bytes(), written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error;
    use std::ptr::{null, null_mut};

    fn text(buf: &[c_char], n: usize) -> String {
        String::from_utf8(buf[..n].iter().map(|&c| c as u8).collect()).unwrap()
    }

    #[test]
    fn from_json_fingerprint_and_columns() {
        let json = Schema::example_json();
        let mut s: *mut pl_schema = null_mut();
        // SAFETY: valid arguments throughout; the handle is freed once at the end.
        unsafe {
            assert_eq!(
                pl_schema_from_json(json.as_ptr().cast(), json.len(), &mut s),
                pl_result::PL_OK
            );
            let mut buf = [0 as c_char; 64];
            let mut n = 0;
            assert_eq!(
                pl_schema_fingerprint(s, buf.as_mut_ptr(), buf.len(), &mut n),
                pl_result::PL_OK
            );
            assert_eq!(text(&buf, n), Schema::example().fingerprint());
            let mut count = 0;
            assert_eq!(
                pl_schema_input_column_count(s, &mut count),
                pl_result::PL_OK
            );
            assert_eq!(count, 9);
            assert_eq!(
                pl_schema_input_column(s, 0, buf.as_mut_ptr(), buf.len(), &mut n),
                pl_result::PL_OK
            );
            assert_eq!(text(&buf, n), "record_id");
            assert_eq!(
                pl_schema_input_column(s, 9, buf.as_mut_ptr(), buf.len(), &mut n),
                pl_result::PL_INVALID_ARGUMENT
            );
            pl_schema_free(s);
        }
    }

    #[test]
    fn bad_json_is_a_schema_error_and_out_is_untouched() {
        let json = r#"{"version": 1, "record_id": "id", "fields": [], "colour": 1}"#;
        let sentinel = 0x1234 as *mut pl_schema;
        let mut s = sentinel;
        // SAFETY: valid arguments.
        let r = unsafe { pl_schema_from_json(json.as_ptr().cast(), json.len(), &mut s) };
        assert_eq!(r, pl_result::PL_SCHEMA_ERROR);
        assert_eq!(s, sentinel);
        assert!(last_error().contains("colour"), "{}", last_error());
        // SAFETY: NULL arguments are reported, not dereferenced.
        unsafe {
            assert_eq!(
                pl_schema_from_json(null(), 4, &mut s),
                pl_result::PL_NULL_POINTER
            );
            assert_eq!(
                pl_schema_from_json(json.as_ptr().cast(), json.len(), null_mut()),
                pl_result::PL_NULL_POINTER
            );
        }
    }

    #[test]
    fn example_is_the_bundled_json() {
        let mut n = 0;
        // SAFETY: size query with a NULL buffer of length 0.
        let r = unsafe { pl_schema_example(null_mut(), 0, &mut n) };
        assert_eq!(r, pl_result::PL_BUFFER_TOO_SMALL);
        assert_eq!(n, Schema::example_json().len());
        let mut buf = vec![0 as c_char; n];
        // SAFETY: a buffer of the size reported.
        let r = unsafe { pl_schema_example(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, pl_result::PL_OK);
        assert_eq!(text(&buf, n), Schema::example_json());
    }
}
