//! The panic boundary: the body of every `extern "C"` function is one [`ffi_boundary!`]
//! invocation, so a Rust panic becomes `PL_PANIC` (or the fallback value of a function that
//! returns no `pl_result`) instead of aborting the host process (an unwinding panic out of
//! `extern "C"` aborts since Rust 1.81). The test `every_exported_function_is_one_boundary` below
//! reads ffi/src and the header and fails if an exported function's body is anything else.

use std::any::Any;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{clear_last_error, clear_last_warning, pl_result, set_last_error, FfiResult};

// The boundary needs unwinding; with `panic = "abort"` it could not catch anything.
#[cfg(panic = "abort")]
compile_error!(
    "pseudolink-ffi must be built with panic = \"unwind\": its panic boundary relies on it"
);

/// The whole body of an exported function: runs it inside the panic boundary
/// ([`boundary`](crate::panic::boundary)) and gives the function's C return value.
///
/// The body's type picks what the function returns ([`Returned`]): an
/// [`FfiResult`](crate::error::FfiResult) gives a `pl_result` (the thread's warnings are cleared
/// first; a failure's message is stored for `pl_last_error_message`, a success clears it); `()`
/// is for the `_free` functions; a `*const c_char` for `pl_version`. A panic stores a message and
/// gives `PL_PANIC` (or the type's fallback).
///
/// `ffi_boundary! { @keep_messages ... }` is the form of the two message readers
/// (`pl_last_error_message`, `pl_last_warning_message`), whose reading must not change what they
/// read: the thread's last error and warnings are left alone unless there is a panic.
macro_rules! ffi_boundary {
    (@keep_messages $($body:tt)*) => {
        $crate::panic::boundary_keep_messages(|| { $($body)* })
    };
    ($($body:tt)*) => {
        $crate::panic::boundary(|| { $($body)* })
    };
}
pub(crate) use ffi_boundary;

/// What the body of an exported function gives, and the C value it becomes.
pub(crate) trait Returned {
    /// The C return type.
    type C;
    /// Done before the body runs.
    fn before() {}
    /// The C value of a body that returned.
    fn finish(self) -> Self::C;
    /// The C value of a body that panicked (its message is stored already).
    fn on_panic() -> Self::C;
}

impl Returned for FfiResult {
    type C = pl_result;

    fn before() {
        // The warnings read by `pl_last_warning_message` are those of this call only.
        clear_last_warning();
    }

    fn finish(self) -> pl_result {
        match self {
            Ok(()) => {
                clear_last_error();
                pl_result::PL_OK
            }
            Err(failure) => {
                set_last_error(&failure.message);
                failure.code
            }
        }
    }

    fn on_panic() -> pl_result {
        pl_result::PL_PANIC
    }
}

/// The `_free` functions: nothing to return, and the messages are left alone.
impl Returned for () {
    type C = ();

    fn finish(self) {}

    fn on_panic() {}
}

/// `pl_version`: a static NUL-terminated string; the empty one on a panic.
impl Returned for *const c_char {
    type C = *const c_char;

    fn finish(self) -> *const c_char {
        self
    }

    fn on_panic() -> *const c_char {
        c"".as_ptr()
    }
}

/// Runs `body` (the body of an exported function, through [`ffi_boundary!`]) and gives its C
/// value; a panic stores a message for `pl_last_error_message` and gives the fallback.
pub(crate) fn boundary<T: Returned>(body: impl FnOnce() -> T) -> T::C {
    T::before();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value.finish(),
        Err(payload) => {
            set_last_error(&panic_message(payload));
            T::on_panic()
        }
    }
}

/// Like [`boundary`] for a `pl_result` function, but leaves the last error and the warnings
/// alone unless there is a panic: for the two message readers, whose reading must not change
/// what they read.
pub(crate) fn boundary_keep_messages(body: impl FnOnce() -> FfiResult) -> pl_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => pl_result::PL_OK,
        Ok(Err(failure)) => failure.code,
        Err(payload) => {
            set_last_error(&panic_message(payload));
            pl_result::PL_PANIC
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

    /// A `pl_result` function whose body panics with `panic`.
    fn fails(panic: impl FnOnce()) -> pl_result {
        ffi_boundary! {
            panic();
            Ok(())
        }
    }

    #[test]
    fn a_panic_becomes_pl_panic_with_a_message() {
        let r = quiet(|| fails(|| panic!("index 7 out of range")));
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
        assert_eq!(quiet(|| fails(|| panic!("value {n}"))), pl_result::PL_PANIC);
        assert!(last_error().contains("value 3"));
        let r = quiet(|| fails(|| std::panic::panic_any(42_u8)));
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
        let r = quiet(|| fails(|| std::panic::panic_any(Bomb)));
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
    fn keep_messages_leaves_the_message() {
        set_last_error("earlier");
        let r = ffi_boundary! { @keep_messages Err(Failure::null("written")) };
        assert_eq!(r, pl_result::PL_NULL_POINTER);
        assert_eq!(ffi_boundary! { @keep_messages Ok(()) }, pl_result::PL_OK);
        assert_eq!(last_error(), "earlier");
        let r = quiet(|| ffi_boundary! { @keep_messages panic!("reader") });
        assert_eq!(r, pl_result::PL_PANIC);
        assert!(last_error().contains("reader"));
    }

    /// Shaped like `pl_version`.
    fn version_like(fail: bool) -> *const c_char {
        ffi_boundary! {
            if fail {
                panic!("in pl_version");
            }
            c"1.2".as_ptr()
        }
    }

    /// Shaped like a `_free` function.
    fn free_like(fail: bool) {
        ffi_boundary! {
            if fail {
                panic!("in a _free");
            }
        }
    }

    #[test]
    fn functions_without_a_result_get_their_fallback_on_panic() {
        // SAFETY: static NUL-terminated strings.
        let text = |p| unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(text(version_like(false)), c"1.2");
        assert_eq!(text(quiet(|| version_like(true))), c"");
        assert!(last_error().contains("in pl_version"));
        set_last_error("earlier");
        free_like(false);
        assert_eq!(last_error(), "earlier", "a _free leaves the messages alone");
        quiet(|| free_like(true));
        assert!(last_error().contains("in a _free"));
    }
}
