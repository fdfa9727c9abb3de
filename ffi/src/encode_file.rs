//! `pl_encode_file` and `pl_encoder_encode_file`: a whole extract, file to file, as
//! `pseudolink encode` does it; `pl_encode_options`, the options of the second.

use std::os::raw::c_char;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pseudolink::io::text::{parse_delimiter, TextEncoding};
use pseudolink::io::{add_column, column_map_with, parse_column_arg, ColumnMap};
use pseudolink::run::{encode_file, id_memory_from_mib, EncodeOptions, RunControl};

use crate::cancel::pl_cancel;
use crate::encoder::pl_encoder;
use crate::error::{pl_result, FfiResult};
use crate::ffi::{
    cpath_arg, free_handle, handle_arg, handle_mut, into_handle, opt_cpath_arg, opt_cstr_arg,
    opt_text_arg, out_arg,
};
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
/// The other options of `pseudolink encode` are those of `pl_encoder_encode_file`.
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
        // SAFETY: forwarded to the caller, who guarantees `rejects_path` is NULL or
        // NUL-terminated.
        unsafe {
            encode(encoder, input_path, output_path, || {
                Ok(pl_encode_options {
                    rejects: opt_cpath_arg(rejects_path, "rejects_path")?.map(Path::to_path_buf),
                    ..pl_encode_options::default()
                })
            })
        }
    }
}

/// Options of `pl_encoder_encode_file`, beyond its encoder and paths: make one with
/// `pl_encode_options_new`, change what you need with the `pl_encode_options_set_*` functions and
/// free it with `pl_encode_options_free`. A new one has `pl_encode_file`'s behaviour with no
/// rejects file: the first bad row stops the run, no agreement or purpose is recorded, the
/// duplicate record id check has the default budget (64 MiB) and its temporary files go to the
/// output's folder; a CSV input is read as UTF-8 with commas, a workbook's first sheet is read,
/// the schema's column names are expected, and no source name is recorded. (Excel workbooks and
/// Parquet files are recognised by their names, `.xlsx` and `.parquet`, as by `pseudolink
/// encode`.) The setters change the handle, so they must not run while another thread
/// uses it; encoding only reads it, so one handle may serve several runs at once.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Default)]
pub struct pl_encode_options {
    rejects: Option<PathBuf>,
    agreement: Option<String>,
    purpose: Option<String>,
    /// The budget in bytes; `None` for the default.
    id_memory: Option<usize>,
    temp_dir: Option<PathBuf>,
    cancel: Option<Arc<AtomicBool>>,
    encoding: TextEncoding,
    delimiter: Option<u8>,
    /// The mappings of `pl_encode_options_set_column`.
    columns: ColumnMap,
    columns_file: Option<PathBuf>,
    sheet: Option<String>,
    source: Option<String>,
}

/// Makes encode options with the defaults (see `pl_encode_options`) and stores them in `*out`;
/// free them with `pl_encode_options_free`. Errors: `PL_NULL_POINTER`.
///
/// # Safety
///
/// `out` must be NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_new(out: *mut *mut pl_encode_options) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        out.set(into_handle(pl_encode_options::default()));
        Ok(())
    }
}

/// Frees encode options. NULL is a no-op.
///
/// # Safety
///
/// `options` must be NULL or encode options from this library that have not been freed, and no
/// other thread may be using them.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_free(options: *mut pl_encode_options) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle.
        unsafe { free_handle(options) }
    }
}

/// Writes the rows that cannot be encoded (wrong number of cells, invalid UTF-8, empty or
/// duplicate record id) to `rejects_path` (a NUL-terminated UTF-8 path) with their line and
/// reason, and encodes the others, as `pseudolink encode --rejects R` does; NULL (the default):
/// no rejects file, the first such row stops the run with `PL_INPUT_ERROR`. Errors:
/// `PL_NULL_POINTER` (`options`), `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (an empty path).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `rejects_path`
/// must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_rejects(
    options: *mut pl_encode_options,
    rejects_path: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_path(options, rejects_path, "rejects_path", |o| &mut o.rejects) }
    }
}

