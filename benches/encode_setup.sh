# Sourced by the encoding benchmarks (encode_run.sh, encode_memory.sh, encode_peers.sh) from the
# repository root: builds the release CLI and prepares in DIR (BENCH_DIR, default
# target/bench-data) the synthetic population of PEOPLE people (default 1,000,000, seed 11), the
# benchmark secret and the default schema. Sets DIR and PL (the CLI); honours CARGO_TARGET_DIR.
DIR="${BENCH_DIR:-target/bench-data}"
PEOPLE="${PEOPLE:-1000000}"
cargo build --release --locked -q -p pseudolink-cli
PL="${CARGO_TARGET_DIR:-target}/release/pseudolink"
mkdir -p "$DIR"
if [ ! -f "$DIR/p$PEOPLE/agency_a.csv" ]; then
  "$PL" synth --people "$PEOPLE" --seed 11 --out "$DIR/p$PEOPLE" >/dev/null
fi
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema.json"
