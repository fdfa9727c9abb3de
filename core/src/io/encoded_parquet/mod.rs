//! Encoded extracts as Parquet files, for very large runs and for engines that read columns
//! (Spark, DuckDB, polars, pandas through pyarrow): the columns of the CSV extract
//! ([`Layout`]), in its order and under its names, written and read with the `parquet` crate's
//! column API (no Arrow).
//!
//! - `record_id`: a UTF-8 string (`BYTE_ARRAY`, logical type `STRING`), required;
//! - a token column: `FIXED_LEN_BYTE_ARRAY(16)`, the token's bytes (their lower-case hex is the
//!   CSV cell);
//! - a token-set column: `BYTE_ARRAY`, the set's 64-bit elements in ascending order, 8
//!   little-endian bytes each (their hex is the CSV cell);
//! - a filter column: `FIXED_LEN_BYTE_ARRAY(bits / 8)`, the filter's little-endian bytes (their
//!   base64 is the CSV cell);
//! - a missing value is a null, exactly where the CSV extract has an empty cell.
//!
//! Every column but `record_id` is optional. The file is uncompressed (tokens and filters are
//! random bits that no codec shrinks: see docs/benchmarks.md), without dictionaries or
//! statistics, in row groups of [`ROW_GROUP_ROWS`] rows, so that writing holds one row group in
//! memory whatever the size of the extract. The bytes depend only on the records and their
//! order, never on the number of threads.
//!
//! Reading (`read`) accepts what other writers make of such a file (Spark writes binary
//! columns as `BYTE_ARRAY`, and may make `record_id` optional): any top-level column of
//! `BYTE_ARRAY` or `FIXED_LEN_BYTE_ARRAY`, each value checked for its length, a row numbered as
//! its line in the CSV extract (the first row is line 2).

mod read;
#[cfg(test)]
mod tests;
mod write;

pub(crate) use read::read_records;
pub(crate) use write::write_chunks;

use crate::encode::layout::{Layout, Slot, RECORD_ID_COLUMN};

/// Rows per row group of a written extract: about 29 MB of the default schema's columns
/// (441 bytes a record, docs/benchmarks.md).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The Parquet form of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// `record_id`: UTF-8 text.
    Text,
    /// A token: 16 bytes.
    Token,
    /// A token set: 8 bytes per element.
    Set,
    /// A filter of this many bytes.
    Bloom(usize),
}

impl Cell {
    /// The form of the values of `slot`.
    fn of(slot: Slot) -> Cell {
        match slot {
            Slot::Token(_) => Cell::Token,
            Slot::Set(_) => Cell::Set,
            Slot::Bloom { bits, .. } => Cell::Bloom(bits as usize / 8),
        }
    }

    /// The fixed length of its values, if they have one.
    fn fixed(self) -> Option<usize> {
        match self {
            Cell::Token => Some(16),
            Cell::Bloom(n) => Some(n),
            Cell::Text | Cell::Set => None,
        }
    }
}

/// Every column of `layout`, `record_id` first, with the form of its values.
fn cells(layout: &Layout) -> Vec<(&str, Cell)> {
    std::iter::once((RECORD_ID_COLUMN, Cell::Text))
        .chain(
            layout
                .columns
                .iter()
                .map(|c| (c.name.as_str(), Cell::of(c.slot))),
        )
        .collect()
}
