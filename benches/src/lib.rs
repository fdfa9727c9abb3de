//! Benchmarks of pseudolink live in `benches/` (criterion) and in the `*.sh` scripts beside this
//! crate; see `docs/benchmarks.md` for the numbers and the commands that reproduce them.
