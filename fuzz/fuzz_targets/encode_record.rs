#![no_main]
//! Fuzz target `encode_record`: see `pseudolink_tests::fuzz::encode_record` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::encode_record(data));
