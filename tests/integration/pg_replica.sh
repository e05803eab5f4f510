#!/usr/bin/env bash
# pg_replica: read_replicas: 1 gives a streaming replica through the slot replica_1: rows
# written on the primary appear on it, it refuses writes, and status reports its lag. A replica
# killed (docker kill) comes back and streams again; one removed with its data volume is rebuilt
# from the primary; the primary keeps serving meanwhile. Scaling to 0 removes the replica and its
# volume and drops the slot (a slot left behind would keep WAL on the primary forever). A restore
# in place rebuilds the replica from the restored primary.
. "$(dirname "$0")/pg-lib.sh"

start_berthd main
HP=$(free_port)
N=ro
P=$(primary_of $N)
R=$(replica_of $N 1)

apply() { # READ_REPLICAS [BACKUP_ENABLED]
        berth apply -f - >/dev/null <<YAML
kind: pg_single
metadata: {name: $N, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: appdb
  expose: {host_port: $HP}
  read_replicas: $1
  backup: {enabled: ${2:-false}}
YAML
}

apply 1
check "primary and one replica converge to RUNNING" wait_until 180 converged $N
PW=$(pg_password $N)
sql() { pg_app "$HP" appdb app "$PW" "$@"; }
on_replica() { pg_super "$R" appdb "$1"; }
on_primary() { pg_super "$P" appdb "$1"; }

check "the replica container runs" is_running "$R"
check "the replica is in recovery" test "$(on_replica 'SELECT pg_is_in_recovery()' 2>&1)" = t
check "the primary has the slot replica_1" test "$(on_primary "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'replica_1'")" = 1
streaming() { [[ $(on_primary "SELECT state FROM pg_stat_replication WHERE application_name = 'replica_1'" 2>/dev/null) == streaming ]]; }
check "the primary streams to replica_1" wait_until 60 streaming

sql 'CREATE TABLE t (id int PRIMARY KEY, v text)' >/dev/null
sql "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g" >/dev/null
SUM=$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")
replica_has() { [[ $(on_replica "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t" 2>/dev/null) == "$1" ]]; }
check "the rows written on the primary appear on the replica" wait_until 60 replica_has "$SUM"
rc=0
out=$(on_replica "INSERT INTO t VALUES (0, 'x')" 2>&1) || rc=$?
check "the replica refuses writes" bash -c "[[ $rc != 0 ]] && grep -q 'read-only transaction' <<<\"\$1\"" _ "$out"

lag_reported() {
        pg_json $N | jq -e --arg r "$R" '.status.nodes[] | select(.name == $r) |
                (.lag_bytes | type == "number") and (.lag_seconds | type == "number") and .lag_bytes >= 0' >/dev/null
}
check "status reports the replica's lag (lag_bytes, lag_seconds)" wait_until 90 lag_reported
check "status names the read endpoint" test "$(pg_jq $N .status.endpoints.read)" = "$N-read:5432"
check "status: a primary and a replica node" test \
        "$(pg_jq $N '[.status.nodes[] | .role] | sort | join(",")')" = primary,replica

# ---- the replica killed: back and streaming, the primary untouched ----
PBEFORE=$(started_at "$P")
docker kill "$R" >/dev/null
sql "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1001, 1500) g" >/dev/null
SUM=$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")
check "writes go on while the replica is down" test "${SUM%%|*}" = 1500
check "the killed replica runs again" wait_until 60 is_running "$R"
check "... streams again" wait_until 90 streaming
check "... and has every row, also those written while it was down" wait_until 90 replica_has "$SUM"
check "... RUNNING" wait_until 90 converged $N
check "the primary was not restarted" test "$(started_at "$P")" = "$PBEFORE"

# ---- the replica removed with its data: rebuilt from the primary ----
vol_created() { docker volume inspect -f '{{.CreatedAt}}' "$PROJECT-$N-data-1" 2>/dev/null; }
VBEFORE=$(vol_created)
sleep 1 # volume creation times have a resolution of a second
docker rm -f "$R" >/dev/null
rebuilt_vol_gone() { docker volume rm "$PROJECT-$N-data-1" >/dev/null 2>&1 || ! docker volume inspect "$PROJECT-$N-data-1" >/dev/null 2>&1; }
# berth may recreate the container before the volume goes: take whatever it made away again.
for _ in 1 2 3 4 5; do
        docker rm -f "$R" >/dev/null 2>&1 || true
        rebuilt_vol_gone && break
        sleep 0.5
done
sql "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1501, 1600) g" >/dev/null
SUM=$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")
check "the removed replica is recreated" wait_until 120 is_running "$R"
check "... streams again" wait_until 120 streaming
check "... on a new data volume (a rebuild, not a restart)" test -n "$(vol_created)" -a "$(vol_created)" != "$VBEFORE"
check "... has every row" wait_until 120 replica_has "$SUM"
check "... RUNNING" wait_until 120 converged $N
check "the primary was still not restarted" test "$(started_at "$P")" = "$PBEFORE"

# ---- a restore in place: the replica is rebuilt from the restored primary ----
apply 1 true
check "backups enabled: RUNNING" wait_until 120 converged $N
RB=$(queue $N backup '{"type":"full"}')
check "a backup is queued (request ${RB:-none})" test -n "$RB"
check_request "... and DONE" $N "$RB" DONE 120
sql "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1601, 1700) g" >/dev/null
SUM=$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")
RBEFORE=$(started_at "$R")
RR=$(queue $N restore '{}')
check "a restore to the latest point is queued (request ${RR:-none})" test -n "$RR"
check_request "... and DONE" $N "$RR" DONE 180
promoted() { [[ $(sql 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]]; }
check "... the primary is back, out of recovery" wait_until 180 promoted
check "... RUNNING with its replica" wait_until 180 converged $N
check "... the primary has every row" test "$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")" = "$SUM"
check "... the replica was rebuilt (a new container)" test "$(started_at "$R")" != "$RBEFORE" -a -n "$(started_at "$R")"
check "... and streams from the restored primary" wait_until 120 streaming
sql "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1701, 1750) g" >/dev/null
SUM=$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")
check "... rows written after the restore reach it" wait_until 120 replica_has "$SUM"
PBEFORE=$(started_at "$P")

# ---- scale to 0 ----
apply 0 true
check "read_replicas: 0 converges to RUNNING" wait_until 120 converged $N
check "the replica container is gone" wait_until 60 is_absent "$R"
vol_gone() { ! docker volume inspect "$PROJECT-$N-data-1" >/dev/null 2>&1; }
check "its data volume is gone" wait_until 60 vol_gone
no_slots() { [[ $(on_primary 'SELECT count(*) FROM pg_replication_slots' 2>/dev/null) == 0 ]]; }
check "the slot is dropped on the primary" wait_until 90 no_slots
check "one container left, the primary" test "$(containers | tr '\n' ' ')" = "$P "
check "status: one node" test "$(pg_jq $N '.status.nodes | length')" = 1
check "status: no read endpoint" test "$(pg_jq $N '.status.endpoints.read // "none"')" = none
check "the primary was never restarted" test "$(started_at "$P")" = "$PBEFORE"
check "the application's rows are intact" test "$(sql "SELECT count(*) || '|' || md5(string_agg(v, ',' ORDER BY id)) FROM t")" = "$SUM"
finish