/// Records in the manifest the Information Sharing Agreement reference: `agreement_len` bytes of
/// UTF-8 at `agreement`, as `pseudolink encode --agreement A` does. An empty reference (length
/// 0, NULL or not) records none, the default. Errors: `PL_NULL_POINTER` (`options`, or
/// `agreement` NULL with a length), `PL_INVALID_UTF8`.
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `agreement`
/// must be NULL or valid for reads of `agreement_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_agreement(
    options: *mut pl_encode_options,
    agreement: *const c_char,
    agreement_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_text(options, agreement, agreement_len, "agreement", |o| &mut o.agreement) }
    }
}

/// Records in the manifest the purpose of processing: `purpose_len` bytes of UTF-8 at `purpose`,
/// as `pseudolink encode --purpose P` does. An empty purpose (length 0, NULL or not) records
/// none, the default. Errors: `PL_NULL_POINTER` (`options`, or `purpose` NULL with a length),
/// `PL_INVALID_UTF8`.
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `purpose` must
/// be NULL or valid for reads of `purpose_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_purpose(
    options: *mut pl_encode_options,
    purpose: *const c_char,
    purpose_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_text(options, purpose, purpose_len, "purpose", |o| &mut o.purpose) }
    }
}

/// Sets the memory budget of the duplicate record id check, as `pseudolink encode --id-memory
/// MIB` does: from 1 to 1,048,576 MiB, or 0 for the default (64 MiB). Up to the budget the ids
/// of the rows read are held in memory; beyond it the input is read a second time and hashes of
/// the ids are sorted on disk (see `pl_encode_options_set_temp_dir`), with the same output.
/// Errors: `PL_NULL_POINTER`, `PL_INVALID_ARGUMENT` (a budget above the limit; the options keep
/// the budget they had).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_id_memory(
    options: *mut pl_encode_options,
    id_memory_mib: u64,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle.
        let options = unsafe { handle_mut(options, "options") }?;
        options.id_memory = id_memory(id_memory_mib)?;
        Ok(())
    }
}

/// Puts the temporary files of the duplicate record id check, when it goes past its budget, in
/// the folder `temp_dir` (a NUL-terminated UTF-8 path; NULL, the default: the output's folder),
/// as `pseudolink encode --temp-dir DIR` does. They are anonymous (removed when closed, even on
/// a crash) and hold id hashes and row numbers, 24 bytes per row. A folder that does not exist
/// is refused by `pl_encoder_encode_file` with `PL_INVALID_ARGUMENT`. Errors: `PL_NULL_POINTER`
/// (`options`), `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (an empty path).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `temp_dir` must
/// be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_temp_dir(
    options: *mut pl_encode_options,
    temp_dir: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_path(options, temp_dir, "temp_dir", |o| &mut o.temp_dir) }
    }
}

/// Lets `cancel` (see `pl_cancel`; NULL, the default: none) stop the runs given these options:
/// once `pl_cancel_request` sets it, `pl_encoder_encode_file` stops at its next chunk of rows,
/// removes its partial outputs and returns `PL_CANCELLED`, as Ctrl-C stops `pseudolink encode`.
/// The options keep their own reference to the flag. Errors: `PL_NULL_POINTER` (`options`).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `cancel` must be
/// NULL or a live cancel flag.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_cancel(
    options: *mut pl_encode_options,
    cancel: *const pl_cancel,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `cancel` NULL or a live handle.
        let (options, cancel) = unsafe {
            (
                handle_mut(options, "options")?,
                crate::cancel::opt_cancel_arg(cancel)?,
            )
        };
        options.cancel = cancel;
        Ok(())
    }
}

