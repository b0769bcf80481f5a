#!/usr/bin/env bash
# Same-run speed comparison of the energy engine and pandapower.
# Run from anywhere; needs a Python venv with pandapower (see README.md).
#   PYTHON=/path/to/venv/bin/python crates/engine-energy/reference/run_bench.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$TARGET/energy-bench}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
cd "$ROOT"
echo "== machine"; nproc; uptime
# the same feeders as `citybrain energy synth --substations 10|30|100 --lv-buses 98 --seed 7`
ENERGY_SYNTH_OUT="$OUT" cargo test -p engine-energy --test it -- --ignored write_synthetic_feeders
echo "== pandapower"
"$PYTHON" "$HERE/bench_pandapower.py" --synth "$OUT/synth_1k,$OUT/synth_3k,$OUT/synth_10k" \
  --out "$OUT/pandapower.json" --repeats "${REPEATS:-20}" --steps "${STEPS:-96}"
echo "== engine-energy (criterion)"
cargo bench -p engine-energy --bench engine-energy -- --noplot 2>&1 | grep -E "^(powerflow|timeseries)|time:|thrpt:"
echo "== done; pandapower results in $OUT/pandapower.json"
