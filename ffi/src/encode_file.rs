//! `pl_encode_file`: a whole extract, file to file, as `pseudolink encode` does it.

use std::os::raw::c_char;
use std::ptr::null;

use pseudolink::run::{encode_file, id_memory_from_mib, EncodeFileOptions};

use crate::encoder::pl_encoder;
use crate::error::{pl_result, FfiResult};
use crate::ffi::{cpath_arg, handle_arg, opt_cpath_arg, opt_cstr_arg};
use crate::panic::ffi_boundary;

/// Encodes the CSV extract at `input_path` into `output_path` and `output_path.manifest.json`,
/// with the same behaviour and outputs as `pseudolink encode`: streaming, in parallel, in bounded
/// memory; the output is the same bytes whatever the number of threads. Paths are NUL-terminated
/// UTF-8.
///
/// Rows that cannot be encoded (wrong number of cells, invalid UTF-8, empty or duplicate record
/// id) go to `rejects_path` with their line and reason; if `rejects_path` is NULL the first such
/// row stops the run with `PL_INPUT_ERROR` (the message names the file, line and field). Nothing
/// appears at the output, its manifest or the rejects path unless the whole run succeeds.
/// Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (empty path),
/// `PL_IO_ERROR`, `PL_INPUT_ERROR`.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_file(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    rejects_path: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded to the caller; NULL agreement and purpose, the default budget (0)
        // and the default folder (NULL) are allowed.
        unsafe {
            encode(
                encoder,
                input_path,
                output_path,
                rejects_path,
                null(),
                null(),
                0,
                null(),
            )
        }
    }
}

/// Like `pl_encode_file`, and records in the manifest the Information Sharing Agreement
/// reference `agreement` and the purpose of processing `purpose` (each NULL or a NUL-terminated
/// UTF-8 string; NULL records none), as `pseudolink encode --agreement A --purpose P` does. The
/// manifest also records who ran it (user name, host), when it started and ended, the input's
/// keyed BLAKE3, the schema fingerprint, the key check value and the counts.
/// Errors: those of `pl_encode_file`; `PL_INVALID_UTF8` when `agreement` or `purpose` is not
/// UTF-8.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path, `agreement` and `purpose` must be NULL
/// or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_file_with_agreement(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    rejects_path: *const c_char,
    agreement: *const c_char,
    purpose: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded to the caller; 0 is the default budget and NULL the default folder.
        unsafe {
            encode(
                encoder,
                input_path,
                output_path,
                rejects_path,
                agreement,
                purpose,
                0,
                null(),
            )
        }
    }
}

/// Like `pl_encode_file_with_agreement`, with the memory budget of the duplicate record id check
/// and the folder of its temporary files, as `pseudolink encode --id-memory MIB --temp-dir DIR`
/// take them. `id_memory_mib`: from 1 to 1,048,576 MiB, or 0 for the default (64 MiB). Up to
/// the budget the ids of the rows read are held in memory; beyond it the input is read a second
/// time and hashes of the ids are sorted on disk, in anonymous files in the folder `temp_dir`
/// (NULL: the output's folder; 24 bytes per row), with the same output. `agreement`, `purpose`
/// and `rejects_path` as in `pl_encode_file_with_agreement` and `pl_encode_file`.
/// Errors: those of `pl_encode_file_with_agreement`; `PL_INVALID_ARGUMENT` for a budget above
/// the limit, or a `temp_dir` that is empty or not an existing folder; `PL_IO_ERROR` when the
/// temporary files cannot be written.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path, `agreement`, `purpose` and `temp_dir`
/// must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_file_with_options(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    rejects_path: *const c_char,
    agreement: *const c_char,
    purpose: *const c_char,
    id_memory_mib: u64,
    temp_dir: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded to the caller.
        unsafe {
            encode(
                encoder,
                input_path,
                output_path,
                rejects_path,
                agreement,
                purpose,
                id_memory_mib,
                temp_dir,
            )
        }
    }
}

/// The body of the `pl_encode_file*` functions.
///
/// # Safety
///
/// As `pl_encode_file_with_options`.
#[allow(clippy::too_many_arguments)]
unsafe fn encode(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    rejects_path: *const c_char,
    agreement: *const c_char,
    purpose: *const c_char,
    id_memory_mib: u64,
    temp_dir: *const c_char,
) -> FfiResult {
    // SAFETY: the caller guarantees `encoder` is NULL or a live handle and each string NULL
    // or NUL-terminated.
    let (encoder, input, output, rejects, agreement, purpose, temp_dir) = unsafe {
        (
            handle_arg(encoder, "encoder")?,
            cpath_arg(input_path, "input_path")?,
            cpath_arg(output_path, "output_path")?,
            opt_cpath_arg(rejects_path, "rejects_path")?,
            opt_cstr_arg(agreement, "agreement")?,
            opt_cstr_arg(purpose, "purpose")?,
            opt_cpath_arg(temp_dir, "temp_dir")?,
        )
    };
    let id_memory = match id_memory_mib {
        0 => None,
        mib => Some(id_memory_from_mib(mib)?),
    };
    let options = EncodeFileOptions {
        rejects: rejects.map(|p| p.to_path_buf()),
        agreement,
        purpose,
        id_memory,
        temp_dir: temp_dir.map(|p| p.to_path_buf()),
        ..EncodeFileOptions::default()
    };
    let dated = encoder.current();
    encode_file(dated.encoder(), input, output, &options)?;
    Ok(())
}