/// Reads a CSV input in the text encoding named by the `encoding_len` bytes of UTF-8 at
/// `encoding` (case and `-` ignored: `utf-8`, `windows-1252` (also `cp1252`), `latin-1`,
/// `utf-16`, `utf-16le`, `utf-16be`), as `pseudolink encode --encoding E` does; empty (length
/// 0, NULL or not): UTF-8, the default. A byte order
/// mark at the start of the file overrides it. Recorded in the manifest. Errors:
/// `PL_NULL_POINTER` (`options`, or `encoding` NULL with a length), `PL_INVALID_UTF8`,
/// `PL_INVALID_ARGUMENT` (an unknown encoding, named in the message; the options keep the
/// encoding they had).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `encoding` must
/// be NULL or valid for reads of `encoding_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_encoding(
    options: *mut pl_encode_options,
    encoding: *const c_char,
    encoding_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `encoding` NULL or valid for `encoding_len` bytes.
        let (options, encoding) = unsafe {
            (
                handle_mut(options, "options")?,
                opt_text_arg(encoding, encoding_len, "encoding")?,
            )
        };
        options.encoding = match encoding {
            Some(name) => TextEncoding::parse(&name)?,
            None => TextEncoding::default(),
        };
        Ok(())
    }
}

/// Reads a CSV input with the delimiter named by the `delimiter_len` bytes of UTF-8 at
/// `delimiter` (`,`, `;`, `|`, or a tab: `tab` or the character itself), as `pseudolink encode
/// --delimiter D` does; empty (length 0, NULL or not): a comma, the default. Recorded in the
/// manifest. Errors: `PL_NULL_POINTER` (`options`, or `delimiter` NULL with a length),
/// `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (another delimiter, named in the message; the
/// options keep the one they had).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `delimiter`
/// must be NULL or valid for reads of `delimiter_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_delimiter(
    options: *mut pl_encode_options,
    delimiter: *const c_char,
    delimiter_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `delimiter` NULL or valid for `delimiter_len` bytes.
        let (options, delimiter) = unsafe {
            (
                handle_mut(options, "options")?,
                opt_text_arg(delimiter, delimiter_len, "delimiter")?,
            )
        };
        options.delimiter = delimiter.as_deref().map(parse_delimiter).transpose()?;
        Ok(())
    }
}

/// Adds the column name mapping given by the `mapping_len` bytes of UTF-8 at `mapping`
/// (`SCHEMA_COLUMN=INPUT_COLUMN`, e.g. `first_name=forename`): the input's name for a schema
/// column, as `pseudolink encode --column M` does; call it once per column. An empty mapping
/// (length 0, NULL or not) clears the mappings added so far. They are added to
/// those of the mapping file (`pl_encode_options_set_columns_file`), if any, and recorded in the
/// manifest. Errors: `PL_NULL_POINTER` (`options`, or `mapping` NULL with a length),
/// `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (not `A=B`, or a schema column already mapped to
/// another name; the options keep the mappings they had). `pl_encoder_encode_file` refuses a
/// mapping of a column the schema does not have with `PL_INVALID_ARGUMENT`, and one to a column
/// the input does not have with `PL_INPUT_ERROR` (naming the file).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `mapping` must
/// be NULL or valid for reads of `mapping_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_column(
    options: *mut pl_encode_options,
    mapping: *const c_char,
    mapping_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `mapping` NULL or valid for `mapping_len` bytes.
        let (options, mapping) = unsafe {
            (
                handle_mut(options, "options")?,
                opt_text_arg(mapping, mapping_len, "mapping")?,
            )
        };
        match mapping {
            Some(m) => {
                let (from, to) = parse_column_arg(&m)?;
                add_column(&mut options.columns, from, to)?;
            }
            None => options.columns.clear(),
        }
        Ok(())
    }
}

