//! Whole-file runs: what the CLI commands, `pl_encode_file` and `pseudolink.encode` all call.

pub mod encode;

pub use encode::{encode_file, EncodeFileOptions, Progress};
