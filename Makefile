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

# Where the C tests and tools go.
C_BUILD := $(TARGET_DIR)/c-test
C_STAGE := $(abspath $(C_BUILD)/stage)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# The header generator, pinned and installed locally (not from the machine's PATH).
CBINDGEN_VERSION := 0.29.4
CBINDGEN_ROOT := $(TARGET_DIR)/tools/cbindgen-$(CBINDGEN_VERSION)
CBINDGEN := $(CBINDGEN_ROOT)/bin/cbindgen
CC ?= cc
CXX ?= g++
C_STRICT := -std=c11 -Wall -Wextra -Wpedantic -Werror
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
C_LINK := $(C_BUILD)/link
PL_CLI := $(TARGET_DIR)/debug/pseudolink
C_TEST_ARGS = tests/vectors/encode.json $(VERSION) $(C_LINK)
SECRET_SCAN_ARGS = $(C_LINK)/synth/agency_a.csv $(C_LINK)/synth/agency_b.csv
STAGE_PKG := PKG_CONFIG_PATH=$(C_STAGE)/lib/pkgconfig pkg-config
PREFIX ?= /usr/local
BENCH_RECORDS ?= 200000
BENCH_ROUNDS ?= 5

.PHONY: demo test report-test lint rust-test c-test c-fixtures header header-check c-lib c-install bench-c python-test spark35-test python-bench vectors bench bench-peers fuzz fuzz-build clean

## Build, generate a synthetic population, encode each agency's extract, link and evaluate.
demo:
	bash scripts/demo.sh $(PEOPLE)

## Every check and test: formatting, lints, Rust unit/property/golden/end-to-end tests, the C
## API and the Python wheel's tests.
test: lint rust-test c-test python-test spark35-test report-test

lint:
	$(CARGO) fmt --all -- --check
	$(PYTHON) fuzz/make_seeds.py --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked -q

rust-test:
	$(CARGO) test --workspace --locked

## The run report (docs/report.md) opened in headless Chromium (the Debian package `chromium`,
## which .ci/run installs): every chart drawn with a size, no console error, nothing blocked.
report-test:
	$(CARGO) build -p pseudolink-cli --locked
	PL=$(PL_CLI) OUT=$(TARGET_DIR)/report-test bash scripts/report_check.sh

