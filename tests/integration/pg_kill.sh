#!/usr/bin/env bash
# pg_kill: no acknowledged write is lost when PostgreSQL dies under load. Two writers insert
# single rows through the published port, each recording an id only once its INSERT returned
# success (autocommit: success means committed). Meanwhile the primary container is killed
# (docker kill -s KILL), then the postmaster is killed -9 from the host (the host pid of the
# container's PID 1), then a backend of it (the postmaster resets and recovers in place). Each
# time berth (or Docker's restart policy) brings the server back and the writers go on; in the
# end every acknowledged id is in the table.
. "$(dirname "$0")/pg-lib.sh"

start_berthd main
HP=$(free_port)
N=kv
P=$(primary_of $N)

berth apply -f - >/dev/null <<YAML
kind: pg_single
metadata: {name: $N, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: kvdb
  expose: {host_port: $HP}
YAML
check "RUNNING" wait_until 120 converged $N
PW=$(pg_password $N)
sql() { pg_app "$HP" kvdb app "$PW" "$@"; }
sql 'CREATE TABLE acked (id bigint PRIMARY KEY, at timestamptz DEFAULT now(), pad text)' >/dev/null
check "table created" test "$(sql 'SELECT count(*) FROM acked')" = 0

STOP=$IT_TMP/stop
# writer K: ids K, K+2, K+4...; one connection per INSERT, so reconnecting after a crash is
# part of the loop. An id goes into acked-K only after psql exits 0.
writer() {
        local k=$1 id=$1
        : >"$IT_TMP/acked-$k"
        : >"$IT_TMP/failed-$k"
        while [[ ! -e $STOP ]]; do
                if PGPASSWORD=$PW PGCONNECT_TIMEOUT=3 psql "host=127.0.0.1 port=$HP dbname=kvdb user=app" \
                        -XAtq -v ON_ERROR_STOP=1 -c "INSERT INTO acked (id, pad) VALUES ($id, repeat('x', 200))" \
                        >/dev/null 2>&1; then
                        echo "$id" >>"$IT_TMP/acked-$k"
                else
                        echo "$id" >>"$IT_TMP/failed-$k"
                        sleep 0.05
                fi
                id=$((id + 2))
        done
}
writer 1 3>&- &
W1=$!
writer 2 3>&- &
W2=$!
acked() { cat "$IT_TMP"/acked-* 2>/dev/null | wc -l; }
acked_over() { (($(acked) >= $1)); }
failed() { cat "$IT_TMP"/failed-* 2>/dev/null | wc -l; }

check "the writers write" wait_until 60 acked_over 100

# 1. The container killed.
OLD=$(docker inspect -f '{{.State.StartedAt}}' "$P")
docker kill -s KILL "$P" >/dev/null
F1=$(failed)
restarted() { is_running "$P" && [[ $(docker inspect -f '{{.State.StartedAt}}' "$P") != "$OLD" ]]; }
check "docker kill: the primary runs again" wait_until 90 restarted
A=$(acked)
check "docker kill: the writers write again" wait_until 90 acked_over $((A + 50))
log "writes failed around the container kill: $(($(failed) - F1 + 0))"
check "docker kill: RUNNING" wait_until 90 converged $N

# 2. The postmaster killed -9 from the host.
OLD=$(docker inspect -f '{{.State.StartedAt}}' "$P")
PID=$(docker inspect -f '{{.State.Pid}}' "$P")
check "the container's PID 1 is the postmaster" bash -c "tr '\\0' ' ' </proc/$PID/cmdline | grep -q '^postgres '"
wait_until 30 acked_over $(($(acked) + 50)) || true
kill -9 "$PID"
check "kill -9 of the postmaster: the primary runs again" wait_until 90 restarted
A=$(acked)
check "kill -9 of the postmaster: the writers write again" wait_until 90 acked_over $((A + 50))
check "kill -9 of the postmaster: RUNNING" wait_until 90 converged $N

# 3. A backend killed -9: the postmaster resets every backend and recovers without exiting.
PID=$(docker inspect -f '{{.State.Pid}}' "$P")
A=$(acked)
wait_until 30 acked_over $((A + 50)) || true
victim=$(pgrep -P "$PID" -f 'postgres: checkpointer' | head -n 1 || true)
check "found the checkpointer (host pid ${victim:-none})" test -n "$victim"
[[ -n $victim ]] && kill -9 "$victim"
A=$(acked)
check "kill -9 of the checkpointer: the writers write again" wait_until 90 acked_over $((A + 50))
check "kill -9 of the checkpointer: RUNNING" wait_until 90 converged $N

touch "$STOP"
wait "$W1" "$W2" || true
sort -n "$IT_TMP"/acked-* >"$IT_TMP/acked.all"
sql 'SELECT id FROM acked ORDER BY id' | sort -n >"$IT_TMP/present"
comm -23 <(sort "$IT_TMP/acked.all") <(sort "$IT_TMP/present") >"$IT_TMP/lost"
log "acknowledged: $(wc -l <"$IT_TMP/acked.all"), in the table: $(wc -l <"$IT_TMP/present"), failed attempts: $(failed)"
check "the writers had acknowledged writes across three crashes" test "$(wc -l <"$IT_TMP/acked.all")" -ge 250
if [[ -s $IT_TMP/lost ]]; then
        not_ok "every acknowledged id is present: $(wc -l <"$IT_TMP/lost") lost, e.g. $(head -n 5 "$IT_TMP/lost" | tr '\n' ' ')"
else
        ok "every acknowledged id is present"
fi
check "the table is consistent (no duplicate, index matches heap)" test \
        "$(sql "SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM acked" | tail -n 1)" = "$(wc -l <"$IT_TMP/present")"
check "still one primary container" test "$(primary_count $N)" = 1
finish
