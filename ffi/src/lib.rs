//! The C ABI of pseudolink: `libpseudolink.so`, `libpseudolink.a` and `include/pseudolink.h`.
//!
//! This crate only translates: every function checks its C arguments, calls the core library and
//! maps its errors to `pl_result` codes (in [`error`], in one place). The conventions follow
//! rustls-ffi and are described in `docs/c.md`:
//!
//! - opaque handles made by `_new` / `_from_*` functions and released by `_free` (NULL is a
//!   no-op); `const` handles are immutable and may be shared across threads;
//! - every function returns a `pl_result` (except `pl_version` and the `_free` functions), and
//!   writes its outputs only on success;
//! - strings are pointer plus length, validated as UTF-8; paths of the file functions are
//!   NUL-terminated UTF-8; every pointer is NULL-checked;
//! - text outputs go to caller-owned buffers; a buffer too small gives `PL_BUFFER_TOO_SMALL` and
//!   the size needed;
//! - every body is one `ffi_boundary!` invocation, the panic boundary ([`panic`]): a Rust panic
//!   becomes `PL_PANIC`, never an abort of the host process (a test fails if an exported
//!   function's body is anything else);
//! - the message of the last error on a thread is read with `pl_last_error_message`, and the
//!   warnings of the last call (those the CLI prints) with `pl_last_warning_message`.

#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(test)]
mod export_check;
mod ffi;
mod panic;

// The C types, in the order the header declares their functions (a blank line between each
// keeps rustfmt from sorting them).
pub mod error;

pub mod schema;

pub mod secret;

pub mod cancel;

pub mod encoder;

pub mod encode_file;

pub mod link;

pub mod evaluate;

pub mod index;

use std::os::raw::c_char;

pub use error::pl_result;
use panic::ffi_boundary;

/// The library version, NUL-terminated.
const VERSION_C: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The version of the library, e.g. "0.1.0": a static NUL-terminated string that must not be
/// freed.
#[no_mangle]
pub extern "C" fn pl_version() -> *const c_char {
    ffi_boundary! { VERSION_C.as_ptr().cast::<c_char>() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_core_version_nul_terminated() {
        // SAFETY: pl_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(pl_version()) };
        assert_eq!(v.to_str().unwrap(), pseudolink::VERSION);
    }
}
