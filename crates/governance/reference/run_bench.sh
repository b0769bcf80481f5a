#!/usr/bin/env bash
# Runs the governance criterion benches and the numpy/scipy peer back to back,
# so both are measured in the same run on the same machine.
# Usage: crates/governance/reference/run_bench.sh [PYTHON]
# PYTHON defaults to crates/governance/reference/.venv/bin/python; create it with
#   python3 -m venv crates/governance/reference/.venv
#   crates/governance/reference/.venv/bin/pip install numpy scipy statsmodels
set -euo pipefail
uptime
here="$(cd "$(dirname "$0")" && pwd)"
py="${1:-$here/.venv/bin/python}"
cd "$here/../../.."
cargo bench -p governance --bench governance -- --noplot 2>&1 | grep -E "^[a-z_0-9]+/|time:|thrpt:"
# single-threaded BLAS, like the single-threaded Rust code
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$py" "$here/bench_peer.py"
