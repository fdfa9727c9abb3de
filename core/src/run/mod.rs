//! Whole-file runs: what the CLI commands, `pl_encode_file` and `pseudolink.encode` all call.
//!
//! An encoding run is a one-way pipeline (`pipeline`): a source (`source`: a CSV file or a
//! table in memory; `cell_source`: an Excel workbook or a Parquet file) read in chunks of rows (`rows`); the checks (`check`, with the duplicate
//! record id check of `ids`, which may sort on disk with `spill`); the encoder (`encoder`);
//! a sink (`sink`: files, or memory). `options` holds its one options struct and `control`
//! the cancel flag, progress callback and timings every stage is handed. `write` writes an
//! extract held in memory as a run to a file would have. No module here uses one that uses it
//! (see the test `run_modules_form_no_cycle`).

mod cell_source;
mod check;
mod encoder;
mod ids;
pub(crate) mod link;
mod link_summary;
mod options;
mod pipeline;
mod rows;
mod sink;
mod source;
mod spill;
mod write;

pub use crate::control::{Progress, RunControl, Timings};
pub use ids::{id_memory_from_mib, DEFAULT_ID_MEMORY, MAX_ID_MEMORY_MIB};
pub use link::{link, LinkInput, LinkRun, Linked};
pub use link_summary::{
    summary_path, BandCounts, BlockingSummary, InputSummary, Outputs, RunSummary, Thresholds,
    MAX_LISTED_SKIPPED_BLOCKS, SUMMARY_FORMAT, SUMMARY_FORMAT_VERSION,
};
pub use options::{EncodeOptions, Rejects};
pub use pipeline::{encode_csv, encode_file, encode_table, encode_table_file};
pub use sink::{Encoded, RejectedRow, REJECTS_HEADER};
pub use source::TextColumns;
pub use write::{encoded_fingerprint, write_encoded};

#[cfg(test)]
mod tests;
