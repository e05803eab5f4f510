#!/usr/bin/env bash
# pg_clone: a clone made from the backups while the original keeps taking writes. A writer
# inserts rows through the original's published port the whole time; a clone to a time T in the
# middle of it holds exactly the rows committed by T, and the original loses none of its own.
. "$(dirname "$0")/pg-lib.sh"

start_berthd main
HP=$(free_port)
N=src
C=dst

berth apply -f - >/dev/null <<YAML
kind: pg_single
metadata: {name: $N, project: $PROJECT}
spec:
  plan: dev_single
  initial_db_name: shop
  expose: {host_port: $HP}
  backup: {enabled: true, pitr: true}
YAML
check "the original is RUNNING" wait_until 120 converged $N
PW=$(pg_password $N)
sql() { pg_app "$HP" shop app "$PW" "$1"; }
sql 'CREATE TABLE t (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())' >/dev/null
has_backup() { [[ $(pg_jq $N '.status.backup.backups | length') -ge 1 ]]; }
check "its first backup is there" wait_until 120 has_backup

STOP=$IT_TMP/stop
writer() {
        local id=1
        : >"$IT_TMP/acked"
        while [[ ! -e $STOP ]]; do
                if PGPASSWORD=$PW PGCONNECT_TIMEOUT=3 psql "host=127.0.0.1 port=$HP dbname=shop user=app" \
                        -XAtq -v ON_ERROR_STOP=1 -c "INSERT INTO t (id) VALUES ($id)" >/dev/null 2>&1; then
                        echo "$id" >>"$IT_TMP/acked"
                        id=$((id + 1))
                fi
                sleep 0.05
        done
}
writer 3>&- &
WRITER=$!
sleep 3
T=$(now_utc)
sleep 2
out=$(berth do pg_single $N clone name=$C time=$T --project "$PROJECT" 2>&1)
check "clone to $T accepted" test $? -eq 0
log "$out"
check "the clone is RUNNING" wait_until 240 converged $C
sleep 2
touch "$STOP"
wait "$WRITER"

CP=$(primary_of $C)
csql() { pg_super "$CP" shop "$1"; }
acked=$(wc -l <"$IT_TMP/acked")
log "acknowledged inserts on the original: $acked"
check "the original has every acknowledged row" test "$(sql 'SELECT count(*) FROM t')" -ge "$acked"
missing=$(sort -n "$IT_TMP/acked" | comm -23 - <(sql 'SELECT id FROM t ORDER BY id' | sort -n) | wc -l)
check "... none missing" test "$missing" -eq 0
cn=$(csql 'SELECT count(*) FROM t')
log "rows in the clone: $cn"
check "the clone has rows" test "${cn:-0}" -gt 0
check "the clone holds nothing committed after $T" test "$(csql "SELECT count(*) FROM t WHERE at > '$T'")" = 0
# Every row the original committed a second before T is in the clone (a second of slack: a row's
# clock_timestamp() is taken just before its commit).
early=$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM t WHERE at <= timestamptz '$T' - interval '1 second'")
check "the clone has every row committed by T (less a second)" test "$(csql "SELECT count(*) FROM t WHERE id IN (${early:-0})")" -eq "$(sql "SELECT count(*) FROM t WHERE at <= timestamptz '$T' - interval '1 second'")"
ids=$(csql "SELECT string_agg(id::text, ',' ORDER BY id) FROM t")
check "the clone's rows are the original's (same ids, same times)" test "$(csql "SELECT md5(string_agg(id || '@' || at::text, ',' ORDER BY id)) FROM t")" = "$(sql "SELECT md5(string_agg(id || '@' || at::text, ',' ORDER BY id)) FROM t WHERE id IN (${ids:-0})")"
check "the original kept taking writes after T" test "$(sql "SELECT count(*) FROM t WHERE at > '$T'")" -gt 0
check "the clone is writable on its own" test "$(csql "INSERT INTO t (id) VALUES (-1) RETURNING id")" = -1
check "... and the original does not see it" test "$(sql 'SELECT count(*) FROM t WHERE id = -1')" = 0
check "the clone has its own password secret" test -n "$(pg_password $C)"
finish
