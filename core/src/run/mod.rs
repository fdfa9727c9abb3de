//! Whole-file runs: what the CLI commands, `pl_encode_file` and `pseudolink.encode` all call.

pub mod encode;
mod ids;
pub mod link;
pub mod link_summary;
mod rows;
mod spill;
pub mod table;
pub mod write;

pub use encode::{encode_csv, encode_file, EncodeFileOptions, EncodeOptions, Progress};
pub use ids::{id_memory_from_mib, DEFAULT_ID_MEMORY, MAX_ID_MEMORY_MIB};
pub use link::{
    build_summary, link_files, write_links_with_summary, LinkFileOptions, SummaryParts,
};
pub use link_summary::{summary_path, InputSummary, RunSummary};
pub use rows::{Encoded, RejectedRow, REJECTS_HEADER};
pub use table::{encode_table, encode_table_file, TextColumns};
pub use write::{encoded_fingerprint, write_encoded, WriteOptions};

#[cfg(test)]
mod tests;
