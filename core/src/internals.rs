//! Not part of the API: the internals that the workspace's own test, fuzz, benchmark and binding
//! crates reach into (normalisers fuzzed one by one, the Dice kernels benchmarked, the column
//! layout the Python binding converts to Arrow, the in-memory linking engine the fuzz target
//! drives). Hidden from the documentation; anything here may change in any release. A library
//! user needs none of it: see the crate root.

/// The normalisers, one module per kind of field.
pub mod normalise {
    pub use crate::normalise::{date, name, nhs, nickname, postcode, sex, text, MissingReason};
}

/// One record's encoding: values, tokens, Bloom filters, the column layout, pair statistics.
pub mod encode {
    pub use crate::encode::{
        bloom, layout, levels, message, pair_stats, sample_parts, Bloom, EncodedRecord, Encoder,
        FieldNormaliser, Layout, Scratch, Token, Value,
    };
}

pub use crate::link::dice;
pub use crate::link::{check_comparisons, link_pool, Pool};
