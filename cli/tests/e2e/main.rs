//! End-to-end tests of the `pseudolink` binary (one test binary, several modules).

mod common;
mod encode;
mod keys;
mod link;
mod secrets;
