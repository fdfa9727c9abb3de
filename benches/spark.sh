#!/usr/bin/env bash
# pseudolink.spark against the single-machine CLI, in one run on the same encoded extracts:
# `pseudolink link` (training, default resolution) timed end to end, then `pseudolink.spark.link`
# (training on Spark, the same model) in local mode on 1 and on 2 cores, each timed from the
# DataFrames' creation to the links written as Parquet. Prints wall time (and the CLI's CPU time
# and peak RSS; for Spark only the driver's Python is measured, not the JVM), candidate pairs,
# F1 against the synthetic truth, whether Spark trained the CLI's model, and the load average
# before each run: see docs/benchmarks.md ("Spark (issue 20)").
# Usage: bash benches/spark.sh [PEOPLE] [CORES...]   (default 140000 people: about 100k x 100k;
#        cores 1 2). Needs the venv of `make python-test` (pyspark, the wheel installed in it):
#        PY=target/py-venv/bin/python. PROFILE=release (default dev: the test wheel and debug CLI,
#        both with the core at opt-level 1) builds both optimised. DRIVER_MEMORY (default 3g) is
#        spark.driver.memory: in local mode it holds every cached table (12g for 1,400,000 people).
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-140000}"
shift || true
CORES=("$@")
[ ${#CORES[@]} -gt 0 ] || CORES=(1 2)
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
PROFILE="${PROFILE:-dev}"
PY="${PY:-$CARGO_TARGET/py-venv/bin/python}"
DIR="${BENCH_DIR:-$CARGO_TARGET/bench-data}/spark/p$PEOPLE"
if [ "$PROFILE" = release ]; then
  PL="$CARGO_TARGET/release/pseudolink"
  if [ "${BUILD:-1}" != 0 ]; then  # BUILD=0: the release CLI and wheel already built and installed
    cargo build --release --locked -q -p pseudolink-cli
    "$CARGO_TARGET/py-venv/bin/maturin" build -q --locked --release -m python/Cargo.toml -o "$CARGO_TARGET/wheels-release"
    "$PY" -m pip install -q --no-deps --force-reinstall "$CARGO_TARGET"/wheels-release/pseudolink-*.whl
  fi
else
  cargo build --locked -q -p pseudolink-cli
  PL="$CARGO_TARGET/debug/pseudolink"
fi
mkdir -p "$DIR"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GB"
echo "pseudolink $("$PL" --version | awk '{print $2}') at $(git rev-parse --short HEAD), profile $PROFILE; pyspark $("$PY" -c 'import pyspark; print(pyspark.__version__)')"
if [ ! -f "$DIR/synth/truth.csv" ]; then
  "$PL" synth --people "$PEOPLE" --seed 7 --out "$DIR/synth" >/dev/null
fi
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema.json"
for s in a b; do
  if [ ! -f "$DIR/enc_$s.csv.manifest.json" ]; then
    "$PL" encode --schema "$DIR/schema.json" --secret-file "$DIR/bench.secret.hex" \
      --input "$DIR/synth/agency_$s.csv" --output "$DIR/enc_$s.csv" --rejects "$DIR/rej_$s.csv" >/dev/null
  fi
done
echo "records: agency_a $(($(wc -l < "$DIR/enc_a.csv") - 1)), agency_b $(($(wc -l < "$DIR/enc_b.csv") - 1))"

echo "--- CLI: pseudolink link (training), load before: $(load)"
/usr/bin/time -f "%e %U %S %M" -o "$DIR/cli.time" "$PL" link --left "$DIR/enc_a.csv" --right "$DIR/enc_b.csv" \
  --schema "$DIR/schema.json" --output "$DIR/cli_links.csv" --save-model "$DIR/cli_model.json" >/dev/null
"$PY" - "$DIR" <<'PYEOF'
import json, sys
import pseudolink
d = sys.argv[1]
wall, user, sys_, rss = open(f"{d}/cli.time").read().split()
summary = json.load(open(f"{d}/cli_links.csv.summary.json"))
f1 = pseudolink.evaluate(f"{d}/cli_links.csv", f"{d}/synth/truth.csv")["f1"]
pairs = summary["blocking"]["candidate_pairs"]
print(f"cli: wall {float(wall):.1f} s, cpu {float(user) + float(sys_):.1f} s, peak RSS {int(rss) / 1024:.0f} MB, "
      f"candidate pairs {pairs}, F1 {f1:.4f}")
PYEOF

for cores in "${CORES[@]}"; do
  echo "--- Spark local[$cores]: pseudolink.spark.link (training), load before: $(load)"
  rm -rf "$DIR/spark_links_$cores"
  PYSPARK_PYTHON="$PY" /usr/bin/time -f "%e %U %S %M" -o "$DIR/spark_$cores.time" \
    "$PY" - "$DIR" "$cores" "${DRIVER_MEMORY:-3g}" <<'PYEOF'
import json, sys, time
from pyspark.sql import SparkSession
import pseudolink
from pseudolink import spark as pls

d, cores, memory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
started = time.monotonic()
spark = (
    SparkSession.builder.master(f"local[{cores}]")
    .config("spark.driver.memory", memory)
    .config("spark.sql.shuffle.partitions", str(4 * cores))
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
up = time.monotonic()
schema = pseudolink.Schema.from_file(f"{d}/schema.json")
read = lambda p: spark.read.csv(p, header=True, multiLine=True, escape='"').repartition(2 * cores)
left, right = read(f"{d}/enc_a.csv"), read(f"{d}/enc_b.csv")
result = pls.link(left, right, schema,
                  manifests=[f"{d}/enc_a.csv.manifest.json", f"{d}/enc_b.csv.manifest.json"])
trained = time.monotonic()
result.links.write.parquet(f"{d}/spark_links_{cores}")
done = time.monotonic()
rows = [r.asDict() for r in spark.read.parquet(f"{d}/spark_links_{cores}").collect()]
with open(f"{d}/spark_links_{cores}.csv", "w") as f:
    f.write("left_id,right_id,match_weight,match_probability,band,cluster_id\n")
    for r in rows:
        c = "" if r["cluster_id"] is None else r["cluster_id"]
        f.write(f"{r['left_id']},{r['right_id']},{r['match_weight']},{r['match_probability']},{r['band']},{c}\n")
f1 = pseudolink.evaluate(f"{d}/spark_links_{cores}.csv", f"{d}/synth/truth.csv")["f1"]
def gap(a, b):
    """Largest difference between the numbers of two JSON values; inf if they differ otherwise."""
    if isinstance(a, dict) and isinstance(b, dict):
        return max((gap(a[k], b[k]) for k in a), default=0.0) if a.keys() == b.keys() else float("inf")
    if isinstance(a, list) and isinstance(b, list):
        return max((gap(x, y) for x, y in zip(a, b)), default=0.0) if len(a) == len(b) else float("inf")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b)
    return 0.0 if a == b else float("inf")
g = gap(json.loads(result.model_json), json.load(open(f"{d}/cli_model.json")))
same = "identical" if g == 0 else f"equal to within {g:.1e}" if g < 1e-9 else f"NOT equal (largest gap {g:.3g})"
pairs = result.blocking["candidate_pairs"]
print(f"spark local[{cores}]: session start {up - started:.1f} s, blocking+training+scoring "
      f"{trained - up:.1f} s, resolution+write {done - trained:.1f} s, total {done - started:.1f} s; "
      f"candidate pairs {pairs}, F1 {f1:.4f}, model {same} to the CLI's")
spark.stop()
PYEOF
  echo "spark local[$cores] driver process: $(awk '{printf "wall %.1f s, peak RSS (driver python, not the JVM) %.0f MB", $1, $4/1024}' "$DIR/spark_$cores.time"); load after: $(load)"
done
