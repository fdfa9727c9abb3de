#![no_main]
//! Fuzz target `encoded_reader`: see `pseudolink_tests::fuzz::encoded_reader` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::encoded_reader(data));
