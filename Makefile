# pseudolink: the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PEOPLE ?= 2000

.PHONY: demo test lint rust-test vectors bench clean

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

## Whole-run encode benchmark on synthetic data (see docs/benchmarks.md).
bench:
	bash benches/encode_run.sh

clean:
	$(CARGO) clean
	rm -rf demo-output
