//! `pl_link_files` and `pl_link_files_with_options`: link two encoded extracts, file to file, as
//! `pseudolink link` does it.

use std::os::raw::c_char;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pseudolink::control::RunControl;
use pseudolink::link::LinkOptions;
use pseudolink::run::{link, LinkInput, LinkRun};

use crate::cancel::{opt_cancel_arg, pl_cancel};
use crate::error::{pl_result, set_last_warnings, FfiResult};
use crate::ffi::{
    cpath_arg, free_handle, handle_arg, handle_mut, into_handle, opt_cpath_arg, opt_cstr_arg,
    opt_text_arg, out_arg,
};
use crate::panic::ffi_boundary;
use crate::schema::pl_schema;

/// Links the encoded extracts at `left_path` and `right_path` (each with its manifest beside it)
/// and writes the links file `output_path` and its summary `output_path.summary.json`, with the
/// same behaviour and outputs as `pseudolink link --left L --right R --output O --threshold T`:
/// the inputs are checked against their manifests and against each other (same schema, format
/// version and secret), a model is trained, and pairs with a match probability of at least
/// `threshold` are links. Pairs from the default review threshold (0.5, or `threshold` if that is
/// lower) up to `threshold` are marked for clerical review. Paths are NUL-terminated UTF-8.
/// Nothing is written unless the whole run succeeds.
///
/// Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (empty path, `threshold`
/// not a probability from 0 to 1), `PL_IO_ERROR`, `PL_INPUT_ERROR` (a malformed extract),
/// `PL_MISMATCH` (extracts from different schemas, secrets or format versions, or a manifest that
/// does not match its extract), `PL_MODEL_ERROR`.
///
/// # Safety
///
/// `schema` must be NULL or a live schema; each path must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_link_files(
    schema: *const pl_schema,
    left_path: *const c_char,
    right_path: *const c_char,
    output_path: *const c_char,
    threshold: f64,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` is NULL or a live handle and each path NULL or
        // NUL-terminated.
        let (schema, left, right, output) = unsafe {
            (
                handle_arg(schema, "schema")?,
                cpath_arg(left_path, "left_path")?,
                cpath_arg(right_path, "right_path")?,
                cpath_arg(output_path, "output_path")?,
            )
        };
        run(
            schema,
            [left, right],
            output,
            &pl_link_options {
                threshold,
                ..pl_link_options::default()
            },
        )
    }
}

/// Deprecated, to be removed before 1.0: use `pl_link_files_with_options` with
/// `pl_link_options_set_threshold`, `pl_link_options_set_agreement` and
/// `pl_link_options_set_purpose`.
///
/// Like `pl_link_files`, and records in the summary the Information Sharing Agreement reference
/// `agreement` and the purpose of processing `purpose` (each NULL or a NUL-terminated UTF-8
/// string; NULL records none), as `pseudolink link --agreement A --purpose P` does.
/// Errors: those of `pl_link_files`; `PL_INVALID_UTF8` when `agreement` or `purpose` is not
/// UTF-8.
///
/// # Safety
///
/// `schema` must be NULL or a live schema; each path, `agreement` and `purpose` must be NULL or
/// a NUL-terminated string.
#[no_mangle]
#[deprecated(
    note = "use pl_link_files_with_options with pl_link_options; to be removed before 1.0"
)]
pub unsafe extern "C" fn pl_link_files_with_agreement(
    schema: *const pl_schema,
    left_path: *const c_char,
    right_path: *const c_char,
    output_path: *const c_char,
    threshold: f64,
    agreement: *const c_char,
    purpose: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` is NULL or a live handle and each string NULL
        // or NUL-terminated.
        let (schema, left, right, output, agreement, purpose) = unsafe {
            (
                handle_arg(schema, "schema")?,
                cpath_arg(left_path, "left_path")?,
                cpath_arg(right_path, "right_path")?,
                cpath_arg(output_path, "output_path")?,
                opt_cstr_arg(agreement, "agreement")?,
                opt_cstr_arg(purpose, "purpose")?,
            )
        };
        run(
            schema,
            [left, right],
            output,
            &pl_link_options {
                threshold,
                agreement,
                purpose,
                ..pl_link_options::default()
            },
        )
    }
}

