#!/usr/bin/env bash
# Self-heal: `docker kill` of a berth replica, BENCH_KILLS times, until it runs and answers HTTP
# again (and BENCH_WORKER_KILLS times for a worker with no healthcheck); beside a plain `docker run --restart=always` container killed the same way (Docker does
# not restart it) and one whose process crashes (kill -9 from the host: Docker's restart policy).
#   BENCH_KILLS=20 bash bench/heal.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init heal
bench_start_berthd --relist-interval 30
blog "heal: ${BENCH_KILLS:-20} kills, project $PROJECT"
$BENCH_PY heal --kills "${BENCH_KILLS:-20}" --worker-kills "${BENCH_WORKER_KILLS:-3}"
cat <<MD
Timed from just before \`docker kill NAME\` (or \`kill -9\` of \`docker inspect -f {{.State.Pid}}\`) until
the Engine API shows the container running with a new PID ("running"), then until an HTTP GET to its
bridge IP:8080 answers 200 ("answers"), both polled every 20 ms. berth: one replica, \`healthcheck:
{type: http, interval: 1s, timeout: 1s}\`; before each kill we wait for berth to report RUNNING again, then a random
0.5–1.5 s (so kills fall at random phases of berth's 1 s probe cycle). Worker row: a \`sleep 3600\`
replica with no healthcheck, berthd \`--relist-interval 30\` (the default).
Docker crash case: a fresh \`--restart=always\` container per sample, so each crash is a first crash
(Docker's back-off doubles from 100 ms for a container that crashes again within 10 s of starting).

MD
