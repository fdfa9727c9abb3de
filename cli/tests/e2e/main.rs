//! End-to-end tests of the `pseudolink` binary (one test binary, several modules).

mod audit;
mod audit_trail;
mod bad_inputs;
mod common;
mod encode;
mod formats;
mod index;
mod keys;
mod limits;
mod link;
mod parquet;
mod report;
mod secrets;
