//! # pseudolink
//!
//! Privacy-preserving record linkage of person records, for partnerships of agencies that may
//! share only pseudonymised data.
//!
//! Each agency normalises its extract and **encodes** it with a secret agreed under the
//! Information Sharing Agreement: keyed-hash tokens for exact identifiers, Bloom filters of
//! q-grams for fuzzy ones. Only encodings leave the agency. A linkage unit then links the encoded
//! extracts without ever seeing a name.
//!
//! ```
//! use pseudolink::{Encoder, Schema, Secret};
//!
//! let schema = Schema::example();                 // UK person records
//! let secret = Secret::generate().unwrap();       // in practice: Secret::from_file(...)
//! let encoder = Encoder::new(&schema, &secret);
//! let mut scratch = encoder.scratch();
//! let row = ["A1", "Zoë", "", "Smith-Jones", "9/3/14", "F", "CV1 2AB", "1 High St", ""];
//! let (record, _missing) = encoder.encode_values(&row, &mut scratch).unwrap();
//! let mut csv = Vec::new();
//! record.write_csv_row(encoder.layout(), &mut csv);
//! assert!(String::from_utf8(csv).unwrap().starts_with("A1,"));
//! ```
//!
//! The public API is what a user of the library needs, in the order data flows: the
//! [`schema`], the [`secret`], the [`Encoder`] (one record at a time) and the whole-file and
//! table runs of [`run`] (encoding, and the one linking entry point [`run::link`], told and
//! cancelled through a [`control::RunControl`]), reading encoded extracts and their manifests
//! ([`io`]), the results of linking, the trained model and evaluation against known pairs
//! ([`link`]), the person index ([`index`]), the run report and review pack ([`report`]) and the red
//! team ([`audit`]). Normalisation, the
//! encoding internals, raw CSV reading and the link stages are private to the crate;
//! `docs/design.md` lists every module and what it owns.

// No unsafe code, except in two places allowed to: `link::dice`'s x86 kernels (calling code
// compiled for CPU features the CPU was checked to have) and `io::atomic`'s one system call
// (`sync_file_range`, which takes no pointer). `deny` rather than `forbid` so that those can say
// `allow`; every other use is a compile error.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod control;
pub(crate) mod encode;
pub mod error;
pub mod index;
#[doc(hidden)]
pub mod internals;
pub mod io;
pub mod link;
#[cfg(test)]
mod module_graph;
pub(crate) mod normalise;
pub mod report;
pub mod run;
pub mod schema;
pub mod secret;
pub(crate) mod timestamp;

pub use encode::{EncodedRecord, Encoder, Layout, Scratch};
pub use error::{Error, Location, Result};
pub use normalise::date::Date;
pub use normalise::MissingReason;
pub use schema::Schema;
pub use secret::Secret;

/// Version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