## C API: header up to date; C test and secret scan under valgrind and under ASan+UBSan; the
## bad-input corpus (tests/bad_inputs) under ASan+UBSan; C++ compile of the header; a warning at
## each use of a deprecated function; the examples built (one against the shared and the static
## library) and run, the file encode compared with the CLI's output.
c-test: header-check c-lib c-fixtures
	rm -rf $(C_STAGE) && $(MAKE) --no-print-directory c-install-to LIB_DIR=$(TARGET_DIR)/debug DEST=$(C_STAGE) PC_PREFIX=$(C_STAGE)
	@readelf -d $(C_STAGE)/lib/libpseudolink.so | grep -q 'SONAME.*\[$(SONAME)\]' || \
		{ echo "libpseudolink.so: expected SONAME $(SONAME)" >&2; exit 1; }
	$(CC) $(C_STRICT) -g -pthread $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/test_pseudolink.c \
		-o $(C_BUILD)/test_pseudolink $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	$(VALGRIND) $(C_BUILD)/test_pseudolink $(C_TEST_ARGS)
	$(CC) $(C_STRICT) -g -pthread -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/test_pseudolink.c \
		-o $(C_BUILD)/test_pseudolink_asan $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	ASAN_OPTIONS=detect_leaks=1 $(C_BUILD)/test_pseudolink_asan $(C_TEST_ARGS)
	$(CC) $(C_STRICT) -g $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/test_index.c \
		-o $(C_BUILD)/test_index $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	$(VALGRIND) $(C_BUILD)/test_index $(C_LINK)
	$(CC) $(C_STRICT) -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/test_index.c \
		-o $(C_BUILD)/test_index_asan $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	ASAN_OPTIONS=detect_leaks=1 $(C_BUILD)/test_index_asan $(C_LINK)
	$(CC) $(C_STRICT) -g $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/test_formats.c \
		-o $(C_BUILD)/test_formats $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	rm -rf $(C_BUILD)/formats && mkdir -p $(C_BUILD)/formats
	$(VALGRIND) $(C_BUILD)/test_formats tests/formats $(C_BUILD)/formats
	$(CC) $(C_STRICT) -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/test_formats.c \
		-o $(C_BUILD)/test_formats_asan $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	rm -rf $(C_BUILD)/formats && mkdir -p $(C_BUILD)/formats
	ASAN_OPTIONS=detect_leaks=1 $(C_BUILD)/test_formats_asan tests/formats $(C_BUILD)/formats
	$(CC) $(C_STRICT) -g -pthread -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/bad_inputs.c \
		-o $(C_BUILD)/bad_inputs_asan $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	ASAN_OPTIONS=detect_leaks=1 $(C_BUILD)/bad_inputs_asan tests/bad_inputs $(C_BUILD)/bad-inputs
	$(CC) $(C_STRICT) -g $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/secret_scan.c \
		-o $(C_BUILD)/secret_scan $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	$(VALGRIND) $(C_BUILD)/secret_scan $(SECRET_SCAN_ARGS)
	$(CC) $(C_STRICT) -g -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer $$($(STAGE_PKG) --cflags pseudolink) ffi/tests/secret_scan.c \
		-o $(C_BUILD)/secret_scan_asan $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	ASAN_OPTIONS=detect_leaks=1 $(C_BUILD)/secret_scan_asan $(SECRET_SCAN_ARGS)
	$(CXX) -fsyntax-only -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror \
		$$($(STAGE_PKG) --cflags pseudolink) ffi/tests/cxx_header.cc
	LC_ALL=C $(CC) -std=c11 -fsyntax-only -Wdeprecated-declarations $$($(STAGE_PKG) --cflags pseudolink) \
		ffi/tests/deprecated.c 2> $(C_BUILD)/deprecated.log
	@test "$$(grep -c "is deprecated" $(C_BUILD)/deprecated.log)" = "$$(grep -c "^PL_DEPRECATED(" ffi/include/pseudolink.h)" || \
		{ cat $(C_BUILD)/deprecated.log; echo "ffi/tests/deprecated.c: expected one deprecation warning per PL_DEPRECATED function" >&2; exit 1; }
	$(CC) $(C_STRICT) $$($(STAGE_PKG) --cflags pseudolink) ffi/examples/encode_on_create.c \
		-o $(C_BUILD)/encode_on_create $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	$(CC) $(C_STRICT) -static-libgcc $$($(STAGE_PKG) --cflags pseudolink) ffi/examples/encode_on_create.c \
		-o $(C_BUILD)/encode_on_create_static $(C_STAGE)/lib/libpseudolink.a \
		$$($(STAGE_PKG) --static --libs-only-l pseudolink | sed 's/-lpseudolink//')
	$(VALGRIND) $(C_BUILD)/encode_on_create $(C_LINK)/secret.hex
	$(C_BUILD)/encode_on_create_static $(C_LINK)/secret.hex >/dev/null
	$(CC) $(C_STRICT) $$($(STAGE_PKG) --cflags pseudolink) ffi/examples/encode_extract.c \
		-o $(C_BUILD)/encode_extract $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	$(VALGRIND) $(C_BUILD)/encode_extract $(C_LINK)/schema.json $(C_LINK)/secret.hex \
		$(C_LINK)/synth/agency_a.csv $(C_BUILD)/extract_a.csv $(C_BUILD)/extract_a.rejects.csv
	cmp $(C_BUILD)/extract_a.csv $(C_LINK)/a.csv
	awk '/^## A complete example/ { found = 1 } found && /^```c$$/ { inside = 1; next } /^```$$/ { if (inside) exit } inside' docs/c.md > $(C_BUILD)/doc_example.c
	$(CC) $(C_STRICT) $$($(STAGE_PKG) --cflags pseudolink) $(C_BUILD)/doc_example.c \
		-o $(C_BUILD)/doc_example $$($(STAGE_PKG) --libs pseudolink) -Wl,-rpath,$(C_STAGE)/lib
	$(C_BUILD)/doc_example $(C_LINK)/schema.json $(C_LINK)/secret.hex >/dev/null
	@echo "C API: header, C test, index test, formats corpus and secret scan (valgrind, ASan+UBSan), bad-input corpus (ASan+UBSan), C++ header compile, deprecation warnings, examples (shared, static, file encode, docs/c.md): ok"

# Inputs of the C test's link checks, made with the CLI: two small synthetic agency extracts
# encoded under a new secret, and the links file `pseudolink link` writes for them.
c-fixtures:
	$(CARGO) build -q --locked -p pseudolink-cli
	rm -rf $(C_LINK) && mkdir -p $(C_LINK)
	$(PL_CLI) synth --people 300 --seed 5 --out $(C_LINK)/synth >/dev/null
	$(PL_CLI) schema example > $(C_LINK)/schema.json
	$(PL_CLI) keygen --output $(C_LINK)/secret.hex >/dev/null
	for a in a b; do $(PL_CLI) encode --schema $(C_LINK)/schema.json --secret-file $(C_LINK)/secret.hex \
		--input $(C_LINK)/synth/agency_$$a.csv --output $(C_LINK)/$$a.csv --rejects $(C_LINK)/$$a.rejects.csv \
		>/dev/null || exit 1; done
	$(PL_CLI) link --schema $(C_LINK)/schema.json --left $(C_LINK)/a.csv --right $(C_LINK)/b.csv \
		--output $(C_LINK)/cli_links.csv --threshold 0.9 --save-model $(C_LINK)/model.json >/dev/null
	$(PL_CLI) link --schema $(C_LINK)/schema.json --left $(C_LINK)/a.csv --right $(C_LINK)/b.csv \
		--output $(C_LINK)/cli_model_links.csv --threshold 0.3 --review-threshold 0.3 \
		--model $(C_LINK)/model.json >/dev/null
	$(PL_CLI) evaluate --links $(C_LINK)/cli_links.csv --truth $(C_LINK)/synth/truth.csv \
		> $(C_LINK)/cli_evaluation.json
	$(PL_CLI) index create --schema $(C_LINK)/schema.json --input $(C_LINK)/a.csv --input $(C_LINK)/b.csv \
		--source a --source b --output $(C_LINK)/index >/dev/null
	head -n 2 $(C_LINK)/synth/agency_b.csv > $(C_LINK)/one.csv
	$(PL_CLI) encode --schema $(C_LINK)/schema.json --secret-file $(C_LINK)/secret.hex \
		--input $(C_LINK)/one.csv --output $(C_LINK)/one.enc.csv >/dev/null
	cp -r $(C_LINK)/index $(C_LINK)/index_copy
	$(PL_CLI) index add --index $(C_LINK)/index_copy --input $(C_LINK)/one.enc.csv --source b2 \
		--output $(C_LINK)/one.assigned.csv >/dev/null

## Regenerate ffi/include/pseudolink.h after changing the C API (then commit it).
header: $(CBINDGEN)
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate pseudolink-ffi --output ffi/include/pseudolink.h ffi

## Fails if the committed header differs from a freshly generated one.
header-check: $(CBINDGEN)
	@mkdir -p $(C_BUILD)
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate pseudolink-ffi --output $(C_BUILD)/pseudolink.h ffi
	@diff -u ffi/include/pseudolink.h $(C_BUILD)/pseudolink.h || \
		{ echo "ffi/include/pseudolink.h is out of date: run 'make header' and commit it" >&2; exit 1; }

$(CBINDGEN):
	$(CARGO) install cbindgen --version $(CBINDGEN_VERSION) --locked --quiet \
		--root $(CBINDGEN_ROOT) --target-dir $(TARGET_DIR)/tools/build

c-lib:
	$(CARGO) build -q --locked -p pseudolink-ffi

## Install libpseudolink (release), pseudolink.h and pseudolink.pc under PREFIX (and DESTDIR).
c-install:
	$(CARGO) build -q --release --locked -p pseudolink-ffi
	$(MAKE) --no-print-directory c-install-to LIB_DIR=$(TARGET_DIR)/release DEST=$(DESTDIR)$(PREFIX) PC_PREFIX=$(PREFIX)

# Cargo builds the C library as libpseudolink_ffi.{so,a} (the Rust crate is `pseudolink_ffi`, so
# that its rlib does not collide with the core's libpseudolink.rlib); it is installed as
# libpseudolink.{so,a}, the name pseudolink.pc and every C caller use (as rustls-ffi installs
# librustls_ffi as librustls). The shared library's SONAME (set by ffi/build.rs) is
# libpseudolink.so.0.MINOR while the version is 0.x: the file is libpseudolink.so.VERSION, with
# that name and libpseudolink.so linked to it.
SONAME := $(shell echo $(VERSION) | awk -F. '{ print ($$1 == 0) ? "libpseudolink.so.0." $$2 : "libpseudolink.so." $$1 }')
c-install-to:
	install -d $(DEST)/include $(DEST)/lib/pkgconfig
	install -m 644 ffi/include/pseudolink.h $(DEST)/include/
	install -m 755 $(LIB_DIR)/libpseudolink_ffi.so $(DEST)/lib/libpseudolink.so.$(VERSION)
	ln -sf libpseudolink.so.$(VERSION) $(DEST)/lib/$(SONAME)
	ln -sf $(SONAME) $(DEST)/lib/libpseudolink.so
	install -m 644 $(LIB_DIR)/libpseudolink_ffi.a $(DEST)/lib/libpseudolink.a
	sed -e 's|@PREFIX@|$(PC_PREFIX)|' -e 's|@VERSION@|$(VERSION)|' ffi/pseudolink.pc.in > $(DEST)/lib/pkgconfig/pseudolink.pc

## pl_encode_record in a loop on one thread (release build): records per second.
bench-c:
	$(CARGO) build -q --release --locked -p pseudolink-ffi
	@mkdir -p $(C_BUILD)
	rm -rf $(C_BUILD)/bench-stage && $(MAKE) --no-print-directory c-install-to LIB_DIR=$(TARGET_DIR)/release \
		DEST=$(abspath $(C_BUILD)/bench-stage) PC_PREFIX=$(abspath $(C_BUILD)/bench-stage)
	$(CC) -O2 $(C_STRICT) -Iffi/include benches/c_encode_record.c -o $(C_BUILD)/c_encode_record \
		-L$(C_BUILD)/bench-stage/lib -lpseudolink -Wl,-rpath,$(abspath $(C_BUILD)/bench-stage/lib)
	$(C_BUILD)/c_encode_record $(BENCH_RECORDS) $(BENCH_ROUNDS)
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
	$(PY_VENV)/bin/ruff check --config python/pyproject.toml python benches/python_encode.py benches/quality benches/frontier_variants.py benches/frontier_chart.py scripts/report_browser_check.py
	$(PY_VENV)/bin/ruff format --check --config python/pyproject.toml python benches/python_encode.py benches/quality benches/frontier_variants.py benches/frontier_chart.py scripts/report_browser_check.py
	cd $(TARGET_DIR) && MYPY_CACHE_DIR=$(TARGET_DIR)/mypy-cache $(PY_VENV)/bin/python -m mypy.stubtest pseudolink._native
	MYPY_CACHE_DIR=$(TARGET_DIR)/mypy-cache $(PY_VENV)/bin/python -m mypy --config-file python/pyproject.toml python/pseudolink python/tests/typing_check.py
	PSEUDOLINK_REQUIRE_CLI=1 PSEUDOLINK_REQUIRE_EXTRAS=1 PSEUDOLINK_CLI=$(TARGET_DIR)/debug/pseudolink \
		$(PY_VENV)/bin/python -m pytest -p no:cacheprovider python/tests

## The pseudolink.spark tests again on Spark 3.5 (Databricks and Fabric runtimes still run it;
## it has no applyInArrow), in a virtual environment of their own, with the wheel python-test
## built.
spark35-test:
	$(PYTHON) -m venv --clear $(PY_VENV)-spark35
	$(PY_VENV)-spark35/bin/python -m pip install -q --upgrade pip
	$(PY_VENV)-spark35/bin/python -m pip install -q -r python/requirements-spark35.txt
	$(PY_VENV)-spark35/bin/python -m pip install -q --no-deps $(PY_WHEELS)/pseudolink-*.whl
	PSEUDOLINK_REQUIRE_CLI=1 PSEUDOLINK_CLI=$(TARGET_DIR)/debug/pseudolink \
		$(PY_VENV)-spark35/bin/python -m pytest -p no:cacheprovider python/tests/test_spark.py

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

## Run every fuzz target for FUZZ_SECONDS each (default 60; see fuzz/README.md and
## docs/robustness.md). Not part of `make test`: too long. Installs cargo-fuzz into target/tools.
FUZZ_SECONDS ?= 60
# Where cargo-fuzz is installed and the fuzz builds go; both can be set in the environment.
TOOLS_ROOT ?= $(abspath $(TARGET_DIR))/tools
FUZZ_TARGET_DIR ?= $(abspath $(TARGET_DIR))/fuzz
FUZZ_ENV = TOOLS_ROOT=$(TOOLS_ROOT) FUZZ_TARGET_DIR=$(FUZZ_TARGET_DIR)
fuzz:
	$(FUZZ_ENV) FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

## Build the fuzz targets only (cargo-fuzz with RUSTC_BOOTSTRAP=1 on the stable toolchain).
fuzz-build:
	$(FUZZ_ENV) FUZZ_BUILD_ONLY=1 bash fuzz/run.sh

## Whole-run encode benchmark on synthetic data (see docs/benchmarks.md).
bench:
	bash benches/encode_run.sh

## Encoding speed of pseudolink and of the peer clkhash on the same rows, in one run (installs the
## peers into target/bench-venv; see docs/benchmarks.md).
bench-peers:
	bash benches/encode_peers.sh

clean:
	$(CARGO) clean
	rm -rf demo-output
