# pseudolink: the two quick-start commands are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PEOPLE ?= 2000
PYTHON ?= python3
# Where cargo puts its builds (honours CARGO_TARGET_DIR).
TARGET_DIR = $(shell $(CARGO) metadata --format-version 1 --no-deps | $(PYTHON) -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
PY_VENV ?= $(TARGET_DIR)/py-venv
# The test wheel is a dev build (it shares cargo test's compiled dependencies); benches use release.
PY_PROFILE ?= dev
PY_WHEELS = $(TARGET_DIR)/wheels-$(PY_PROFILE)

.PHONY: demo test lint rust-test python-test python-bench vectors bench clean

## Build, generate a synthetic population, encode each agency's extract, link and evaluate.
demo:
	bash scripts/demo.sh $(PEOPLE)

## Every check and test: formatting, lints, Rust unit/property/golden/end-to-end tests, and the
## Python wheel's tests.
test: lint rust-test python-test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	$(CARGO) test --workspace --locked

## Build the Python wheel into a fresh virtual environment, install it with pandas, pyarrow and
## polars, and run ruff, mypy (stubs and package), stubtest and pytest (which also runs the CLI).
python-test:
	$(PYTHON) -m venv --clear $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q --upgrade pip
	$(PY_VENV)/bin/python -m pip install -q -r python/requirements-test.txt
	$(CARGO) build -p pseudolink-cli --locked
	rm -rf $(PY_WHEELS)
	$(PY_VENV)/bin/maturin build -q --locked --profile $(PY_PROFILE) -m python/Cargo.toml -o $(PY_WHEELS)
	$(PY_VENV)/bin/python -m pip install -q --no-deps $(PY_WHEELS)/pseudolink-*.whl
	$(PY_VENV)/bin/ruff check --config python/pyproject.toml python benches/python_encode.py
	$(PY_VENV)/bin/ruff format --check --config python/pyproject.toml python benches/python_encode.py
	cd $(TARGET_DIR) && MYPY_CACHE_DIR=$(TARGET_DIR)/mypy-cache $(PY_VENV)/bin/python -m mypy.stubtest pseudolink._native
	MYPY_CACHE_DIR=$(TARGET_DIR)/mypy-cache $(PY_VENV)/bin/python -m mypy --config-file python/pyproject.toml python/pseudolink python/tests/typing_check.py
	PSEUDOLINK_REQUIRE_CLI=1 PSEUDOLINK_REQUIRE_EXTRAS=1 PSEUDOLINK_CLI=$(TARGET_DIR)/debug/pseudolink \
		$(PY_VENV)/bin/python -m pytest -p no:cacheprovider python/tests

## Python encode benchmark against the CLI (release builds; see docs/benchmarks.md).
python-bench:
	$(PYTHON) -m venv $(PY_VENV)-bench
	$(PY_VENV)-bench/bin/python -m pip install -q -r python/requirements-test.txt
	$(CARGO) build --release -p pseudolink-cli --locked
	rm -rf $(TARGET_DIR)/wheels-release
	$(PY_VENV)-bench/bin/maturin build -q --locked --release -m python/Cargo.toml -o $(TARGET_DIR)/wheels-release
	$(PY_VENV)-bench/bin/python -m pip install -q --force-reinstall --no-deps $(TARGET_DIR)/wheels-release/pseudolink-*.whl
	$(PY_VENV)-bench/bin/python benches/python_encode.py --cli $(TARGET_DIR)/release/pseudolink

## Regenerate tests/vectors/encode.json (only when an encoding change is intended).
vectors:
	$(CARGO) run -q -p pseudolink-tests --bin gen-vectors

## Whole-run encode benchmark on synthetic data (see docs/benchmarks.md).
bench:
	bash benches/encode_run.sh

clean:
	$(CARGO) clean
	rm -rf demo-output
