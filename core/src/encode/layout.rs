//! The columns of an encoded extract, derived from the schema.
//!
//! In order: `record_id`; then one column per token spec of the schema, in schema order, named
//! by its keys joined with `+` (`first_name+date_of_birth`); then one column per filter
//! (`<name>.bloom`). A token is 32 hex characters; a **token set** (a spec with a set transform,
//! such as `first_name.deletions+date_of_birth`) is its distinct 64-bit values in ascending
//! order, 16 hex characters each, written one after another; a filter is base64. An empty cell
//! means the value was missing.

use crate::schema::{Key, Schema};

/// Where a column's value lives in an [`EncodedRecord`](super::EncodedRecord).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Index into `tokens`.
    Token(usize),
    /// Index into `sets`.
    Set(usize),
    /// Index into `blooms`, with the filter length in bits.
    Bloom {
        /// Index into `blooms`.
        index: usize,
        /// Filter length in bits.
        bits: u32,
    },
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name in the header.
    pub name: String,
    /// Where its value lives.
    pub slot: Slot,
}

/// One token column, as the encoder builds it and the linker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenColumn {
    /// Its keys, in the canonical order they are hashed in.
    pub keys: Vec<Key>,
    /// The hash signature ([`Schema::signature`]): columns of equal signature can be compared
    /// with each other.
    pub signature: String,
    /// Where it lives: [`Slot::Token`] or [`Slot::Set`].
    pub slot: Slot,
}

/// Column layout of the encoded extract for one schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Columns after `record_id`, in file order.
    pub columns: Vec<Column>,
    /// One per token spec of the schema, in schema order.
    pub tokens: Vec<TokenColumn>,
    /// Bloom slot of each filter spec of the schema, in schema order.
    pub filters: Vec<usize>,
    /// Number of single-token slots.
    pub n_tokens: usize,
    /// Number of token-set slots.
    pub n_sets: usize,
    /// Number of Bloom slots.
    pub n_blooms: usize,
}

/// Name of the first column of every encoded extract.
pub const RECORD_ID_COLUMN: &str = "record_id";

impl Layout {
    /// The layout for `schema`.
    pub fn new(schema: &Schema) -> Layout {
        let mut columns = Vec::new();
        let mut tokens = Vec::new();
        let (mut nt, mut ns, mut nb) = (0usize, 0usize, 0usize);
        for (i, spec) in schema.tokens.iter().enumerate() {
            let keys = schema.token_keys(i);
            let slot = if keys.iter().any(|k| k.is_set()) {
                ns += 1;
                Slot::Set(ns - 1)
            } else {
                nt += 1;
                Slot::Token(nt - 1)
            };
            columns.push(Column {
                name: spec.name(),
                slot,
            });
            tokens.push(TokenColumn {
                signature: schema.signature(&keys),
                keys,
                slot,
            });
        }
        let mut filters = Vec::new();
        for f in &schema.filters {
            columns.push(Column {
                name: f.column(),
                slot: Slot::Bloom {
                    index: nb,
                    bits: f.output_bits(),
                },
            });
            filters.push(nb);
            nb += 1;
        }
        Layout {
            columns,
            tokens,
            filters,
            n_tokens: nt,
            n_sets: ns,
            n_blooms: nb,
        }
    }

    /// The header line's names, `record_id` first.
    pub fn header(&self) -> Vec<&str> {
        std::iter::once(RECORD_ID_COLUMN)
            .chain(self.columns.iter().map(|c| c.name.as_str()))
            .collect()
    }
}
