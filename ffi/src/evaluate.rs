//! `pl_evaluate_files`: precision, recall and F1 of a links file against the true pairs, as
//! `pseudolink evaluate` computes them.

use std::os::raw::c_char;

use pseudolink::link::evaluate::{evaluate, read_links, read_truth};

use crate::error::pl_result;
use crate::ffi::{cpath_arg, out_arg};
use crate::panic::ffi_boundary;

/// The quality of a links file against the true pairs (what `pseudolink evaluate` prints).
/// Only `match` links count as predicted pairs; `review` pairs do not.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct pl_evaluation {
    /// True positives over predicted pairs (0 when nothing is predicted).
    pub precision: f64,
    /// True positives over true pairs (0 when there are no true pairs).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Predicted pairs that are true.
    pub true_positives: u64,
    /// Predicted pairs that are not true.
    pub false_positives: u64,
    /// True pairs not predicted.
    pub false_negatives: u64,
}

/// Evaluates the links file at `links_path` (written by `pl_link_files` or `pseudolink link`)
/// against the true pairs at `truth_path` (CSV with columns `left_id,right_id`) and writes the
/// result to `*out`, as `pseudolink evaluate --links L --truth T` does (with `unordered` true, as
/// `--unordered`: pairs match whichever id comes first, for deduplication). Paths are
/// NUL-terminated UTF-8. A pair naming ids absent from the truth is a false positive, not an
/// error. Errors: `PL_NULL_POINTER`, `PL_INVALID_UTF8`, `PL_INVALID_ARGUMENT` (an empty path),
/// `PL_IO_ERROR`, `PL_INPUT_ERROR` (a malformed links or truth file: the message names the file,
/// line and column).
///
/// # Safety
///
/// Each path must be NULL or a NUL-terminated string; `out` must be NULL or valid for writing a
/// `pl_evaluation`.
#[no_mangle]
pub unsafe extern "C" fn pl_evaluate_files(
    links_path: *const c_char,
    truth_path: *const c_char,
    unordered: bool,
    out: *mut pl_evaluation,
) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees each path is NULL or NUL-terminated and `out` NULL or
        // valid for writes.
        let (links, truth, out) = unsafe {
            (
                cpath_arg(links_path, "links_path")?,
                cpath_arg(truth_path, "truth_path")?,
                out_arg(out, "out")?,
            )
        };
        let e = evaluate(&read_links(links)?, &read_truth(truth)?, unordered);
        out.set(pl_evaluation {
            precision: e.precision,
            recall: e.recall,
            f1: e.f1,
            true_positives: e.true_positives,
            false_positives: e.false_positives,
            false_negatives: e.false_negatives,
        });
        Ok(())
    }
}