/// Reads the input's names for the schema's columns from the mapping file `path` (a
/// NUL-terminated UTF-8 path: a JSON object `{"first_name": "forename", ...}` (`.json`) or a CSV
/// file with the header `schema_column,input_column`), as `pseudolink encode --columns FILE`
/// does; NULL, the default: none. The mappings of `pl_encode_options_set_column` are added to
/// it. The file is read by `pl_encoder_encode_file`, which returns `PL_IO_ERROR` when it cannot
/// be read and `PL_INPUT_ERROR` (naming the file and line) when it is malformed. Errors:
/// `PL_NULL_POINTER` (`options`), `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (an empty path).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `path` must be
/// NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_columns_file(
    options: *mut pl_encode_options,
    path: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_path(options, path, "columns_path", |o| &mut o.columns_file) }
    }
}

/// Reads the sheet named by the `sheet_len` bytes of UTF-8 at `sheet` of an Excel workbook
/// input, as `pseudolink encode --sheet S` does; empty (length 0, NULL or not), the default: the
/// first sheet. Recorded in the manifest. A sheet the workbook does not have is refused by
/// `pl_encoder_encode_file` with `PL_INPUT_ERROR`, naming the sheets it has. Errors: `PL_NULL_POINTER` (`options`, or
/// `sheet` NULL with a length), `PL_INVALID_UTF8`.
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `sheet` must be
/// NULL or valid for reads of `sheet_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_sheet(
    options: *mut pl_encode_options,
    sheet: *const c_char,
    sheet_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_text(options, sheet, sheet_len, "sheet", |o| &mut o.sheet) }
    }
}

/// Records in the manifest the agency's name for this source (`source_len` bytes of UTF-8 at
/// `source`, e.g. `council`), as `pseudolink encode --source S` does; links name their sources
/// by it. Empty (length 0, NULL or not), the default: none. Errors: `PL_NULL_POINTER`
/// (`options`, or `source` NULL with a length), `PL_INVALID_UTF8`.
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `source` must
/// be NULL or valid for reads of `source_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_encode_options_set_source(
    options: *mut pl_encode_options,
    source: *const c_char,
    source_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_text(options, source, source_len, "source", |o| &mut o.source) }
    }
}

/// `pl_encode_file` with options: encodes the CSV extract at `input_path` into `output_path` and
/// `output_path.manifest.json` with `encoder`, as `pseudolink encode` does with the options set in
/// `options` (see `pl_encode_options_new`): a rejects file, the agreement and purpose recorded in
/// the manifest, the budget and temporary folder of the duplicate record id check, a cancel flag
/// (`PL_CANCELLED` once it is set), the text encoding, delimiter, sheet and column names of the
/// input and its source name. Paths are NUL-terminated UTF-8. The manifest records who ran
/// it (user name, host), when it started and ended, the input's keyed BLAKE3, the schema
/// fingerprint, the key check value and the counts.
/// Nothing appears at the output, its manifest or the rejects path unless the whole run
/// succeeds. Errors: as `pl_encode_file` (`PL_NULL_POINTER` also for `options`);
/// `PL_INVALID_ARGUMENT` also for a temporary folder that does not exist; `PL_IO_ERROR` when the
/// temporary files cannot be written.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path must be NULL or a NUL-terminated string;
/// `options` must be NULL or live encode options.
#[no_mangle]
pub unsafe extern "C" fn pl_encoder_encode_file(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    options: *const pl_encode_options,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded to the caller, who guarantees `options` is NULL or a live handle.
        unsafe {
            encode(encoder, input_path, output_path, || {
                handle_arg(options, "options").cloned()
            })
        }
    }
}

/// Deprecated, to be removed before 1.0: use `pl_encoder_encode_file` with
/// `pl_encode_options_set_rejects`, `pl_encode_options_set_agreement` and
/// `pl_encode_options_set_purpose`.
///
/// Like `pl_encode_file`, and records in the manifest the Information Sharing Agreement
/// reference `agreement` and the purpose of processing `purpose` (each NULL or a NUL-terminated
/// UTF-8 string; NULL records none), as `pseudolink encode --agreement A --purpose P` does.
/// Errors: those of `pl_encode_file`; `PL_INVALID_UTF8` when `agreement` or `purpose` is not
/// UTF-8.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path, `agreement` and `purpose` must be NULL
/// or a NUL-terminated string.
#[no_mangle]
#[deprecated(note = "use pl_encoder_encode_file with pl_encode_options; to be removed before 1.0")]
pub unsafe extern "C" fn pl_encode_file_with_agreement(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    rejects_path: *const c_char,
    agreement: *const c_char,
    purpose: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded to the caller, who guarantees each string is NULL or NUL-terminated.
        unsafe {
            encode(encoder, input_path, output_path, || {
                positional(rejects_path, agreement, purpose, 0, std::ptr::null())
            })
        }
    }
}

