#!/usr/bin/env bash
# Parquet against CSV encoded extracts: size, and the time `pseudolink link` spends reading them.
# Usage: bash benches/parquet_extracts.sh [PEOPLE] [ROUNDS]
#   PEOPLE 1000000 (default; seed 42) gives about 720,000 records in agency_a and 700,000 in
#   agency_b; both are encoded with the default schema to CSV and to Parquet, then linked ROUNDS
#   times (default 2) each way, alternating, and the links compared byte for byte. Prints the
#   files' sizes, the link runs' "reading" stage (wall and CPU) from the run summary, the whole
#   run and its peak RSS, and the load average around each run. With a Python that has pyarrow
#   ($PYTHON, default python3), also the Parquet extract's size rewritten with snappy and zstd.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-1000000}"
ROUNDS="${2:-2}"
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
DIR="${BENCH_DIR:-target/bench-data}/parquet/p$PEOPLE"
PYTHON="${PYTHON:-python3}"
cargo build --release --locked -q -p pseudolink-cli
PL="$CARGO_TARGET/release/pseudolink"
mkdir -p "$DIR"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "pseudolink $("$PL" --version | awk '{print $2}') at $(git rev-parse --short HEAD); $(nproc) cores"
[ -f "$DIR/synth/truth.csv" ] || "$PL" synth --people "$PEOPLE" --seed 42 --out "$DIR/synth" >/dev/null
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema.json"
for s in a b; do
  for ext in csv parquet; do
    out="$DIR/enc_$s.$ext"
    if [ ! -f "$out.manifest.json" ] || [ "$DIR/schema.json" -nt "$out" ]; then
      /usr/bin/time -f "%e %M %U %S" -o "$DIR/encode.time" "$PL" encode --schema "$DIR/schema.json" \
        --secret-file "$DIR/bench.secret.hex" --input "$DIR/synth/agency_$s.csv" \
        --output "$out" --rejects "$DIR/rej_$s.csv" >/dev/null
      echo "encode agency_$s to .$ext: $(awk '{printf "%.1f s wall, %.1f s CPU, peak RSS %.0f MB", $1, $3 + $4, $2/1024}' "$DIR/encode.time"); load $(load)"
    fi
  done
  python3 -c 'import json, os, sys
m = json.load(open(sys.argv[1] + ".csv.manifest.json"))
c, p = (os.path.getsize(sys.argv[1] + e) for e in (".csv", ".parquet"))
n = m["counts"]["encoded"]
print(f"agency_{sys.argv[2]}: {n:,} records; CSV {c:,} bytes ({c / n:.0f} a record), Parquet {p:,} bytes ({p / n:.0f} a record, {p / c - 1:+.1%})")' "$DIR/enc_$s" "$s"
done
if "$PYTHON" -c 'import pyarrow' 2>/dev/null; then
  "$PYTHON" - "$DIR/enc_a.parquet" <<'PY'
import os, sys, tempfile
import pyarrow.parquet as pq
path = sys.argv[1]
table = pq.read_table(path)
base = os.path.getsize(path)
for codec in ("snappy", "zstd"):
    with tempfile.NamedTemporaryFile(suffix=".parquet") as f:
        pq.write_table(table, f.name, compression=codec, use_dictionary=False, write_statistics=False,
                       row_group_size=65536)
        size = os.path.getsize(f.name)
    print(f"agency_a's Parquet extract rewritten by pyarrow with {codec}: {size:,} bytes ({size / base - 1:+.1%})")
PY
fi
for round in $(seq 1 "$ROUNDS"); do
  for ext in csv parquet; do
    before=$(load)
    /usr/bin/time -f "%e %M %U %S" -o "$DIR/link.time" "$PL" link --schema "$DIR/schema.json" \
      --left "$DIR/enc_a.$ext" --right "$DIR/enc_b.$ext" --output "$DIR/links_$ext.csv" > /dev/null
    read -r secs kb user sys < "$DIR/link.time"
    python3 - "$DIR/links_$ext.csv.summary.json" "$ext" "$round" "$secs" "$kb" "$user" "$sys" "$before" "$(load)" <<'PY'
import json, sys
path, ext, rnd, secs, kb, user, sys_s, before, after = sys.argv[1:]
t = {x["stage"]: x for x in json.load(open(path))["timings"]}
r = t["reading"]
cpu = r.get("cpu_seconds")
cpu = f", {cpu:.2f} s CPU" if cpu is not None else ""
print(f"round {rnd} {ext:7}: reading {r['seconds']:.2f} s wall{cpu}; link {float(secs):.1f} s wall, "
      f"{float(user) + float(sys_s):.1f} s CPU, peak RSS {float(kb) / 1024:.0f} MB; load {before} -> {after}")
PY
  done
  cmp "$DIR/links_csv.csv" "$DIR/links_parquet.csv" && echo "round $round: the same links.csv bytes"
done
