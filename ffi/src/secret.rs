//! `pl_secret`: the 256-bit secret shared by the agencies.

use std::os::raw::c_char;
use std::path::Path;

use pseudolink::secret::load_secret_file;
use pseudolink::Secret;

use crate::error::{pl_result, set_last_warnings, FfiResult};
use crate::ffi::{
    cpath_arg, free_handle, handle_arg, into_handle, out_arg, out_ref, path_arg, slice_arg,
    write_bytes,
};
use crate::panic::ffi_boundary;

/// The secret agreed under the Information Sharing Agreement (32 bytes). Its bytes are wiped
/// when it is freed and never appear in any message. Immutable once made: it may be used from
/// several threads at once. Free it with `pl_secret_free` as soon as the encoders that need it
/// are made.
#[allow(non_camel_case_types)]
pub struct pl_secret {
    pub(crate) inner: Secret,
}

/// Loads the secret file at `path` (a NUL-terminated UTF-8 path, as every path the library
/// takes), written by `pseudolink keygen`: 64 hexadecimal characters and an optional newline. On
/// success stores a new secret in `*out`; free it with `pl_secret_free`. Errors:
/// `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (empty path), `PL_IO_ERROR`
/// (cannot read the file), `PL_SECRET_ERROR` (empty, not hexadecimal, wrong length; the message
/// never shows the file's contents).
///
/// A file that users other than its owner can read is loaded with a warning, read with
/// `pl_last_warning_message` (the CLI prints the same warning); `pl_secret_from_path_strict`
/// refuses such a file instead.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_secret_from_path(
    path: *const c_char,
    out: *mut *mut pl_secret,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `path` is NULL or NUL-terminated, and `out` NULL or
        // valid for writes.
        unsafe { from_file(cpath_arg(path, "path")?, out, false) }
    }
}

/// As `pl_secret_from_path`, but a secret file that users other than its owner can read is
/// refused with `PL_SECRET_ERROR` (the message names the file, its mode and the fix, chmod 600)
/// and not read: the CLI's `--strict`.
///
/// # Safety
///
/// As `pl_secret_from_path`.
#[no_mangle]
pub unsafe extern "C" fn pl_secret_from_path_strict(
    path: *const c_char,
    out: *mut *mut pl_secret,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `path` is NULL or NUL-terminated, and `out` NULL or
        // valid for writes.
        unsafe { from_file(cpath_arg(path, "path")?, out, true) }
    }
}

/// Deprecated, to be removed before 1.0: use `pl_secret_from_path`, which takes a
/// NUL-terminated path like every other function.
///
/// `pl_secret_from_path` with the path given as `path_len` bytes of UTF-8 at `path` (not
/// NUL-terminated). Errors and warnings: as `pl_secret_from_path`.
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
#[deprecated(note = "use pl_secret_from_path (a NUL-terminated path); to be removed before 1.0")]
pub unsafe extern "C" fn pl_secret_from_file(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut pl_secret,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `path` is valid for `path_len` bytes, and `out` NULL or
        // valid for writes.
        unsafe { from_file(path_arg(path, path_len, "path")?, out, false) }
    }
}

/// Deprecated, to be removed before 1.0: use `pl_secret_from_path_strict`, which takes a
/// NUL-terminated path like every other function.
///
/// `pl_secret_from_path_strict` with the path given as `path_len` bytes of UTF-8 at `path` (not
/// NUL-terminated).
///
/// # Safety
///
/// As `pl_secret_from_file`.
#[no_mangle]
#[deprecated(
    note = "use pl_secret_from_path_strict (a NUL-terminated path); to be removed before 1.0"
)]
pub unsafe extern "C" fn pl_secret_from_file_strict(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut pl_secret,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `path` is valid for `path_len` bytes, and `out` NULL or
        // valid for writes.
        unsafe { from_file(path_arg(path, path_len, "path")?, out, true) }
    }
}

/// Loads the secret file at `path` into a new handle in `*out` (`strict`: refusing a file others
/// can read).
///
/// # Safety
///
/// `out` must be NULL or valid for writing a pointer.
unsafe fn from_file(path: &Path, out: *mut *mut pl_secret, strict: bool) -> FfiResult {
    // SAFETY: the caller guarantees `out` is NULL or valid for writes.
    let out = unsafe { out_arg(out, "out") }?;
    let loaded = load_secret_file(path, strict)?;
    set_last_warnings(&loaded.warnings);
    out.set(into_handle(pl_secret {
        inner: loaded.secret,
    }));
    Ok(())
}

