//! Tests of the linker against the all-pairs oracle.
