#!/usr/bin/env bash
# API throughput and latency with BENCH_API_RESOURCES (default 50) services stored and running:
# GET /api/v1/resources (wrk, keep-alive) and POST /api/v1/apply of an unchanged document, the
# common GitOps case (wrk with a Lua body, keep-alive; and ab, a new connection per request).
# Beside them, CLI round trips with hyperfine: berth get vs docker ps, berth apply (unchanged) vs
# docker-compose up -d (unchanged).
#   BENCH_API_DURATION=10s bash bench/api.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init api
N=${BENCH_API_RESOURCES:-50}
DUR=${BENCH_API_DURATION:-10s}
AB_N=${BENCH_AB_REQUESTS:-2000}
HF_RUNS=${BENCH_HYPERFINE_RUNS:-20}
bench_start_berthd --relist-interval 30
blog "api: $N services, project $PROJECT"
$BENCH_PY api-setup --services "$N" --write-doc "$BENCH_TMP/doc.yaml"
doc=$BENCH_TMP/doc.yaml
name=$(sed -n 's/^metadata: {name: \([^,]*\),.*/\1/p' "$doc")

outcome=$(curl -fsS -X POST -H 'Content-Type: application/yaml' --data-binary "@$doc" "$BERTH_URL/api/v1/apply" |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["outcome"])')
gen() { curl -fsS "$BERTH_URL/api/v1/resources/docker_service/$name?project=$PROJECT" |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["generation"])'; }
gen0=$(gen)
idle=$(settle)
blog "CPU ${idle}% idle before the load tests"
blog "re-applying $name answers outcome=$outcome (generation $gen0)"

cat >"$BENCH_TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/yaml"
local f = io.open("$doc", "rb")
wrk.body = f:read("*a")
f:close()
LUA

store_q() { psql "host=$BERTH_DATA/run dbname=berth user=berth" -XAtqc "$1" 2>/dev/null || echo "?"; }
reconciles() { curl -fsS "$BERTH_URL/metrics" | awk '/^berth_reconciles_total/ {s += $2} END {print s}'; }
cmd_get="wrk -t2 -c16 -d$DUR --latency $BERTH_URL/api/v1/resources"
blog "$cmd_get"
$cmd_get >"$BENCH_TMP/wrk-get.txt" 2>&1 || true
audit0=$(store_q "SELECT count(*) FROM audit")
rec0=$(reconciles)
cmd_post="wrk -t2 -c8 -d$DUR --latency -s post.lua $BERTH_URL/api/v1/apply"
blog "$cmd_post"
wrk -t2 -c8 -d"$DUR" --latency -s "$BENCH_TMP/post.lua" "$BERTH_URL/api/v1/apply" >"$BENCH_TMP/wrk-post.txt" 2>&1 || true
cmd_ab="ab -n $AB_N -c 8 -p doc.yaml -T application/yaml $BERTH_URL/api/v1/apply"
blog "$cmd_ab"
ab -n "$AB_N" -c 8 -p "$doc" -T application/yaml "$BERTH_URL/api/v1/apply" >"$BENCH_TMP/ab-post.txt" 2>&1 || true
gen1=$(gen)
audit1=$(store_q "SELECT count(*) FROM audit")
rec1=$(reconciles)

# CLI round trips, beside Docker's own. A 1-service compose project, up already, for the no-op up.
cdir=$BENCH_TMP/compose
mkdir -p "$cdir"
cproj=$(printf '%s' "${PROJECT}c" | tr -cd 'a-z0-9')
cat >"$cdir/docker-compose.yml" <<YML
version: "2.4"
services:
  web:
    image: $BENCH_IMAGE
    command: [sh, -c, "echo ok >/tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
    labels: {bench.project: "$PROJECT"}
networks:
  default:
    labels: {bench.project: "$PROJECT"}
YML
BENCH_CLEANUP_HOOKS+=("docker-compose -p $cproj -f $cdir/docker-compose.yml down -t 0 >/dev/null 2>&1")
docker-compose -p "$cproj" -f "$cdir/docker-compose.yml" up -d >/dev/null 2>&1
blog "hyperfine: $HF_RUNS runs each"
hyperfine -N --warmup 2 --runs "$HF_RUNS" --export-json "$BENCH_TMP/hf.json" \
        "$BERTH_BIN get -p $PROJECT" \
        "docker ps --filter label=berth.project=$PROJECT" \
        "$BERTH_BIN apply -f $doc" \
        "docker-compose -p $cproj -f $cdir/docker-compose.yml up -d" >&2 || true

echo "### API: $N resources stored (each a running 1-replica worker)"
echo
echo "wrk/ab run on the same 2 cores as berthd and its PostgreSQL (CPU ${idle}% idle just before)."
echo
echo "| request | command | requests | req/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
$BENCH_PY load-row wrk "GET /api/v1/resources ($N items), keep-alive" "$cmd_get" "$BENCH_TMP/wrk-get.txt"
$BENCH_PY load-row wrk "POST /api/v1/apply, unchanged, keep-alive" "$cmd_post" "$BENCH_TMP/wrk-post.txt"
$BENCH_PY load-row ab "POST /api/v1/apply, unchanged, new connection each" "$cmd_ab" "$BENCH_TMP/ab-post.txt"
echo
echo "Re-applying the document answers \`outcome: $outcome\`; its generation was $gen0 before and $gen1"
echo "after all those POSTs (no new generation, no spec notification). Over both POST runs the audit"
echo "table grew from $audit0 to $audit1 rows (one row per apply, unchanged included) and"
echo "\`berth_reconciles_total\` from $rec0 to $rec1 (an unchanged apply queues no reconcile)."
echo
echo "CLI round trips (hyperfine -N, 2 warm-ups; \`berth\` talks to the same berthd):"
echo
echo "| command | runs | median ms | p95 ms | min ms |"
echo "| --- | --- | --- | --- | --- |"
if [[ -f $BENCH_TMP/hf.json ]]; then
        $BENCH_PY hyperfine-row "$BENCH_TMP/hf.json" | sed "s#$BENCH_TMP/##g; s#$BENCH_BUILD/##g"
fi
echo
docker-compose -p "$cproj" -f "$cdir/docker-compose.yml" down -t 0 >/dev/null 2>&1 || true
$PY - <<PY
import os, sys
sys.path.insert(0, "$BENCH_DIR")
import bench
b, d = bench.Berth(os.environ["BERTH_URL"]), bench.Docker()
names = [it["name"] for it in b.list(os.environ["PROJECT"])]
bench.berth_delete_and_wait(b, d, names, os.environ["PROJECT"])
PY
