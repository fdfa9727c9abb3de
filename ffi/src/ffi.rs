//! Checked conversions of C arguments: strings and buffers given as pointer plus length,
//! NUL-terminated paths (every path but those of the deprecated `_from_file` functions), handles,
//! output parameters.
//!
//! Every pointer is NULL-checked and alignment-checked before use. A pointer-plus-length pair
//! whose pointer is NULL is accepted only when the length is 0 (an empty string or buffer).

use std::ffi::CStr;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::NonNull;

use crate::error::{pl_result, Failure, FfiResult};

/// Largest length a slice may have (`slice::from_raw_parts` requires at most `isize::MAX` bytes).
fn check_len(len: usize, elem: usize, name: &str) -> FfiResult {
    match len.checked_mul(elem) {
        Some(bytes) if isize::try_from(bytes).is_ok() => Ok(()),
        _ => Err(Failure::invalid(format!(
            "argument '{name}': length {len} is too large"
        ))),
    }
}

fn check_aligned<T>(ptr: *const T, name: &str) -> FfiResult {
    if ptr.is_aligned() {
        Ok(())
    } else {
        Err(Failure::invalid(format!(
            "argument '{name}' is not a properly aligned pointer"
        )))
    }
}

/// A read-only slice of `len` elements at `ptr`; `(NULL, 0)` is the empty slice.
///
/// # Safety
///
/// `ptr` must be NULL or valid for reads of `len` elements of `T` for `'a`, and not be written
/// during `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(name))
        };
    }
    check_aligned(ptr, name)?;
    check_len(len, std::mem::size_of::<T>(), name)?;
    // SAFETY: non-NULL and aligned (checked above), valid for `len` reads (the caller's
    // guarantee), and the total size fits in isize (checked above).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A UTF-8 string given as pointer plus length (not NUL-terminated); `(NULL, 0)` is `""`.
///
/// # Safety
///
/// As [`slice_arg`] for `len` bytes.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a str> {
    // SAFETY: forwarded to the caller; `c_char` and `u8` have the same size and alignment.
    let bytes = unsafe { slice_arg(ptr.cast::<u8>(), len, name) }?;
    utf8(bytes, name)
}

/// `bytes` as UTF-8, or `PL_INVALID_UTF8` naming the argument and the byte offset.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> FfiResult<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            pl_result::PL_INVALID_UTF8,
            format!(
                "argument '{name}' is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A path given as pointer plus length (UTF-8), as the deprecated `pl_schema_from_file` and
/// `pl_secret_from_file` take it; an empty path is an invalid argument.
///
/// # Safety
///
/// As [`slice_arg`] for `len` bytes.
pub(crate) unsafe fn path_arg<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> FfiResult<&'a Path> {
    // SAFETY: forwarded to the caller.
    let s = unsafe { str_arg(ptr, len, name) }?;
    non_empty_path(s, name)
}

/// An optional text given as pointer plus length (UTF-8): empty, `(NULL, 0)` or any pointer with
/// length 0, is `None`.
///
/// # Safety
///
/// As [`slice_arg`] for `len` bytes.
pub(crate) unsafe fn opt_text_arg(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> FfiResult<Option<String>> {
    // SAFETY: forwarded to the caller.
    let s = unsafe { str_arg(ptr, len, name) }?;
    Ok((!s.is_empty()).then(|| s.to_string()))
}

/// A NUL-terminated UTF-8 path; NULL and the empty string are errors.
///
/// # Safety
///
/// `ptr` must be NULL or point to a NUL-terminated string that stays unchanged during `'a`.
pub(crate) unsafe fn cpath_arg<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a Path> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL, and NUL-terminated and unchanging for 'a (the caller's guarantee).
    let c = unsafe { CStr::from_ptr(ptr) };
    let s = utf8(c.to_bytes(), name)?;
    non_empty_path(s, name)
}

/// An optional NUL-terminated UTF-8 path: NULL is `None`.
///
/// # Safety
///
/// As [`cpath_arg`].
pub(crate) unsafe fn opt_cpath_arg<'a>(
    ptr: *const c_char,
    name: &str,
) -> FfiResult<Option<&'a Path>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded to the caller.
        unsafe { cpath_arg(ptr, name) }.map(Some)
    }
}

/// An optional NUL-terminated UTF-8 string: NULL is `None`.
///
/// # Safety
///
/// As [`cpath_arg`].
pub(crate) unsafe fn opt_cstr_arg(ptr: *const c_char, name: &str) -> FfiResult<Option<String>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and NUL-terminated and unchanging (the caller's guarantee).
    let c = unsafe { CStr::from_ptr(ptr) };
    utf8(c.to_bytes(), name).map(|s| Some(s.to_string()))
}

