#![no_main]
//! Fuzz target `norm_nhs`: see `pseudolink_tests::fuzz::norm_nhs` for what it checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pseudolink_tests::fuzz::norm_nhs(data));
