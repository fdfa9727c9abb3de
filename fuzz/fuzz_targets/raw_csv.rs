#![no_main]
//! Fuzz target `raw_csv`: see `pseudolink_tests::fuzz::raw_csv` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::raw_csv(data));