fn non_empty_path<'a>(s: &'a str, name: &str) -> FfiResult<&'a Path> {
    if s.is_empty() {
        Err(Failure::invalid(format!(
            "argument '{name}' is an empty path"
        )))
    } else {
        Ok(Path::new(s))
    }
}

/// A handle passed as `const pl_x *`.
///
/// # Safety
///
/// `ptr` must be NULL or a live handle of type `T` made by this library (not yet freed).
pub(crate) unsafe fn handle_arg<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    check_aligned(ptr, name)?;
    // SAFETY: a live handle made by `into_handle` (the caller's guarantee): a valid, aligned
    // `T` that is only freed by its `_free` function, which must not run concurrently.
    Ok(unsafe { &*ptr })
}

/// An output parameter (`T *out`). It is written with [`Out::set`] only once the call has
/// succeeded; until then the caller's memory is never read or written.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Writes the output.
    pub(crate) fn set(self, value: T) {
        // SAFETY: `out_arg` checked the pointer is non-NULL and aligned, and its caller
        // guaranteed it is valid for writes. `write` does not read or drop the old contents,
        // which may be uninitialised.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Checks an output parameter.
///
/// # Safety
///
/// `ptr` must be NULL or valid for writes of a `T` until the returned [`Out`] is used.
pub(crate) unsafe fn out_arg<T>(ptr: *mut T, name: &str) -> FfiResult<Out<T>> {
    let ptr = NonNull::new(ptr).ok_or_else(|| Failure::null(name))?;
    check_aligned(ptr.as_ptr(), name)?;
    Ok(Out(ptr))
}

/// Alias of [`out_arg`] for the `size_t *written` parameters.
///
/// # Safety
///
/// As [`out_arg`].
pub(crate) unsafe fn out_ref(ptr: *mut usize, name: &str) -> FfiResult<Out<usize>> {
    // SAFETY: forwarded to the caller.
    unsafe { out_arg(ptr, name) }
}

/// A caller-owned output buffer, checked before any work is done.
pub(crate) struct OutBuf {
    buf: *mut c_char,
    len: usize,
}

/// Checks an output buffer: NULL is allowed only with length 0 (a size query).
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `len` bytes until the returned buffer is used.
pub(crate) unsafe fn out_buf(buf: *mut c_char, len: usize, name: &str) -> FfiResult<OutBuf> {
    if buf.is_null() && len != 0 {
        return Err(Failure::null(name));
    }
    check_len(len, 1, name)?;
    Ok(OutBuf { buf, len })
}

impl OutBuf {
    /// Copies `bytes` into the buffer and sets `*written` to their length; if they do not fit,
    /// sets `*written` to the size needed, writes nothing else and returns `PL_BUFFER_TOO_SMALL`.
    pub(crate) fn put(self, bytes: &[u8], written: Out<usize>) -> FfiResult {
        if bytes.len() > self.len {
            let needed = bytes.len();
            written.set(needed);
            return Err(Failure::new(
                pl_result::PL_BUFFER_TOO_SMALL,
                format!(
                    "the buffer holds {} bytes but {needed} are needed; call again with a buffer of at least {needed} bytes",
                    self.len
                ),
            ));
        }
        if !bytes.is_empty() {
            // SAFETY: `self.buf` is non-NULL here (a NULL buffer has length 0 < bytes.len()) and
            // valid for `self.len >= bytes.len()` bytes of writes (checked by `out_buf`'s caller).
            // `copy` allows the regions to overlap, should a caller pass an input as the output.
            unsafe { std::ptr::copy(bytes.as_ptr(), self.buf.cast::<u8>(), bytes.len()) };
        }
        written.set(bytes.len());
        Ok(())
    }
}

/// [`out_buf`] then [`OutBuf::put`], for outputs computed without reading the buffer.
///
/// # Safety
///
/// As [`out_buf`].
pub(crate) unsafe fn write_bytes(
    bytes: &[u8],
    buf: *mut c_char,
    buf_len: usize,
    written: Out<usize>,
) -> FfiResult {
    // SAFETY: forwarded to the caller.
    let out = unsafe { out_buf(buf, buf_len, "buf") }?;
    out.put(bytes, written)
}

/// A handle passed as `pl_x *` to a function that changes it (the `_set_` functions).
///
/// # Safety
///
/// `ptr` must be NULL or a live handle of type `T` made by this library (not yet freed) that no
/// other thread is using.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    check_aligned(ptr.cast_const(), name)?;
    // SAFETY: a live handle made by `into_handle` that nobody else uses during 'a (the caller's
    // guarantee): a valid, aligned, unaliased `T`.
    Ok(unsafe { &mut *ptr })
}

