#!/usr/bin/env bash
# Quick quality check of pseudolink alone (no peers, no venv): synth data, encode both agencies,
# link with the default schema, evaluate at the default threshold, and print how well the match
# probabilities are calibrated (the share of true pairs among the output rows per probability band).
# Usage: [ERROR_RATE=2.5] [CLEAR=1] bash benches/quality_pseudolink.sh [PEOPLE] [SEED] [extra link arguments...]
#   defaults: 20000 people, seed 42 (the data of benches/quality.sh), error rate 1.0 (2.5 is the
#   heavy-errors profile); CLEAR=1 links the cleartext extracts (--clear) instead. Data and
#   outputs go to ${BENCH_DIR:-target/bench-data}/quality-pl/p<PEOPLE>-s<SEED>[-e<RATE>]/; the
#   data is reused when present.
# For the comparison with Splink and clkhash + anonlink run benches/quality.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE="${1:-20000}"
SEED="${2:-42}"
shift $(($# < 2 ? $# : 2))
CARGO_TARGET="${CARGO_TARGET_DIR:-target}"
ERROR_RATE="${ERROR_RATE:-1.0}"
SUFFIX=""; [ "$ERROR_RATE" = "1.0" ] || SUFFIX="-e$ERROR_RATE"
DIR="${BENCH_DIR:-target/bench-data}/quality-pl/p$PEOPLE-s$SEED$SUFFIX"
cargo build --release --locked -q -p pseudolink-cli
PL="$CARGO_TARGET/release/pseudolink"
mkdir -p "$DIR"
[ -f "$DIR/truth.csv" ] || "$PL" synth --people "$PEOPLE" --seed "$SEED" --error-rate "$ERROR_RATE" --out "$DIR" >/dev/null
[ -f "$DIR/bench.secret.hex" ] || "$PL" keygen --output "$DIR/bench.secret.hex" >/dev/null
"$PL" schema example > "$DIR/schema.json"
for s in a b; do
  if [ ! -f "$DIR/enc_$s.csv.manifest.json" ] || [ "$DIR/schema.json" -nt "$DIR/enc_$s.csv" ]; then
    "$PL" encode --schema "$DIR/schema.json" --secret-file "$DIR/bench.secret.hex" \
      --input "$DIR/agency_$s.csv" --output "$DIR/enc_$s.csv" --rejects "$DIR/rej_$s.csv" >/dev/null
  fi
done
echo "pseudolink at $(git rev-parse --short HEAD); synth --people $PEOPLE --seed $SEED --error-rate $ERROR_RATE${CLEAR:+ (cleartext)}; load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${CLEAR:-}" ]; then
  INPUTS=(--clear --left "$DIR/agency_a.csv" --right "$DIR/agency_b.csv")
else
  INPUTS=(--left "$DIR/enc_a.csv" --right "$DIR/enc_b.csv")
fi
/usr/bin/time -f "%e %M" -o "$DIR/link.time" "$PL" link --schema "$DIR/schema.json" \
  "${INPUTS[@]}" --output "$DIR/links.csv" \
  --save-model "$DIR/model.json" "$@" > "$DIR/link.log"
"$PL" evaluate --links "$DIR/links.csv" --truth "$DIR/truth.csv" --curve "$DIR/curve.csv" > "$DIR/evaluate.json" 2>/dev/null
python3 - "$DIR" <<'PY'
import csv, json, sys
d = sys.argv[1]
e = json.load(open(f"{d}/evaluate.json"))
secs, kb = open(f"{d}/link.time").read().split()
truth = {(r["left_id"], r["right_id"]) for r in csv.DictReader(open(f"{d}/truth.csv"))}
s = json.load(open(f"{d}/links.csv.summary.json"))
print(f"records {[i['records'] for i in s['inputs']]}, true pairs {len(truth)}, "
      f"candidate pairs {s['blocking']['candidate_pairs']:,}; link {float(secs):.2f} s, "
      f"peak RSS {int(kb) / 1024:.0f} MB")
print(f"at the default threshold: precision {e['precision']:.4f} recall {e['recall']:.4f} F1 {e['f1']:.4f}")
best = max(csv.DictReader(open(f"{d}/curve.csv")), key=lambda r: float(r["f1"]))
print(f"best F1 over thresholds: {float(best['f1']):.4f} at match probability {float(best['threshold']):.6g}")
sessions = s["model"]["training"]["sessions"]
print(f"model: lambda {s['model']['lambda']:.3e}; {sessions[-1]['rule']}")
t = s["model"]["training"]
n = len(truth)
cand = t.get("candidate_matches", t["implied_matches"])
share = t.get("blocking_formed_share", 1.0)
print(f"implied matches against the {n} true pairs: among the candidates {cand:,.0f} "
      f"({cand / n - 1:+.1%}); blocking formed {share:.4f} (estimated), so in all "
      f"{t['implied_matches']:,.0f} ({t['implied_matches'] / n - 1:+.1%})")
print("calibration: share of true pairs among output rows, by match probability")
bands = [(0.5, 0.9), (0.9, 0.99), (0.99, 0.9999), (0.9999, 1.01)]
counts = {b: [0, 0] for b in bands}
for r in csv.DictReader(open(f"{d}/links.csv")):
    p = float(r["match_probability"])
    for b in bands:
        if b[0] <= p < b[1]:
            counts[b][(r["left_id"], r["right_id"]) in truth] += 1
for (lo, hi), (f, t) in counts.items():
    label = f"[{lo}, {hi})" if hi <= 1 else f"[{lo}, 1]"
    print(f"  p in {label:<16} rows {t + f:>7}  true {t:>7}  share {t / max(1, t + f):.3f}")
PY
