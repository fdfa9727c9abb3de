//! `pl_cancel`: a flag another thread sets to stop a file run (`pl_encoder_encode_file`,
//! `pl_link_files_with_options`) given it through its options.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{pl_result, FfiResult};
use crate::ffi::{free_handle, handle_arg, into_handle, out_arg};
use crate::panic::ffi_boundary;

/// A cancel flag: made by `pl_cancel_new`, given to runs with `pl_encode_options_set_cancel` or
/// `pl_link_options_set_cancel`, set with `pl_cancel_request` from any thread, freed with
/// `pl_cancel_free`. A run that sees it set stops at its next chunk of rows (encoding) or of
/// candidate pairs (linking), writes nothing (its partial outputs are removed) and returns
/// `PL_CANCELLED`. Options hold their own reference to the flag, so it may be freed before them.
/// A flag, once set, stays set: make a new one for the next run.
#[allow(non_camel_case_types)]
#[derive(Debug, Default)]
pub struct pl_cancel {
    flag: Arc<AtomicBool>,
}

impl pl_cancel {
    /// The shared flag, for options to hold.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }
}

/// Makes a cancel flag, not set, and stores it in `*out`; free it with `pl_cancel_free`.
/// Errors: `PL_NULL_POINTER`.
///
/// # Safety
///
/// `out` must be NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn pl_cancel_new(out: *mut *mut pl_cancel) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `out` is NULL or valid for writes.
        let out = unsafe { out_arg(out, "out") }?;
        out.set(into_handle(pl_cancel::default()));
        Ok(())
    }
}

/// Sets the flag: every run given it stops soon after with `PL_CANCELLED`. Safe to call from any
/// thread, while the runs go on other threads (a signal handler should set a `volatile
/// sig_atomic_t` instead and leave the call to a thread). Errors: `PL_NULL_POINTER`.
///
/// # Safety
///
/// `cancel` must be NULL or a live cancel flag.
#[no_mangle]
pub unsafe extern "C" fn pl_cancel_request(cancel: *const pl_cancel) -> pl_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees `cancel` is NULL or a live handle.
        let cancel = unsafe { handle_arg(cancel, "cancel") }?;
        cancel.flag.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// Frees a cancel flag; options it was given keep their own reference. NULL is a no-op.
///
/// # Safety
///
/// `cancel` must be NULL or a cancel flag from this library that has not been freed, and no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pl_cancel_free(cancel: *mut pl_cancel) {
    ffi_boundary! {
        // SAFETY: the caller guarantees `cancel` is NULL or a live, unshared handle.
        unsafe { free_handle(cancel) }
    }
}

/// The flag of an optional `const pl_cancel *` argument (NULL: none).
///
/// # Safety
///
/// `cancel` must be NULL or a live cancel flag.
pub(crate) unsafe fn opt_cancel_arg(
    cancel: *const pl_cancel,
) -> FfiResult<Option<Arc<AtomicBool>>> {
    if cancel.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller guarantees a non-NULL `cancel` is a live handle.
    Ok(Some(unsafe { handle_arg(cancel, "cancel") }?.flag()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::{null, null_mut};

    #[test]
    fn a_flag_is_made_set_and_freed() {
        let mut c: *mut pl_cancel = null_mut();
        // SAFETY: `c` is a valid out pointer; the handle is live until freed.
        unsafe {
            assert_eq!(pl_cancel_new(&mut c), pl_result::PL_OK);
            let flag = (*c).flag();
            assert!(!flag.load(Ordering::SeqCst));
            assert_eq!(pl_cancel_request(c), pl_result::PL_OK);
            assert!(flag.load(Ordering::SeqCst));
            assert_eq!(pl_cancel_request(null()), pl_result::PL_NULL_POINTER);
            assert_eq!(pl_cancel_new(null_mut()), pl_result::PL_NULL_POINTER);
            pl_cancel_free(c);
            // The options' reference outlives the handle.
            assert!(flag.load(Ordering::SeqCst));
            pl_cancel_free(null_mut());
        }
    }
}