/// Moves `value` to the heap and returns the handle the C caller owns.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by [`into_handle`]; NULL is a no-op.
///
/// # Safety
///
/// `ptr` must be NULL or a handle of type `T` made by [`into_handle`] and not freed yet, and no
/// other thread may be using it.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by `Box::into_raw` in `into_handle` and not freed yet (the caller's
        // guarantee), so it is a unique, live `Box<T>` allocation.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_with_zero_length_is_empty_and_with_a_length_is_an_error() {
        // SAFETY: NULL pointers are never dereferenced.
        unsafe {
            assert_eq!(str_arg(std::ptr::null(), 0, "s").ok(), Some(""));
            let e = str_arg(std::ptr::null(), 3, "json").unwrap_err();
            assert_eq!(e.code, pl_result::PL_NULL_POINTER);
            assert!(e.message.contains("'json'"));
        }
    }

    #[test]
    fn invalid_utf8_names_the_argument_and_offset() {
        let bytes = b"ab\xffcd";
        // SAFETY: a valid buffer of the given length.
        let e = unsafe { str_arg(bytes.as_ptr().cast(), bytes.len(), "json") }.unwrap_err();
        assert_eq!(e.code, pl_result::PL_INVALID_UTF8);
        assert_eq!(e.message, "argument 'json' is not valid UTF-8 (at byte 2)");
    }

    #[test]
    fn huge_lengths_are_refused_before_any_read() {
        let b = 0u8;
        // SAFETY: the length check fails before the pointer is read.
        let e = unsafe { slice_arg(&b, usize::MAX, "bytes") }.unwrap_err();
        assert_eq!(e.code, pl_result::PL_INVALID_ARGUMENT);
        // SAFETY: as above.
        let e = unsafe { slice_arg(&0u64, usize::MAX / 4, "lengths") }.unwrap_err();
        assert_eq!(e.code, pl_result::PL_INVALID_ARGUMENT);
    }

    #[test]
    fn misaligned_pointers_are_refused() {
        let words = [0u64; 2];
        let odd = words.as_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        // SAFETY: the alignment check fails before the pointer is read.
        let e = unsafe { slice_arg(odd, 1, "lengths") }.unwrap_err();
        assert_eq!(e.code, pl_result::PL_INVALID_ARGUMENT);
    }

    #[test]
    fn empty_paths_are_invalid() {
        // SAFETY: a valid NUL-terminated string.
        let e = unsafe { cpath_arg(c"".as_ptr(), "output_path") }.unwrap_err();
        assert_eq!(e.code, pl_result::PL_INVALID_ARGUMENT);
        // SAFETY: NULL is reported, not read.
        assert!(unsafe { opt_cpath_arg(std::ptr::null(), "rejects_path") }
            .unwrap()
            .is_none());
    }

    #[test]
    fn buffers_report_the_size_needed_and_write_nothing_when_too_small() {
        let mut buf = [0 as c_char; 3];
        let mut written = 0usize;
        // SAFETY: valid buffer and out pointer.
        let e = unsafe {
            write_bytes(
                b"abcd",
                buf.as_mut_ptr(),
                buf.len(),
                out_ref(&mut written, "w").unwrap(),
            )
        }
        .unwrap_err();
        assert_eq!(e.code, pl_result::PL_BUFFER_TOO_SMALL);
        assert_eq!(written, 4);
        assert_eq!(buf, [0; 3]);
        // SAFETY: as above.
        unsafe {
            write_bytes(
                b"abc",
                buf.as_mut_ptr(),
                buf.len(),
                out_ref(&mut written, "w").unwrap(),
            )
        }
        .unwrap();
        assert_eq!(written, 3);
        assert_eq!(buf, [b'a' as c_char, b'b' as c_char, b'c' as c_char]);
        // SAFETY: NULL with a length is reported, not written.
        let e = unsafe { out_buf(std::ptr::null_mut(), 5, "buf") }
            .err()
            .unwrap();
        assert_eq!(e.code, pl_result::PL_NULL_POINTER);
    }

    #[test]
    fn handles_round_trip_and_null_free_is_a_no_op() {
        let h = into_handle(String::from("x"));
        // SAFETY: a live handle of the right type, freed once.
        unsafe {
            assert_eq!(handle_arg(h, "h").unwrap(), "x");
            free_handle(h);
            free_handle::<String>(std::ptr::null_mut());
            assert_eq!(
                handle_arg::<String>(std::ptr::null(), "schema")
                    .unwrap_err()
                    .code,
                pl_result::PL_NULL_POINTER
            );
        }
    }
}