/// Options of `pl_link_files_with_options`, beyond those of `pl_link_files`: make one with
/// `pl_link_options_new`, change what you need with the `pl_link_options_set_*` functions and
/// free it with `pl_link_options_free`. A new one has `pl_link_files`'s behaviour: threshold 0.9,
/// inputs always checked against their manifests, a model trained on the inputs and not saved,
/// no agreement or purpose recorded. The setters change the handle, so they must not run while
/// another thread uses it; linking only reads it.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone)]
pub struct pl_link_options {
    threshold: f64,
    allow_unverified: bool,
    model: Option<PathBuf>,
    save_model: Option<PathBuf>,
    agreement: Option<String>,
    purpose: Option<String>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Default for pl_link_options {
    fn default() -> Self {
        pl_link_options {
            threshold: pseudolink::link::DEFAULT_THRESHOLD,
            allow_unverified: false,
            model: None,
            save_model: None,
            agreement: None,
            purpose: None,
            cancel: None,
        }
    }
}

/// Makes link options with the defaults (those of `pl_link_files` with threshold 0.9) and stores
/// them in `*out`; free them with `pl_link_options_free`. Errors: `PL_NULL_POINTER`.
///
/// # Safety
///
/// `out` must be NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_new(out: *mut *mut pl_link_options) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        out.set(into_handle(pl_link_options::default()));
        Ok(())
    }
}

/// Frees link options. NULL is a no-op.
///
/// # Safety
///
/// `options` must be NULL or link options from this library that have not been freed, and no
/// other thread may be using them.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_free(options: *mut pl_link_options) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle.
        unsafe { free_handle(options) }
    }
}

/// Sets the match threshold: pairs with a match probability of at least `threshold` are links
/// (`--threshold`; the review threshold follows as in `pl_link_files`). A threshold that is not
/// a probability from 0 to 1 is refused by `pl_link_files_with_options` with
/// `PL_INVALID_ARGUMENT`. Errors: `PL_NULL_POINTER`.
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_threshold(
    options: *mut pl_link_options,
    threshold: f64,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle.
        let options = unsafe { handle_mut(options, "options") }?;
        options.threshold = threshold;
        Ok(())
    }
}

/// With `allow` true, link extracts whose manifest is missing or does not match them (altered or
/// truncated after encoding), as `pseudolink link --allow-unverified` does: their schema, secret
/// and row counts cannot be confirmed, so use it only when you know where the files came from.
/// The run's warnings (which extracts were not verified) are recorded in the summary file and can
/// be read with `pl_last_warning_message` after `pl_link_files_with_options`. A file that cannot
/// be read as an encoded extract of the schema (a cut row, a raw extract) is still refused.
/// Errors: `PL_NULL_POINTER`.
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_allow_unverified(
    options: *mut pl_link_options,
    allow: bool,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle.
        let options = unsafe { handle_mut(options, "options") }?;
        options.allow_unverified = allow;
        Ok(())
    }
}

/// Links with the saved model at `model_path` (a NUL-terminated UTF-8 path; NULL: train a model
/// on the inputs, the default) instead of training one, as `pseudolink link --model M` does: a
/// partnership reviews and signs off a model once and every run uses it. The model is read by
/// `pl_link_files_with_options`, which refuses one of another schema or a damaged file with
/// `PL_MODEL_ERROR`. Errors: `PL_NULL_POINTER` (`options`), `PL_INVALID_UTF8`,
/// `PL_INVALID_ARGUMENT` (an empty path).
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using; `model_path` must
/// be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_model(
    options: *mut pl_link_options,
    model_path: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_model_path(options, model_path, |o| &mut o.model) }
    }
}

/// Writes the model the run used (trained, or read with `pl_link_options_set_model`) to
/// `model_path` (a NUL-terminated UTF-8 path; NULL: do not save, the default), as
/// `pseudolink link --save-model M` does; written only if the whole run succeeds. Errors:
/// `PL_NULL_POINTER` (`options`), `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (an empty path).
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using; `model_path` must
/// be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_save_model(
    options: *mut pl_link_options,
    model_path: *const c_char,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: forwarded from the caller's guarantees.
        unsafe { set_model_path(options, model_path, |o| &mut o.save_model) }
    }
}

/// Records in the summary the Information Sharing Agreement reference: `agreement_len` bytes of
/// UTF-8 at `agreement`, as `pseudolink link --agreement A` does. An empty reference (length 0,
/// NULL or not) records none, the default. The summary also records the inputs with their sizes,
/// BLAKE3, schema fingerprints and key check values, the counts, who ran it (user name, host),
/// and when it started and ended. Errors: `PL_NULL_POINTER` (`options`, or `agreement` NULL with
/// a length), `PL_INVALID_UTF8`.
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using; `agreement` must
/// be NULL or valid for reads of `agreement_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_agreement(
    options: *mut pl_link_options,
    agreement: *const c_char,
    agreement_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `agreement` NULL or valid for `agreement_len` bytes.
        let (options, agreement) = unsafe {
            (
                handle_mut(options, "options")?,
                opt_text_arg(agreement, agreement_len, "agreement")?,
            )
        };
        options.agreement = agreement;
        Ok(())
    }
}

