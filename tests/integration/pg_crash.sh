#!/usr/bin/env bash
# pg_crash: the controller killed (kill -9 berthd) at random points while it provisions a
# pg_single, in the middle of a scheduled and of a requested backup, and during restores (once
# at a random moment, once while the one-shot restore container runs); each time it is restarted
# on the same data dir and converges: RUNNING, exactly one primary container, the same data
# volume, the generated password the one the server takes, every row committed before the
# restore request still there, no one-shot restore container left behind, and no operation left
# IN_PROGRESS for ever by the pass that died.
. "$(dirname "$0")/pg-lib.sh"

start_berthd main
HP=$(free_port)
N=crashdb
P=$(primary_of $N)

# rand_delay MIN_MS MAX_MS: a random sleep argument in seconds.
rand_delay() {
        local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
        printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}
kill_controller() { # why
        kill -KILL "$BERTHD_PID_main"
        wait "$BERTHD_PID_main" 2>/dev/null || true
        log "killed berthd ($1): containers now: $(containers | tr '\n' ' ')"
}

apply() { # BACKUP_ENABLED
        berth apply -f - >/dev/null <<YAML
kind: pg_single
metadata: {name: $N, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: appdb
  expose: {host_port: $HP}
  backup: {enabled: $1, pitr: $1}
YAML
}
# no_op_in_progress: the operations history holds nothing unfinished (a predicate); after a
# failed wait, stuck_ops prints what is.
no_op_in_progress() { [[ $(operations $N | jq '[.items[] | select(.state == "IN_PROGRESS")] | length') == 0 ]]; }
stuck_ops() { operations $N | jq -c '[.items[] | select(.state == "IN_PROGRESS") | {id, kind, actor, started_at}]'; }
op_in_progress() { # KIND ACTOR
        operations $N | jq -e --arg k "$1" --arg a "$2" 'any(.items[]; .kind == $k and .actor == $a and .state == "IN_PROGRESS")' >/dev/null
}
apply false

# ---- provisioning: three kills at random moments in the first seconds ----
for round in 1 2 3; do
        d=$(rand_delay 0 2000)
        sleep "$d"
        kill_controller "provisioning, round $round, after ${d}s"
        start_berthd main
done
check "after three kills during provisioning: RUNNING" wait_until 180 converged $N
check "exactly one primary container" test "$(primary_count $N)" = 1
check "no other container" test "$(containers | tr '\n' ' ')" = "$P "
check "exactly one data volume and one backup volume" test \
        "$(docker volume ls -q --filter "label=berth.project=$PROJECT" | sort | tr '\n' ' ')" = \
        "$PROJECT-$N-backup-0 $PROJECT-$N-data-0 "
PW=$(pg_password $N)
sql() { pg_app "$HP" appdb app "$PW" "$@"; }
check "the application connects with the password in the secret" wait_until 60 answers "$HP" appdb app "$PW"
VOL=$(docker volume inspect -f '{{.CreatedAt}}' "$PROJECT-$N-data-0")
SYSID=$(pg_super "$P" postgres 'SELECT system_identifier FROM pg_control_system()')
check "the data directory has a system identifier ($SYSID)" test -n "$SYSID"
# pgBackRest's own view (berth's status refreshes it only every 30 s).
repo_backups() {
        docker exec "$P" setpriv --reuid=postgres --regid=postgres --init-groups pgbackrest \
                --config=/etc/berth/pgbackrest.conf --stanza=main --output=json info 2>/dev/null |
                jq '[.[].backup[]] | length'
}
has_backup() { (($(repo_backups) >= 1)); }

# ---- killed in the middle of the first, scheduled backup ----
apply true
check "backups enabled: the scheduled backup begins" wait_until 120 op_in_progress backup controller
kill_controller "during the scheduled backup"
start_berthd main
check "the first backup is in the repository" wait_until 120 has_backup
check "RUNNING" wait_until 120 converged $N
if wait_until 20 no_op_in_progress; then ok "the interrupted backup operation is not left IN_PROGRESS"
else not_ok "the interrupted backup operation is not left IN_PROGRESS: $(stuck_ops)"; fi

# ---- killed in the middle of a requested backup ----
RID=$(queue $N backup '{"type":"full"}')
check "a backup is queued (request ${RID:-none})" test -n "$RID"
check "... it begins" wait_until 120 op_in_progress backup "$(requests $N | jq -r --argjson id "${RID:-0}" '.items[] | select(.id == $id) | .actor')"
kill_controller "during a requested backup"
start_berthd main
check_request "the request ends DONE" $N "$RID" DONE 120
two_backups() { (($(repo_backups) >= 2)); }
check "a second backup is in the repository" wait_until 60 two_backups
OPID=$(requests $N | jq -r --argjson id "${RID:-0}" '.items[] | select(.id == $id) | .operation // 0')
op_state() { operations $N | jq -r --argjson id "$1" '.items[] | select(.id == $id) | .state'; }
check "the requested backup's operation ($OPID) ended DONE" test "$(op_state "${OPID:-0}")" = DONE

# ---- restores: rows written, a restore to the latest point queued, berthd killed ----
sql 'CREATE TABLE t (id int PRIMARY KEY, round int)' >/dev/null
next=1
for round in 1 2; do
        # Several transactions; everything acknowledged here must survive the restore.
        for _ in 1 2 3 4 5; do
                sql "INSERT INTO t SELECT g, $round FROM generate_series($next, $((next + 99))) g" >/dev/null
                next=$((next + 100))
        done
        WANT=$(sql "SELECT count(*) || ' ' || sum(id) FROM t")
        BEFORE=$(started_at "$P")
        RID=$(queue $N restore '{}')
        if [[ -z $RID ]]; then
                not_ok "round $round: restore to the latest point queued"
                continue
        fi
        if ((round == 1)); then
                d=$(rand_delay 200 1500)
                sleep "$d"
                when="after ${d}s"
        else
                restoring() { docker inspect "$PROJECT-$N-restore-0" >/dev/null 2>&1; }
                wait_until 60 restoring || log "round $round: no restore container seen"
                when="while the restore container exists"
        fi
        kill_controller "restore round $round, $when"
        start_berthd main
        check_request "round $round (killed $when): the restore request ends DONE" $N "$RID" DONE 180
        promoted() { [[ $(sql 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]]; }
        check "round $round: the server is back, out of recovery" wait_until 180 promoted
        check "round $round: RUNNING" wait_until 180 converged $N
        check "round $round: the server was restored (restarted)" test "$(started_at "$P")" != "$BEFORE"
        got=$(sql "SELECT count(*) || ' ' || sum(id) FROM t" 2>&1 | tr '\n' ' ')
        got=${got% }
        check "round $round: every row committed before the request is there ($WANT; got $got)" test "$got" = "$WANT"
        check "round $round: exactly one primary container" test "$(primary_count $N)" = 1
        no_restore_container() { [[ $(containers | tr '\n' ' ') == "$P " ]]; }
        check "round $round: no container but the primary (the one-shot restore one is gone)" wait_until 60 no_restore_container
        check "round $round: the same data volume" test "$(docker volume inspect -f '{{.CreatedAt}}' "$PROJECT-$N-data-0")" = "$VOL"
        check "round $round: the same database (system identifier)" test \
                "$(pg_super "$P" postgres 'SELECT system_identifier FROM pg_control_system()')" = "$SYSID"
        sql "INSERT INTO t VALUES ($((next + 100000)), -1)" >/dev/null 2>&1 || true
        check "round $round: it takes writes" test "$(sql "SELECT count(*) FROM t WHERE round = -1")" = "$round"
done

if wait_until 20 no_op_in_progress; then ok "in the end no operation is left IN_PROGRESS"
else not_ok "in the end no operation is left IN_PROGRESS: $(stuck_ops)"; fi
finish
