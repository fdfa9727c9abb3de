//! Encoding: normalised values become keyed tokens and Bloom filters.
//!
//! See [`Encoder`] for the entry point and `docs/formats.md` for the file layout.

pub mod bloom;
mod gram_table;
pub mod layout;
pub mod levels;
pub mod message;
pub mod pair_stats;
pub mod record;
pub mod sample_parts;
pub mod token;
pub mod value;

#[cfg(test)]
mod tests;

pub use bloom::Bloom;
pub use layout::Layout;
pub use record::{EncodedRecord, Encoder, Scratch};
pub use token::Token;
pub use value::{FieldNormaliser, Value};