/// Records in the summary the purpose of processing: `purpose_len` bytes of UTF-8 at `purpose`,
/// as `pseudolink link --purpose P` does. An empty purpose (length 0, NULL or not) records none,
/// the default. Errors: `PL_NULL_POINTER` (`options`, or `purpose` NULL with a length),
/// `PL_INVALID_UTF8`.
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using; `purpose` must be
/// NULL or valid for reads of `purpose_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_purpose(
    options: *mut pl_link_options,
    purpose: *const c_char,
    purpose_len: usize,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `purpose` NULL or valid for `purpose_len` bytes.
        let (options, purpose) = unsafe {
            (
                handle_mut(options, "options")?,
                opt_text_arg(purpose, purpose_len, "purpose")?,
            )
        };
        options.purpose = purpose;
        Ok(())
    }
}

/// Lets `cancel` (see `pl_cancel`; NULL, the default: none) stop the runs given these options:
/// once `pl_cancel_request` sets it, `pl_link_files_with_options` stops at its next chunk of
/// candidate pairs, writes nothing and returns `PL_CANCELLED`, as Ctrl-C stops `pseudolink
/// link`. The options keep their own reference to the flag. Errors: `PL_NULL_POINTER`
/// (`options`).
///
/// # Safety
///
/// `options` must be NULL or live link options that no other thread is using; `cancel` must be
/// NULL or a live cancel flag.
#[no_mangle]
pub unsafe extern "C" fn pl_link_options_set_cancel(
    options: *mut pl_link_options,
    cancel: *const pl_cancel,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
        // `cancel` NULL or a live handle.
        let (options, cancel) = unsafe {
            (
                handle_mut(options, "options")?,
                opt_cancel_arg(cancel)?,
            )
        };
        options.cancel = cancel;
        Ok(())
    }
}

/// Sets the model path `field` picks of `options` to `model_path` (NULL: none).
///
/// # Safety
///
/// As `pl_link_options_set_model`.
unsafe fn set_model_path(
    options: *mut pl_link_options,
    model_path: *const c_char,
    field: fn(&mut pl_link_options) -> &mut Option<PathBuf>,
) -> FfiResult {
    // SAFETY: the caller guarantees `options` is NULL or a live, unshared handle and
    // `model_path` NULL or NUL-terminated.
    let (options, path) = unsafe {
        (
            handle_mut(options, "options")?,
            opt_cpath_arg(model_path, "model_path")?,
        )
    };
    *field(options) = path.map(Path::to_path_buf);
    Ok(())
}

/// `pl_link_files` with options: links the encoded extracts at `left_path` and `right_path` and
/// writes `output_path` and its summary, as `pseudolink link` does with the options set in
/// `options` (see `pl_link_options_new`). The run's warnings (inputs accepted unverified, a
/// model that did not converge...), also listed in the summary file, can be read with
/// `pl_last_warning_message`. Errors: as `pl_link_files`; `PL_NULL_POINTER` also for `options`.
///
/// # Safety
///
/// As `pl_link_files`; `options` must be NULL or live link options.
#[no_mangle]
pub unsafe extern "C" fn pl_link_files_with_options(
    schema: *const pl_schema,
    left_path: *const c_char,
    right_path: *const c_char,
    output_path: *const c_char,
    options: *const pl_link_options,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `schema` and `options` are NULL or live handles and
        // each path NULL or NUL-terminated.
        let (schema, left, right, output, options) = unsafe {
            (
                handle_arg(schema, "schema")?,
                cpath_arg(left_path, "left_path")?,
                cpath_arg(right_path, "right_path")?,
                cpath_arg(output_path, "output_path")?,
                handle_arg(options, "options")?,
            )
        };
        run(schema, [left, right], output, options)
    }
}

/// Links `inputs` into `output` with `options`, keeping the run's warnings for
/// `pl_last_warning_message`.
fn run(
    schema: &pl_schema,
    inputs: [&Path; 2],
    output: &Path,
    options: &pl_link_options,
) -> FfiResult {
    let mut run = LinkRun::new(
        inputs
            .iter()
            .map(|p| LinkInput::file(p.to_path_buf(), false))
            .collect(),
    );
    run.link = LinkOptions::with_threshold(options.threshold);
    run.allow_unverified = options.allow_unverified;
    run.agreement = options.agreement.clone();
    run.purpose = options.purpose.clone();
    if let Some(p) = &options.model {
        run = run.model_file(p)?;
    }
    let mut control = RunControl::new();
    if let Some(flag) = &options.cancel {
        control = control.cancel(flag);
    }
    let linked = link(&schema.inner, run, &control)?;
    let summary = linked.write(output, options.save_model.as_deref())?;
    set_last_warnings(&summary.warnings);
    Ok(())
}
