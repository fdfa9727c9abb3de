//! Whole-file runs: what the CLI commands, `pl_encode_file` and `pseudolink.encode` all call.

pub mod encode;
pub mod link;
pub mod link_summary;
mod rows;
pub mod table;
pub mod write;

pub use encode::{encode_csv, encode_file, EncodeFileOptions, EncodeOptions, Progress};
pub use link::{link_files, LinkFileOptions};
pub use link_summary::{summary_path, RunSummary};
pub use rows::{Encoded, RejectedRow, REJECTS_HEADER};
pub use table::{encode_table, TextColumns};
pub use write::{write_encoded, WriteOptions};

#[cfg(test)]
mod tests;
