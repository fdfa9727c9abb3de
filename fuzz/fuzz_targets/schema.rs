#![no_main]
//! Fuzz target `schema`: see `pseudolink_tests::fuzz::schema` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::schema(data));
