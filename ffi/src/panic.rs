//! The panic boundary: every `extern "C"` body runs inside [`boundary`] (or [`guard`] for
//! functions that return no `pl_result`), so a Rust panic becomes `PL_PANIC` instead of aborting
//! the host process (an unwinding panic out of `extern "C"` aborts since Rust 1.81).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{clear_last_error, clear_last_warning, pl_result, set_last_error, FfiResult};

// The boundary needs unwinding; with `panic = "abort"` it could not catch anything.
#[cfg(panic = "abort")]
compile_error!(
    "pseudolink-ffi must be built with panic = \"unwind\": its panic boundary relies on it"
);

/// Runs the body of a function that returns `pl_result`.
///
/// It first clears the thread's warnings. `Ok` clears the thread's last error and gives `PL_OK`;
/// a [`Failure`](crate::error::Failure) stores its message and gives its code; a panic stores a
/// message and gives `PL_PANIC`.
pub(crate) fn boundary(body: impl FnOnce() -> FfiResult) -> pl_result {
    // The warnings read by `pl_last_warning_message` are those of this call only.
    clear_last_warning();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            pl_result::PL_OK
        }
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(payload) => {
            set_last_error(&panic_message(payload));
            pl_result::PL_PANIC
        }
    }
}

/// Like [`boundary`] but leaves the last error alone unless there is a panic: for
/// `pl_last_error_message`, whose reading must not change what it reads.
pub(crate) fn boundary_keep_error(body: impl FnOnce() -> FfiResult) -> pl_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => pl_result::PL_OK,
        Ok(Err(failure)) => failure.code,
        Err(payload) => {
            set_last_error(&panic_message(payload));
            pl_result::PL_PANIC
        }
    }
}

/// Runs the body of a function that returns no `pl_result` (`pl_version`, the `_free`
/// functions): on a panic it stores a message and returns `on_panic`.
pub(crate) fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&panic_message(payload));
            on_panic
        }
    }
}

/// The message stored for a caught panic. The payload is dropped inside its own boundary: a
/// payload whose destructor panics must not escape either.
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let detail = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    format!(
        "internal error in pseudolink {} (a bug; please report it): {detail}",
        pseudolink::VERSION
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{last_error, Failure};

    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `f` without the default hook printing its expected panics (other threads' panics,
    /// e.g. real test failures, are still printed).
    fn quiet<T>(f: impl FnOnce() -> T) -> T {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !QUIET.with(|q| q.get()) {
                    default(info);
                }
            }));
        });
        QUIET.with(|q| q.set(true));
        let v = f();
        QUIET.with(|q| q.set(false));
        v
    }

    #[test]
    fn a_panic_becomes_pl_panic_with_a_message() {
        let r = quiet(|| boundary(|| panic!("index 7 out of range")));
        assert_eq!(r, pl_result::PL_PANIC);
        let m = last_error();
        assert!(
            m.contains("internal error") && m.contains("index 7 out of range"),
            "{m}"
        );
    }

    #[test]
    fn a_formatted_panic_and_a_non_string_payload_are_caught() {
        let n = 3;
        assert_eq!(
            quiet(|| boundary(|| panic!("value {n}"))),
            pl_result::PL_PANIC
        );
        assert!(last_error().contains("value 3"));
        let r = quiet(|| boundary(|| std::panic::panic_any(42_u8)));
        assert_eq!(r, pl_result::PL_PANIC);
        assert!(last_error().contains("no message"));
    }

    #[test]
    fn a_payload_that_panics_when_dropped_does_not_escape() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("bomb");
            }
        }
        let r = quiet(|| boundary(|| std::panic::panic_any(Bomb)));
        assert_eq!(r, pl_result::PL_PANIC);
    }

    #[test]
    fn failures_set_and_successes_clear_the_last_error() {
        let r = boundary(|| Err(Failure::new(pl_result::PL_IO_ERROR, "cannot read x")));
        assert_eq!(r, pl_result::PL_IO_ERROR);
        assert_eq!(last_error(), "cannot read x");
        assert_eq!(boundary(|| Ok(())), pl_result::PL_OK);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn keep_error_leaves_the_message() {
        set_last_error("earlier");
        let r = boundary_keep_error(|| Err(Failure::null("written")));
        assert_eq!(r, pl_result::PL_NULL_POINTER);
        assert_eq!(boundary_keep_error(|| Ok(())), pl_result::PL_OK);
        assert_eq!(last_error(), "earlier");
    }

    #[test]
    fn guard_returns_the_fallback_on_panic() {
        assert_eq!(guard(1, || 2), 2);
        assert_eq!(quiet(|| guard(1, || panic!("x"))), 1);
        assert!(last_error().contains("internal error"));
    }
}
