#![no_main]
//! Fuzz target `c_api`: see `pseudolink_tests::fuzz::c_api` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::c_api(data));
