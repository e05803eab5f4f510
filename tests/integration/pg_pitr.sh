#!/usr/bin/env bash
# pg_pitr: backups and point-in-time recovery with pgBackRest. With backup.enabled and pitr, a
# first full backup appears by itself; batch A is written and a full backup taken on request;
# then batches B and C with times t1 < t2 < t3 between them. A restore to t2 gives exactly the
# rows of A and B (a writable primary, out of recovery); a restore to the label of the backup
# taken after A gives exactly A; one to the latest point keeps what was written since (WAL on the
# newest timeline); one to the first backup, taken before the table, has no table. Every restore
# is an operation in history, DONE. Restores that cannot be done (a time before the oldest
# backup, a label not in the repository) fail and change nothing; on a spec without pitr a
# restore to a time is refused (the request FAILED with the reason) and changes nothing. Last,
# two restores to a time that must work: on a quiet database (no commit after the target), and
# on the timeline a restore to an older backup began.
. "$(dirname "$0")/pg-lib.sh"

start_berthd main
HP=$(free_port)
N=pit
P=$(primary_of $N)
Q=nopitr
QP=$(primary_of $Q)

berth apply -f - >/dev/null <<YAML
kind: pg_single
metadata: {name: $N, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: ledger
  expose: {host_port: $HP}
  backup: {enabled: true, pitr: true}
---
kind: pg_single
metadata: {name: $Q, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: ledger
  backup: {enabled: true, pitr: false}
---
kind: pg_single
metadata: {name: idle, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: ledger
  backup: {enabled: true, pitr: true}
YAML
check "$N (backups, pitr) is RUNNING" wait_until 120 converged $N
check "$Q (backups, no pitr) is RUNNING" wait_until 120 converged $Q
PW=$(pg_password $N)
sql() { pg_app "$HP" ledger app "$PW" "$@"; }
n_backups() { pg_jq "$1" '.status.backup.backups | length'; }
backups_at_least() { (($(n_backups "$1") >= $2)); }
check "a first full backup appears by itself" wait_until 120 backups_at_least $N 1
check "... it is a full one" test "$(pg_jq $N '.status.backup.backups[0].type')" = full
check "... status.backup.last_successful is set" test "$(pg_jq $N '.status.backup.last_successful // "null"')" != null

# rows BATCH FIRST LAST: one transaction per batch.
rows() { sql "INSERT INTO t SELECT g, '$1' FROM generate_series($2, $3) g" >/dev/null; }
content() { sql "SELECT coalesce(string_agg(b || ':' || n, ' ' ORDER BY b), 'empty') FROM (SELECT batch b, count(*) n FROM t GROUP BY batch) x" 2>&1; }
sql 'CREATE TABLE t (id int PRIMARY KEY, batch text NOT NULL)' >/dev/null
rows A 1 100
check "batch A written" test "$(content)" = "A:100"

# A full backup of A, on request.
RB=$(queue $N backup '{"type":"full"}')
check "a backup is queued (request ${RB:-none})" test -n "$RB"
check_request "... and DONE" $N "$RB" DONE 120
check "... the backup shows in status" wait_until 90 backups_at_least $N 2
LABEL_A=$(pg_jq $N '.status.backup.backups[-1].label')
check "... a full backup with a label ($LABEL_A)" test "$(pg_jq $N '.status.backup.backups[-1].type')" = full

sleep 1.1
T1=$(now_utc)
sleep 1.1
rows B 101 200
sleep 1.1
T2=$(now_utc)
sleep 1.1
rows C 201 300
sleep 1.1
T3=$(now_utc)
log "t1=$T1 t2=$T2 t3=$T3 backup of A: $LABEL_A"
check "batches B and C written" test "$(content)" = "A:100 B:100 C:100"

# Make sure the WAL holding C (past t2) is in the repository: switch segments, wait for the
# archiver to have pushed the one that was current.
SEG=$(pg_super "$P" postgres "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [[ $(pg_super "$P" postgres "SELECT coalesce(last_archived_wal, '') >= '$SEG' FROM pg_stat_archiver") == t ]]; }
check "the WAL segment with batch C ($SEG) is archived" wait_until 90 archived

# ---- restore to t2: exactly A and B ----
BEFORE=$(started_at "$P")
out=$(berth do pg_single $N restore time="$T2" --project "$PROJECT" 2>&1) || true
R1=$(grep -o 'request [0-9]*' <<<"$out" | grep -o '[0-9]*' || true)
[[ -n $R1 ]] || log "berth do restore: $out"
check "restore time=t2 is queued (request ${R1:-none})" test -n "$R1"
check_request "... and DONE" $N "$R1" DONE 180
# DONE is recorded once the data directory is restored; the server then recovers to the target
# (answering read-only queries meanwhile: hot_standby) and promotes.
promoted() { [[ $(sql 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]]; }
check "... the server recovers and is promoted" wait_until 180 promoted
check "... RUNNING again" wait_until 180 converged $N
check "... the server was restarted (it was restored)" test "$(started_at "$P")" != "$BEFORE"
check "restore to t2: exactly the rows of A and B" test "$(content)" = "A:100 B:100"
check "... ids 1..200, none missing" test "$(sql "SELECT count(*) || ' ' || min(id) || ' ' || max(id) FROM t")" = "200 1 200"
sql "INSERT INTO t VALUES (1000, 'D')" >/dev/null 2>&1 || true
check "... and takes writes" test "$(content)" = "A:100 B:100 D:1"
check "... one primary container" test "$(primary_count $N)" = 1

# ---- restore to the backup taken after A: exactly A (on a third timeline) ----
R2=$(queue $N restore "{\"backup\":\"$LABEL_A\"}")
check "restore backup=$LABEL_A is queued (request ${R2:-none})" test -n "$R2"
check_request "... and DONE" $N "$R2" DONE 180
check "... the server recovers and is promoted" wait_until 180 promoted
check "... RUNNING again" wait_until 180 converged $N
check "restore to the backup of A: exactly the rows of A" test "$(content)" = "A:100"
sql "INSERT INTO t VALUES (2000, 'E')" >/dev/null 2>&1 || true
check "... and takes writes" test "$(content)" = "A:100 E:1"

# ---- restore to the latest point the repository holds: E is kept (WAL on the newest timeline) ----
SEG=$(pg_super "$P" postgres "SELECT pg_walfile_name(pg_switch_wal())")
check "the WAL segment with E ($SEG) is archived" wait_until 90 archived
R3=$(queue $N restore '{}')
check "restore to the latest point is queued (request ${R3:-none})" test -n "$R3"
check_request "... and DONE" $N "$R3" DONE 180
check "... the server recovers and is promoted" wait_until 180 promoted
check "... RUNNING again" wait_until 180 converged $N
check "restore to the latest point: A and E, nothing lost" test "$(content)" = "A:100 E:1"

# ---- restore to the first backup, taken before the table existed ----
FIRST=$(pg_jq $N '.status.backup.backups[0].label')
R4=$(queue $N restore "{\"backup\":\"$FIRST\"}")
check "restore backup=$FIRST (the first one) is queued (request ${R4:-none})" test -n "$R4"
check_request "... and DONE" $N "$R4" DONE 180
check "... the server recovers and is promoted" wait_until 180 promoted
check "... RUNNING again" wait_until 180 converged $N
check "restore to the first backup: the table did not exist yet" test "$(sql "SELECT to_regclass('public.t') IS NULL")" = t
check "... the application's user and database are there" test "$(sql 'SELECT current_user')" = app

# ---- restores that cannot be done change nothing ----
sql 'CREATE TABLE keep (id int); INSERT INTO keep SELECT generate_series(1, 10)' >/dev/null
BEFORE=$(started_at "$P")
OLDEST=$(pg_jq $N '.status.backup.backups[0].started_at')
EARLY=$(date -u -d "$OLDEST - 1 hour" +%Y-%m-%dT%H:%M:%SZ)
early_refused() {
        local out
        out=$(curl -sS -o "$IT_TMP/early.json" -w '%{http_code}' -X POST \
                -H 'Content-Type: application/json' --data-binary "{\"time\":\"$EARLY\"}" \
                "$BERTH_SERVER/api/v1/resources/pg_single/$N/actions/restore?project=$PROJECT")
        [[ $out == 422 ]] && [[ $(jq -r .field "$IT_TMP/early.json") == params.time ]]
}
check "restore to a time before the oldest backup: 422 naming params.time" early_refused
log "its message: $(jq -r .message "$IT_TMP/early.json")"
check "... the server was not touched" test "$(started_at "$P")" = "$BEFORE"
R6=$(queue $N restore '{"backup":"20200101-000000F"}')
check "restore to a label that is not in the repository is queued (request ${R6:-none})" test -n "$R6"
check_request "... and FAILED" $N "$R6" FAILED 120
log "its message: $(requests $N | jq -r --argjson id "${R6:-0}" '.items[] | select(.id == $id) | .message')"
check "... the server runs again" wait_until 120 promoted
check "... RUNNING" wait_until 120 converged $N
check "... the data is as it was" test "$(sql 'SELECT count(*) FROM keep')" = 10

restores_done() { [[ $(operations $N | jq '[.items[] | select(.kind == "restore" and .state == "DONE")] | length') -ge 4 ]]; }
check "operations: the four restores DONE" restores_done
check "operations: none FAILED but the bad label's restore" test "$(operations $N | jq '[.items[] | select(.state == "FAILED")] | length')" -le 1

# ---- a restore to a time without pitr: refused, nothing changes ----
qsql() { pg_super "$QP" ledger "$1"; }
qsql 'CREATE TABLE t (id int PRIMARY KEY)' >/dev/null
qsql 'INSERT INTO t SELECT generate_series(1, 50)' >/dev/null
check "$Q has a backup" wait_until 120 backups_at_least $Q 1
QBEFORE=$(started_at "$QP")
RQ=$(queue $Q restore "{\"time\":\"$(now_utc)\"}")
check "$Q: restore time=... is accepted as a request (${RQ:-none})" test -n "$RQ"
check_request "$Q: ... and then FAILED" $Q "$RQ" FAILED 60
msg=$(requests $Q | jq -r --argjson id "${RQ:-0}" '.items[] | select(.id == $id) | .message' | tr '\n' ' ')
check "$Q: ... saying why ($msg)" contains "$msg" pitr
check "$Q: the server was not touched" test "$(started_at "$QP")" = "$QBEFORE"
check "$Q: the rows are there" test "$(qsql 'SELECT count(*) FROM t')" = 50
check "$Q: still RUNNING" converged $Q
check "$Q: no restore operation" test "$(operations $Q | jq '[.items[] | select(.kind == "restore")] | length')" = 0
refused_event() { berth events pg_single $Q --project "$PROJECT" 2>/dev/null | grep -q RequestRefused; }
check "$Q: an event says so" refused_event

# after_restore DESCRIPTION NAME PRIMARY SQLFN WANT CHECK_SQL: waits for the server to be
# promoted or given up (Docker restarted it 3 times since RBASE), then checks RUNNING and the
# rows; on failure the server's last lines go to the log.
after_restore() {
        local what=$1 name=$2 prim=$3 fn=$4 want=$5 q=$6
        up() { [[ $($fn 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]]; }
        looping() { (($(restarts "$prim") >= RBASE + 3)); } # Docker keeps restarting it
        up_or_looping() { up || looping; }
        wait_until 90 up_or_looping || true
        if up; then
                ok "$what: the server recovers and is promoted"
                check "$what: RUNNING again" wait_until 60 converged "$name"
                check "$what: the rows are as they were then ($want)" test "$($fn "$q" 2>&1 | tr '\n' ' ')" = "$want"
        else
                not_ok "$what: the server recovers and is promoted: phase $(pg_jq "$name" .status.phase), $(restarts "$prim") restarts: $(pg_jq "$name" .status.message | tr '\n' ' ' | cut -c1-200)"
                log "$what: the primary's last lines:"
                docker logs --tail 6 "$prim" 2>&1 | cut -c1-220 | sed 's/^/#   /' >&2
                not_ok "$what: RUNNING again"
                not_ok "$what: the rows are as they were then"
        fi
}

# ---- a restore to a time after the last commit (nothing written since) keeps everything ----
# On its own resource, on its first timeline. PostgreSQL ends a recovery to a time only at a
# commit past the target; on a quiet database there is none unless the restore makes one.
I=idle
IP=$(primary_of $I)
isql() { pg_super "$IP" ledger "$1"; }
check "$I is RUNNING" wait_until 60 converged $I
check "$I has a backup" wait_until 120 backups_at_least $I 1
isql 'CREATE TABLE quiet (id int); INSERT INTO quiet SELECT generate_series(1, 10)' >/dev/null
sleep 1.1
TQ=$(now_utc)
sleep 1.1
RBASE=$(restarts "$IP")
RI=$(queue $I restore "{\"time\":\"$TQ\"}")
check "$I: restore to a time after its last commit is queued (request ${RI:-none})" test -n "$RI"
check_request "$I: ... and DONE" $I "$RI" DONE 120
after_restore "$I: restore to a quiet time" $I "$IP" isql "10 " 'SELECT count(*) FROM quiet'

# ---- a restore to a time after a restore to an older backup ----
# $N is on the timeline that the restore to its first backup began; the backup of A belongs to
# the abandoned one (taken after the fork), so it cannot be the base of a recovery along it.
sql 'CREATE TABLE later (id int, b text); INSERT INTO later VALUES (1, '"'F'"')' >/dev/null
sleep 1.1
TF=$(now_utc)
sleep 1.1
sql "INSERT INTO later VALUES (2, 'G')" >/dev/null
SEG=$(pg_super "$P" postgres "SELECT pg_walfile_name(pg_switch_wal())")
check "the WAL segment with G ($SEG) is archived" wait_until 90 archived
RBASE=$(restarts "$P")
RF=$(queue $N restore "{\"time\":\"$TF\"}")
check "restore to a time on the newest timeline is queued (request ${RF:-none})" test -n "$RF"
check_request "... and DONE" $N "$RF" DONE 120
after_restore "restore to a time after a restore to an older backup" $N "$P" sql "F " "SELECT string_agg(b, ',' ORDER BY id) FROM later"
finish
