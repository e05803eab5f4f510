#!/usr/bin/env bash
# BENCH_SERVICES (default 200) worker services of 1 replica each, applied BENCH_BATCH per POST;
# time to all RUNNING; then one steady window (BENCH_STEADY s, default 60) of berthd RSS, CPU, the
# embedded PostgreSQL's RSS/PSS/CPU, and Docker API calls per relist pass (--relist-interval 5;
# berthd at debug level so each Docker call is logged and can be told apart). Deletes all, timed.
#   BENCH_SERVICES=200 BENCH_STEADY=60 bash bench/scale.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init scale
RELIST=${BENCH_RELIST:-5}
BERTH_LOG_LEVEL=debug bench_start_berthd --relist-interval "$RELIST"
blog "scale: ${BENCH_SERVICES:-200} services, project $PROJECT"
$BENCH_PY scale --services "${BENCH_SERVICES:-200}" --batch "${BENCH_BATCH:-20}" \
        --steady "${BENCH_STEADY:-60}" --relist-interval "$RELIST"
cat <<MD
berthd: \`--relist-interval $RELIST\`, 4 workers (default), \`BERTH_LOG_LEVEL=debug\` (one log line per
Docker call: ~the calls/s above, a small cost). RSS from /proc/PID/status VmRSS sampled every 5 s (min –
max); CPU from /proc/PID/stat utime+stime over the window; PostgreSQL = the postmaster of
DATA/state/postmaster.pid and its children (CPU includes reaped children).

MD
