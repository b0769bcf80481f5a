#!/bin/sh
# Same-run speed comparison of the community engine and SimPy on the same specs.
# Usage (from this folder): sh compare.sh [python]   (default .venv/bin/python)
#
# 1. criterion benches of the engine on city_month.json and city_year.json
#    (simulation plus the full KPI report, as `run_once`), and of the M/M/c core;
# 2. the SimPy peer on the same two spec files and on the same M/M/c case.
# Set BIN to a release `citybrain` to also time `citybrain community simulate`
# (spec parsing, simulation, KPIs and the JSON report) on both specs.
set -eu
PY=${1:-.venv/bin/python}
ROOT=$(cd ../../.. && pwd)
uptime
cargo bench --manifest-path "$ROOT/Cargo.toml" -p engine-community --bench engine-community \
  -- 'city_|mmc_' 2>&1 | grep -E 'jobs,|time:|thrpt:|^[a-z_0-9]+/' || true
if [ -n "${BIN:-}" ]; then
  OUT=$(mktemp -d)
  for spec in city_month.json city_year.json; do
    "$BIN" --log-json community simulate --spec "$spec" --out "$OUT/report.json" 2>&1 \
      | grep 'Simulated the spec'
  done
  rm -rf "$OUT"
fi
uptime
for spec in city_month.json city_year.json; do
  echo "== SimPy $spec"
  "$PY" simpy_city.py "$spec"
done
echo "== SimPy M/M/c rho 0.83, 200k jobs"
"$PY" simpy_city.py --mmc 1.6666666666666667 0.5 4 200000
uptime