/// Deprecated, to be removed before 1.0: use `pl_encoder_encode_file` with
/// `pl_encode_options` (`pl_encode_options_set_id_memory`, `pl_encode_options_set_temp_dir` and
/// the other setters).
///
/// Like `pl_encode_file_with_agreement`, with the memory budget of the duplicate record id check
/// and the folder of its temporary files, as `pseudolink encode --id-memory MIB --temp-dir DIR`
/// take them. `id_memory_mib`: from 1 to 1,048,576 MiB, or 0 for the default (64 MiB); `temp_dir`:
/// NULL for the output's folder (see `pl_encode_options_set_id_memory` and
/// `pl_encode_options_set_temp_dir`). Errors: those of `pl_encode_file_with_agreement`;
/// `PL_INVALID_ARGUMENT` for a budget above the limit, or a `temp_dir` that is empty or not an
/// existing folder; `PL_IO_ERROR` when the temporary files cannot be written.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path, `agreement`, `purpose` and `temp_dir`
/// must be NULL or a NUL-terminated string.
#[no_mangle]
#[deprecated(note = "use pl_encoder_encode_file with pl_encode_options; to be removed before 1.0")]
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
        // SAFETY: forwarded to the caller, who guarantees each string is NULL or NUL-terminated.
        unsafe {
            encode(encoder, input_path, output_path, || {
                positional(rejects_path, agreement, purpose, id_memory_mib, temp_dir)
            })
        }
    }
}

/// The options the deprecated positional functions take, checked in their order.
///
/// # Safety
///
/// Each string must be NULL or NUL-terminated.
unsafe fn positional(
    rejects_path: *const c_char,
    agreement: *const c_char,
    purpose: *const c_char,
    id_memory_mib: u64,
    temp_dir: *const c_char,
) -> FfiResult<pl_encode_options> {
    // SAFETY: the caller guarantees each string is NULL or NUL-terminated.
    let (rejects, agreement, purpose, temp_dir) = unsafe {
        (
            opt_cpath_arg(rejects_path, "rejects_path")?,
            opt_cstr_arg(agreement, "agreement")?,
            opt_cstr_arg(purpose, "purpose")?,
            opt_cpath_arg(temp_dir, "temp_dir")?,
        )
    };
    Ok(pl_encode_options {
        rejects: rejects.map(Path::to_path_buf),
        agreement,
        purpose,
        id_memory: id_memory(id_memory_mib)?,
        temp_dir: temp_dir.map(Path::to_path_buf),
        ..pl_encode_options::default()
    })
}

/// The budget of `mib` MiB, `None` (the default) for 0.
fn id_memory(mib: u64) -> FfiResult<Option<usize>> {
    match mib {
        0 => Ok(None),
        mib => Ok(Some(id_memory_from_mib(mib)?)),
    }
}

/// Sets the path `field` picks of `options` to `path` (NULL: none).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `path` must be
/// NULL or a NUL-terminated string.
unsafe fn set_path(
    options: *mut pl_encode_options,
    path: *const c_char,
    name: &str,
    field: fn(&mut pl_encode_options) -> &mut Option<PathBuf>,
) -> FfiResult {
    // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and `path` NULL
    // or NUL-terminated.
    let (options, path) = unsafe { (handle_mut(options, "options")?, opt_cpath_arg(path, name)?) };
    *field(options) = path.map(Path::to_path_buf);
    Ok(())
}

