#![no_main]
//! Fuzz target `norm_name`: see `pseudolink_tests::fuzz::norm_name` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::norm_name(data));
