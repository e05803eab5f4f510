#!/usr/bin/env bash
# Apply → RUNNING for 1 and 10 replicas (http healthcheck: RUNNING means "answers"), beside the
# floor measured in the same run: `docker run -d` + an HTTP poll of the bridge IP (1, 10 in a
# sequential loop, 10 in parallel) and `docker-compose up -d --scale web=10`. Cases alternate
# round by round; one warm-up round is not counted.
#   BENCH_RUNS=5 BENCH_WARMUP=1 bash bench/apply-to-running.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init apply
bench_start_berthd --relist-interval 30
blog "apply-to-running: ${BENCH_RUNS:-5} runs (+${BENCH_WARMUP:-1} warm-up), project $PROJECT"
$BENCH_PY apply-to-running --runs "${BENCH_RUNS:-5}" --warmup "${BENCH_WARMUP:-1}"
cat <<MD
Each berth sample: POST /api/v1/apply of one docker_service (busybox httpd, \`healthcheck: {type: http,
interval: 1s, timeout: 1s}\`), then GET /api/v1/resources/docker_service/NAME every 20 ms on one keep-alive
connection until \`phase == RUNNING\` and \`observed_generation == generation\` (and 10/10 ready); then
DELETE and wait until the resource and its containers are gone (not timed). Each peer sample: the
docker CLI command(s) a user would type, then the containers' bridge IPs (Engine API inspect) polled
with HTTP GET every 20 ms until every one answers 200; then \`docker rm -f\` / \`docker-compose down\`.
Same image and command everywhere; berth adds \`--init\` and its own project network (created on
each first apply, removed with the last resource), compose its \`_default\` network.

MD