/// Sets the text `field` picks of `options` to `len` bytes at `text` (empty: none).
///
/// # Safety
///
/// `options` must be NULL or live encode options that no other thread is using; `text` must be
/// NULL or valid for reads of `len` bytes.
unsafe fn set_text(
    options: *mut pl_encode_options,
    text: *const c_char,
    len: usize,
    name: &str,
    field: fn(&mut pl_encode_options) -> &mut Option<String>,
) -> FfiResult {
    // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and `text` NULL
    // or valid for `len` bytes.
    let (options, text) = unsafe {
        (
            handle_mut(options, "options")?,
            opt_text_arg(text, len, name)?,
        )
    };
    *field(options) = text;
    Ok(())
}

/// Encodes `input_path` into `output_path` with the options `options` gives (called once the
/// other arguments are checked, so that they are checked in their order): the body of every
/// encode-file function.
///
/// # Safety
///
/// `encoder` must be NULL or a live encoder; each path must be NULL or a NUL-terminated string.
unsafe fn encode(
    encoder: *const pl_encoder,
    input_path: *const c_char,
    output_path: *const c_char,
    options: impl FnOnce() -> FfiResult<pl_encode_options>,
) -> FfiResult {
    // SAFETY: the caller guarantees `encoder` is NULL or a live handle and each path NULL or
    // NUL-terminated.
    let (encoder, input, output) = unsafe {
        (
            handle_arg(encoder, "encoder")?,
            cpath_arg(input_path, "input_path")?,
            cpath_arg(output_path, "output_path")?,
        )
    };
    let options = options()?;
    let file_options = EncodeOptions {
        rejects: options.rejects.into(),
        agreement: options.agreement,
        purpose: options.purpose,
        id_memory: options.id_memory,
        temp_dir: options.temp_dir,
        encoding: options.encoding,
        delimiter: options.delimiter,
        sheet: options.sheet,
        columns: column_map_with(options.columns_file.as_deref(), &options.columns)?,
        source: options.source,
        keep_sample: false,
    };
    let dated = encoder.current();
    let mut control = RunControl::new();
    if let Some(flag) = &options.cancel {
        control = control.cancel(flag);
    }
    encode_file(dated.encoder(), input, output, &file_options, &control)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error;
    use std::ptr::{null, null_mut};

    #[test]
    fn setters_check_their_arguments_and_keep_the_options_on_failure() {
        let mut o: *mut pl_encode_options = null_mut();
        // SAFETY: valid arguments, NULLs that are reported, and one handle freed once.
        unsafe {
            assert_eq!(pl_encode_options_new(&mut o), pl_result::PL_OK);
            assert_eq!(pl_encode_options_set_id_memory(o, 2048), pl_result::PL_OK);
            assert_eq!(
                pl_encode_options_set_id_memory(o, (1 << 20) + 1),
                pl_result::PL_INVALID_ARGUMENT
            );
            assert!(last_error().contains("id memory"), "{}", last_error());
            assert_eq!((*o).id_memory, Some(2048 << 20), "kept on failure");
            assert_eq!(
                pl_encode_options_set_id_memory(o, 0),
                pl_result::PL_OK,
                "0 is the default"
            );
            assert_eq!((*o).id_memory, None);

            let isa = "ISA-2026-07";
            assert_eq!(
                pl_encode_options_set_agreement(o, isa.as_ptr().cast(), isa.len()),
                pl_result::PL_OK
            );
            assert_eq!((*o).agreement.as_deref(), Some(isa));
            assert_eq!(
                pl_encode_options_set_purpose(o, c"\xff".as_ptr(), 1),
                pl_result::PL_INVALID_UTF8
            );
            assert_eq!(
                pl_encode_options_set_purpose(o, null(), 3),
                pl_result::PL_NULL_POINTER
            );
            assert_eq!((*o).purpose, None);
            assert_eq!(
                pl_encode_options_set_agreement(o, isa.as_ptr().cast(), 0),
                pl_result::PL_OK,
                "empty: none"
            );
            assert_eq!((*o).agreement, None);

            assert_eq!(
                pl_encode_options_set_rejects(o, c"rejects.csv".as_ptr()),
                pl_result::PL_OK
            );
            assert_eq!(
                pl_encode_options_set_temp_dir(o, c"".as_ptr()),
                pl_result::PL_INVALID_ARGUMENT
            );
            assert_eq!((*o).rejects.as_deref(), Some(Path::new("rejects.csv")));
            assert_eq!(pl_encode_options_set_rejects(o, null()), pl_result::PL_OK);
            assert_eq!((*o).rejects, None);
            assert_eq!(
                pl_encode_options_set_temp_dir(null_mut(), null()),
                pl_result::PL_NULL_POINTER
            );
            assert_eq!(
                pl_encode_options_new(null_mut()),
                pl_result::PL_NULL_POINTER
            );
            pl_encode_options_free(o);
            pl_encode_options_free(null_mut());
        }
    }

    #[test]
    fn input_setters_parse_in_the_core_and_keep_the_options_on_failure() {
        let mut o: *mut pl_encode_options = null_mut();
        let text = |s: &'static str| (s.as_ptr().cast::<c_char>(), s.len());
        // SAFETY: valid arguments, NULLs that are reported, and one handle freed once.
        unsafe {
            assert_eq!(pl_encode_options_new(&mut o), pl_result::PL_OK);
            let (p, n) = text("Windows-1252");
            assert_eq!(pl_encode_options_set_encoding(o, p, n), pl_result::PL_OK);
            let (p, n) = text("ebcdic");
            assert_eq!(
                pl_encode_options_set_encoding(o, p, n),
                pl_result::PL_INVALID_ARGUMENT
            );
            assert!(last_error().contains("unknown text encoding 'ebcdic'"));
            assert_eq!((*o).encoding, TextEncoding::Windows1252, "kept on failure");
            let (p, n) = text("tab");
            assert_eq!(pl_encode_options_set_delimiter(o, p, n), pl_result::PL_OK);
            let (p, n) = text(":");
            assert_eq!(
                pl_encode_options_set_delimiter(o, p, n),
                pl_result::PL_INVALID_ARGUMENT
            );
            assert_eq!((*o).delimiter, Some(b'\t'));
            assert_eq!(
                pl_encode_options_set_delimiter(o, null(), 0),
                pl_result::PL_OK
            );
            assert_eq!((*o).delimiter, None, "empty: the default");
            let (p, n) = text("first_name=Forename");
            assert_eq!(pl_encode_options_set_column(o, p, n), pl_result::PL_OK);
            let (p, n) = text("first_name=Given");
            assert_eq!(
                pl_encode_options_set_column(o, p, n),
                pl_result::PL_INVALID_ARGUMENT
            );
            assert_eq!((*o).columns.len(), 1);
            assert_eq!(pl_encode_options_set_column(o, null(), 0), pl_result::PL_OK);
            assert!((*o).columns.is_empty(), "empty: cleared");
            let (p, n) = text("People");
            assert_eq!(pl_encode_options_set_sheet(o, p, n), pl_result::PL_OK);
            assert_eq!((*o).sheet.as_deref(), Some("People"));
            let (p, n) = text("council");
            assert_eq!(pl_encode_options_set_source(o, p, n), pl_result::PL_OK);
            assert_eq!((*o).source.as_deref(), Some("council"));
            assert_eq!(
                pl_encode_options_set_columns_file(o, c"columns.json".as_ptr()),
                pl_result::PL_OK
            );
            assert_eq!(
                (*o).columns_file.as_deref(),
                Some(Path::new("columns.json"))
            );
            assert_eq!(
                pl_encode_options_set_source(null_mut(), null(), 0),
                pl_result::PL_NULL_POINTER
            );
            pl_encode_options_free(o);
        }
    }
}