/// Makes a secret from exactly 32 raw bytes (`len` must be 32, else `PL_SECRET_ERROR`). The
/// library keeps its own copy: the caller may wipe its buffer as soon as this returns. On success
/// stores a new secret in `*out`; free it with `pl_secret_free`.
///
/// # Safety
///
/// `bytes` must be valid for reads of `len` bytes; `out` must be NULL or valid for writing a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_secret_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pl_secret,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `bytes` is valid for `len` bytes.
        let bytes = unsafe { slice_arg(bytes, len, "bytes") }?;
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        let inner = Secret::from_bytes(bytes)?;
        out.set(into_handle(pl_secret { inner }));
        Ok(())
    }
}

/// Wipes and frees a secret. NULL is a no-op. Encoders made with the secret stay valid.
///
/// # Safety
///
/// `secret` must be NULL or a secret from this library that has not been freed, and no other
/// thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pl_secret_free(secret: *mut pl_secret) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `secret` is NULL or a live, unshared handle. Dropping the
        // `Secret` zeroizes its bytes.
        unsafe { free_handle(secret) }
    }
}

/// Writes the secret's key check value (16 lower-case hex characters, not NUL-terminated) into
/// `buf` and its length into `*written`. Parties compare check values (out of band) to confirm
/// they hold the same secret without revealing it; `pseudolink check-key` prints the same value.
/// Buffer too small: `PL_BUFFER_TOO_SMALL` with `*written` set to the size needed.
///
/// # Safety
///
/// `secret` must be NULL or a live secret; `buf` must be NULL or valid for writes of `buf_len`
/// bytes; `written` must be NULL or valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn pl_secret_check_value(
    secret: *const pl_secret,
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `secret` is NULL or a live handle.
        let secret = unsafe { handle_arg(secret, "secret") }?;
        // SAFETY: the caller guarantees `written` is NULL or valid for writes.
        let written = unsafe { out_ref(written, "written") }?;
        let kcv = secret.inner.check_value();
        // SAFETY: the caller guarantees `buf` is NULL or valid for `buf_len` bytes.
        unsafe { write_bytes(kcv.as_bytes(), buf, buf_len, written) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{last_error, last_warning};
    use std::ptr::null_mut;

    #[test]
    fn wrong_length_is_a_secret_error_without_the_bytes() {
        let bytes = [0xabu8; 31];
        let mut s: *mut pl_secret = null_mut();
        // SAFETY: valid arguments.
        let r = unsafe { pl_secret_from_bytes(bytes.as_ptr(), bytes.len(), &mut s) };
        assert_eq!(r, pl_result::PL_SECRET_ERROR);
        assert!(s.is_null());
        let m = last_error();
        assert!(m.contains("32 bytes") && !m.contains("ab"), "{m}");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_warns_or_is_refused_when_strict() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pl-ffi-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.hex");
        let _ = std::fs::remove_file(&path);
        pseudolink::secret::write_new_secret_file(&path).unwrap();
        let p = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let load = |strict: bool| {
            let mut s: *mut pl_secret = null_mut();
            // SAFETY: valid arguments; the handle is freed once.
            let r = unsafe {
                if strict {
                    pl_secret_from_path_strict(p.as_ptr(), &mut s)
                } else {
                    pl_secret_from_path(p.as_ptr(), &mut s)
                }
            };
            // SAFETY: NULL or a live handle.
            unsafe { pl_secret_free(s) };
            (r, s.is_null(), last_warning(), last_error())
        };
        // Mode 0600: no warning either way.
        assert_eq!(
            load(false),
            (pl_result::PL_OK, false, String::new(), String::new())
        );
        assert_eq!(
            load(true),
            (pl_result::PL_OK, false, String::new(), String::new())
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (r, null, warning, _) = load(false);
        assert_eq!((r, null), (pl_result::PL_OK, false));
        assert!(
            warning.contains("can be read by other users (mode 644)"),
            "{warning}"
        );
        assert!(warning.contains("chmod 600"), "{warning}");
        let (r, null, warning, error) = load(true);
        assert_eq!((r, null), (pl_result::PL_SECRET_ERROR, true));
        assert_eq!(warning, "", "refused: an error, not a warning");
        assert!(error.contains("can be read by other users"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn check_value_matches_the_core() {
        let bytes = [7u8; 32];
        let mut s: *mut pl_secret = null_mut();
        let mut buf = [0 as c_char; 16];
        let mut n = 0;
        // SAFETY: valid arguments; the handle is freed once.
        unsafe {
            assert_eq!(
                pl_secret_from_bytes(bytes.as_ptr(), 32, &mut s),
                pl_result::PL_OK
            );
            assert_eq!(
                pl_secret_check_value(s, buf.as_mut_ptr(), 15, &mut n),
                pl_result::PL_BUFFER_TOO_SMALL
            );
            assert_eq!(n, 16);
            assert_eq!(
                pl_secret_check_value(s, buf.as_mut_ptr(), buf.len(), &mut n),
                pl_result::PL_OK
            );
            pl_secret_free(s);
        }
        let got: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        let want = Secret::from_bytes(&bytes).unwrap().check_value();
        assert_eq!(got, want.as_bytes());
    }
}
