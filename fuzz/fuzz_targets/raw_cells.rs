#![no_main]
//! Fuzz target `raw_cells`: see `pseudolink_tests::fuzz::raw_cells` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::raw_cells(data));
