#!/usr/bin/env bash
# Whole-run link benchmark: `pseudolink link` end to end (read, block, compare, train, score,
# resolve, write) on two encoded synthetic extracts, timed with /usr/bin/time (wall, peak RSS).
# Usage: bash benches/link_run.sh [PEOPLE] [RUNS]
#   PEOPLE 1400000 (default) gives about 1,000,000 records per agency (coverage 0.7 plus 3%
#   within-file duplicates); 140000 gives about 100,000 x 100,000 for a quick reproduction.
# Prints the stage timings, candidate pairs and pairs per second from the run summary JSON,
# and the load average around each run; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-1400000}"
RUNS="${2:-1}"
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
DIR="${BENCH_DIR:-target/bench-data}/link/p$PEOPLE"
cargo build --release --locked -q -p pseudolink-cli
PL="$CARGO_TARGET/release/pseudolink"
mkdir -p "$DIR"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GB"
echo "pseudolink $("$PL" --version | awk '{print $2}') at $(git rev-parse --short HEAD)"
if [ ! -f "$DIR/synth/truth.csv" ]; then
  /usr/bin/time -f "%e %M" -o "$DIR/synth.time" "$PL" synth --people "$PEOPLE" --seed 7 --out "$DIR/synth" >/dev/null
  echo "synth --people $PEOPLE --seed 7: $(awk '{printf "%.1f s, peak RSS %.0f MB", $1, $2/1024}' "$DIR/synth.time")"
fi
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema.json"
for s in a b; do
  if [ ! -f "$DIR/enc_$s.csv.manifest.json" ] || [ "$DIR/schema.json" -nt "$DIR/enc_$s.csv" ]; then
    /usr/bin/time -f "%e %M" -o "$DIR/encode.time" "$PL" encode --schema "$DIR/schema.json" \
      --secret-file "$DIR/bench.secret.hex" --input "$DIR/synth/agency_$s.csv" \
      --output "$DIR/enc_$s.csv" --rejects "$DIR/rej_$s.csv" >/dev/null
    echo "encode agency_$s: $(awk '{printf "%.1f s, peak RSS %.0f MB", $1, $2/1024}' "$DIR/encode.time")"
  fi
done
echo "records: agency_a $(($(wc -l < "$DIR/enc_a.csv") - 1)), agency_b $(($(wc -l < "$DIR/enc_b.csv") - 1)); encoded files $(du -ch "$DIR"/enc_?.csv | tail -1 | cut -f1)"
# The machine is shared: cap the link run's address space (default 90% of the memory available
# now) so that an overshoot fails this run instead of waking the OOM killer for someone else's.
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
CAP_KB="${LINK_MEM_CAP_KB:-$((avail_kb * 9 / 10))}"
TIMEOUT="${LINK_TIMEOUT:-1800}"
read -r -a EXTRA <<< "${LINK_ARGS:-}"
echo "address-space cap for the link run: $((CAP_KB / 1024 / 1024)) GB (LINK_MEM_CAP_KB to change); timeout ${TIMEOUT} s (LINK_TIMEOUT); extra link arguments: ${EXTRA[*]:-none} (LINK_ARGS)"
for run in $(seq 1 "$RUNS"); do
  before=$(load)
  if ! ( ulimit -v "$CAP_KB"; /usr/bin/time -f "%e %M %U %S" -o "$DIR/link.time" timeout "$TIMEOUT" "$PL" link \
      --schema "$DIR/schema.json" --left "$DIR/enc_a.csv" --right "$DIR/enc_b.csv" \
      --output "$DIR/links.csv" "${EXTRA[@]}" > "$DIR/link.log" 2> "$DIR/link.err" ); then
    echo "run $run FAILED ($(tail -1 "$DIR/link.err" 2>/dev/null)): $(tail -1 "$DIR/link.time" | awk '{printf "%.1f s wall, peak RSS %.2f GB", $1, $2/1024/1024}'); load $before -> $(load)"
    exit 1
  fi
  read -r secs kb user sys < "$DIR/link.time"
  python3 - "$DIR/links.csv.summary.json" "$secs" "$kb" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$run" "$before" "$(load)" <<'PY'
import json, sys
path, secs, kb, cpu_s, run, before, after = sys.argv[1:]
cpu_s = float(cpu_s)
s = json.load(open(path))
secs, kb = float(secs), float(kb)
cand = s["blocking"]["candidate_pairs"]
t = {x["stage"]: x["seconds"] for x in s["timings"]}
cmp = t.get("comparing", 0.0)
print(f"run {run}: {secs:.2f} s wall, {cpu_s:.2f} s CPU (user + system), peak RSS {kb / 1024:.0f} MB ({kb / 1024 / 1024:.2f} GB); load before {before}, after {after}")
print(f"  candidate pairs {cand:,}; skipped blocks {s['blocking']['skipped_blocks']}; "
      f"{cand / cmp / 1e6:.2f} M pairs/s in the comparing stage ({cmp:.2f} s), "
      f"{cand / secs / 1e6:.2f} M pairs/s end to end")
for r in s["blocking"]["rules"]:
    print(f"  rule {r['rule']}: {r['pairs']:,} pairs ({r['new_pairs']:,} new), {r['skipped_blocks']} blocks skipped")
print("  stages (wall): " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
cpu = {x["stage"]: x.get("cpu_seconds") for x in s["timings"]}
if all(v is not None for v in cpu.values()):
    total = sum(cpu.values())
    print("  stages (CPU, user + system): " + ", ".join(f"{k} {v:.2f} s" for k, v in cpu.items())
          + f"; total {total:.1f} s; {cand / max(cpu.get('comparing', 0), 1e-9) / 1e6:.2f} M pairs per CPU second comparing")
print(f"  model: lambda {s['model']['lambda']:.6f}, EM {s['model']['training']['em_iterations']} iterations; "
      f"links {s['counts']['match']:,} match, {s['counts']['review']:,} review")
for w in s["warnings"]:
    print(f"  warning: {w}")
PY
done
if [ -f "$DIR/synth/truth.csv" ]; then
  "$PL" evaluate --links "$DIR/links.csv" --truth "$DIR/synth/truth.csv" | tr -d '\n ' | sed 's/^/quality at the default threshold: /'; echo
  # Calibration: the share of true pairs among the output rows at or above 0.9, whatever their
  # band, and the matches the model implies.
  python3 - "$DIR" <<'PY'
import csv, json, sys
d = sys.argv[1]
truth = {(r["left_id"], r["right_id"]) for r in csv.DictReader(open(f"{d}/synth/truth.csv"))}
rows = [(float(r["match_probability"]), (r["left_id"], r["right_id"]) in truth)
        for r in csv.DictReader(open(f"{d}/links.csv"))]
high = [ok for p, ok in rows if p >= 0.9]
s = json.load(open(f"{d}/links.csv.summary.json"))
implied = s["model"]["lambda"] * s["inputs"][0]["records"] * s["inputs"][1]["records"]
print(f"precision among rows with p >= 0.9: {sum(high) / max(1, len(high)):.4f} ({len(high):,} rows); "
      f"implied matches {implied:,.0f} for {len(truth):,} true pairs ({implied / len(truth) - 1:+.1%})")
PY
fi
