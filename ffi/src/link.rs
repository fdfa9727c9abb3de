//! `pl_link_files`: link two encoded extracts, file to file, as `pseudolink link` does it.

use std::os::raw::c_char;

use pseudolink::link::{LinkOptions, DEFAULT_REVIEW_THRESHOLD};
use pseudolink::run::{link_files, LinkFileOptions};

use crate::error::pl_result;
use crate::ffi::{cpath_arg, handle_arg, opt_cstr_arg};
use crate::panic::boundary;
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
    // SAFETY: forwarded to the caller; NULL agreement and purpose are allowed.
    unsafe {
        pl_link_files_with_agreement(
            schema,
            left_path,
            right_path,
            output_path,
            threshold,
            std::ptr::null(),
            std::ptr::null(),
        )
    }
}

/// Like `pl_link_files`, and records in the summary the Information Sharing Agreement reference
/// `agreement` and the purpose of processing `purpose` (each NULL or a NUL-terminated UTF-8
/// string; NULL records none), as `pseudolink link --agreement A --purpose P` does. The summary
/// also records the inputs with their sizes, BLAKE3, schema fingerprints and key check values,
/// the counts, who ran it (user name, host), and when it started and ended.
/// Errors: those of `pl_link_files`; `PL_INVALID_UTF8` when `agreement` or `purpose` is not
/// UTF-8.
///
/// # Safety
///
/// `schema` must be NULL or a live schema; each path, `agreement` and `purpose` must be NULL or
/// a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn pl_link_files_with_agreement(
    schema: *const pl_schema,
    left_path: *const c_char,
    right_path: *const c_char,
    output_path: *const c_char,
    threshold: f64,
    agreement: *const c_char,
    purpose: *const c_char,
) -> pl_result {
    boundary(|| {
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
        let options = LinkFileOptions {
            inputs: vec![left.to_path_buf(), right.to_path_buf()],
            link: LinkOptions {
                threshold,
                review_threshold: review_threshold(threshold),
                ..LinkOptions::default()
            },
            agreement,
            purpose,
            ..LinkFileOptions::default()
        };
        link_files(&schema.inner, output, &options)?;
        Ok(())
    })
}

/// The CLI's default review threshold, lowered to `threshold` when that is below it (the CLI
/// would refuse a review threshold above the match threshold; a C caller gives only one).
/// A threshold that is not a probability is passed through for the core to refuse.
fn review_threshold(threshold: f64) -> f64 {
    if threshold.is_finite() && threshold < DEFAULT_REVIEW_THRESHOLD {
        threshold
    } else {
        DEFAULT_REVIEW_THRESHOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_review_threshold_never_exceeds_the_match_threshold() {
        assert_eq!(review_threshold(0.9), DEFAULT_REVIEW_THRESHOLD);
        assert_eq!(
            review_threshold(DEFAULT_REVIEW_THRESHOLD),
            DEFAULT_REVIEW_THRESHOLD
        );
        assert_eq!(review_threshold(0.3), 0.3);
        assert_eq!(review_threshold(0.0), 0.0);
        // Not probabilities: left for the core's validation to refuse.
        assert_eq!(review_threshold(-0.1), -0.1);
        assert!(review_threshold(f64::NAN) == DEFAULT_REVIEW_THRESHOLD);
        let refused = |t: f64| {
            LinkOptions {
                threshold: t,
                review_threshold: review_threshold(t),
                ..LinkOptions::default()
            }
            .validate()
            .is_err()
        };
        assert!(!refused(0.9) && !refused(0.3) && !refused(0.0) && !refused(1.0));
        assert!(refused(1.5) && refused(-0.1) && refused(f64::NAN) && refused(f64::INFINITY));
    }
}
