#![no_main]
//! Fuzz target `dice`: see `pseudolink_tests::fuzz::dice` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::dice(data));
