# pseudolink: the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PEOPLE ?= 2000

.PHONY: demo test lint rust-test vectors bench fuzz fuzz-build clean

## Build, generate a synthetic population, encode each agency's extract, link and evaluate.
demo:
	bash scripts/demo.sh $(PEOPLE)

## Every check and test: formatting, lints, Rust unit/property/golden/end-to-end tests.
test: lint rust-test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	$(CARGO) test --workspace --locked

## Regenerate tests/vectors/encode.json (only when an encoding change is intended).
vectors:
	$(CARGO) run -q -p pseudolink-tests --bin gen-vectors

## Run every fuzz target for FUZZ_SECONDS each (default 60; see fuzz/README.md and
## docs/robustness.md). Not part of `make test`: too long. Installs cargo-fuzz into target/tools.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

## Build the fuzz targets only (cargo-fuzz with RUSTC_BOOTSTRAP=1 on the stable toolchain).
fuzz-build:
	FUZZ_BUILD_ONLY=1 bash fuzz/run.sh

## Whole-run encode benchmark on synthetic data (see docs/benchmarks.md).
bench:
	bash benches/encode_run.sh

clean:
	$(CARGO) clean
	rm -rf demo-output
