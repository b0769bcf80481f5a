#!/bin/sh
# Same-run speed comparison of the community engine and SimPy on the same specs.
# Usage (from this folder): sh compare.sh [python]   (default .venv/bin/python)
# Set BIN to an already built release citybrain to skip the build.
set -eu
PY=${1:-.venv/bin/python}
ROOT=$(cd ../../.. && pwd)
if [ -z "${BIN:-}" ]; then
  cargo build --release -p server --manifest-path "$ROOT/Cargo.toml"
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/citybrain
fi
uptime
OUT=$(mktemp -d)
for spec in city_month.json city_year.json; do
  echo "== $spec"
  for run in 1 2 3; do
    "$BIN" --log-json community simulate --spec "$spec" --out "$OUT/report.json" 2>&1 \
      | grep 'Simulated the spec'
  done
  "$PY" simpy_city.py "$spec"
done
echo "== M/M/c rho 0.83, 200k jobs (SimPy)"
"$PY" simpy_city.py --mmc 1.6666666666666667 0.5 4 200000
rm -rf "$OUT"
uptime
