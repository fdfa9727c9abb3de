#![no_main]
//! Fuzz target `link`: see `pseudolink_tests::fuzz::link` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::link(data));
