//! Whole-file runs: what the CLI commands, `pl_encode_file` and `pseudolink.encode` all call.

pub mod encode;
pub mod link;
pub mod link_summary;

pub use encode::{encode_file, EncodeFileOptions, Progress};
pub use link::{link_files, LinkFileOptions};
pub use link_summary::{summary_path, RunSummary};
