#!/usr/bin/env bash
# Load run of the H3 cells query on the 10^6-entity synthetic city while the
# bench binary ingests 20,000 observations/s (see docs/benchmarks/api.md).
# Needs `hey` (Debian: apt-get install -y hey). Run from the workspace root:
#
#   crates/api/benches/load.sh            # SECS=30 RATE=2000 INGEST=20000 by default
#
# hey's -q is per worker: C workers x RATE/C requests/s each. The /health floor
# and the cells query run back to back in the same server process.
set -euo pipefail
PORT=${API_BENCH_PORT:-8099}
SECS=${SECS:-30}
RATE=${RATE:-2000}
C=${C:-20}
INGEST=${INGEST:-20000}
BIN=$(cargo bench -p api --bench api --no-run 2>&1 | sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)
[ -x "$BIN" ] || { echo "bench binary not found" >&2; exit 1; }
API_BENCH_SERVE=$((5 * SECS + 120)) API_BENCH_PORT=$PORT API_BENCH_INGEST=$INGEST "$BIN" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 1; done
BBOX=$(curl -s "http://127.0.0.1:$PORT/api/v1/city" | python3 -c 'import json,sys; print(",".join(str(v) for v in json.load(sys.stdin)["bbox"]))')
sleep 5
for target in \
  "/health" \
  "/api/v1/cells?res=9&metric=flow&bbox=$BBOX&format=compact" \
  "/api/v1/cells?res=9&metric=flow&bbox=$BBOX"; do
  echo "=== $target  (${RATE} req/s for ${SECS} s, ${C} workers)"
  bytes=$(curl -s "http://127.0.0.1:$PORT$target" | wc -c)
  echo "response size: $bytes bytes"
  hey -z "${SECS}s" -c "$C" -q $((RATE / C)) "http://127.0.0.1:$PORT$target" |
    grep -E "Requests/sec|Average|Slowest|Fastest|  (50|90|95|99)% in|\[[0-9]{3}\]|Error"
done
