#!/usr/bin/env bash
# mysql_ha failover, done by berth. A writer loop inserts through the write port, each insert on
# a new connection, and records every insert the server acknowledged. `docker kill` of the
# primary: berth fences it, promotes the most advanced replica, re-points the other and rewrites
# the proxy; writes resume through the same port, every acknowledged row is on the new primary,
# the replicas follow it, the old primary rejoins as a replica, and the failover is history (an
# operation, an event, status.last_failover). A switchover under the writer loop loses nothing.
# A primary that dies while berthd is down (kill -9) is failed over by the restarted berthd. A
# second automatic failover within failover.min_interval waits for a human (the status says so,
# the dead primary is not restarted); the failover action then does it. Exactly one member is
# writable at the end.
. "$(dirname "$0")/mysql-lib.sh"

start_berthd main
start_client
N=db
WP=$(free_port)
RP=$(free_port)
while [[ $RP == "$WP" ]]; do RP=$(free_port); done
P0=$(member_of $N 0)

apply() { # MIN_INTERVAL
        berth apply -f - >/dev/null <<YAML
kind: mysql_ha
metadata: {name: $N, project: $PROJECT}
spec:
  topology: {replicas: 2, semi_sync: true}
  proxy: {write_port: $WP, read_port: $RP}
  failover: {automatic: true, min_interval: $1}
  initial_db_name: shop
YAML
}
apply 0s
check "1 primary + 2 replicas (semi-sync) converge to RUNNING" wait_until 150 converged $N
PW=$(my_password $N)
app_sql "$WP" "$PW" 'CREATE TABLE w (id int PRIMARY KEY, at timestamp(6) DEFAULT current_timestamp(6))' >/dev/null
check "the writer's table exists" test "$(app_sql "$WP" "$PW" 'SELECT count(*) FROM w')" = 0

# ---- kill the primary under the writer loop ----
writer_start "$WP" "$PW" 0
has_written() { [[ $(acked_count 0) -ge $1 ]]; }
check "the writer loop writes through 127.0.0.1:$WP" wait_until 20 has_written 20
KILLED=$(date +%s.%N)
docker kill "$P0" >/dev/null
moved() { [[ $(primary_name $N) != "$P0" && $(my_jq $N .status.last_failover.kind) == failover ]]; }
check "berth fails over: a new primary is recorded" wait_until 60 moved
NEW=$(primary_name $N)
log "new primary: $NEW"
resumed() { [[ $(writes_after 0 "$KILLED") -ge 10 ]]; }
check "writes resume through the same port" wait_until 60 resumed
FO=$(my_jq $N .status.last_failover)
log "failover: $FO"
log "write outage seen by the writer: $(outage 0 "$KILLED") s; berth's measures: death to proxy rewritten $(jq -r .write_downtime_ms <<<"$FO") ms, to replicas re-pointed $(jq -r .duration_ms <<<"$FO") ms"
check "the failover names its evidence (the container died)" bash -c "jq -r .reason <<<\"\$1\" | grep -q 'died (exit code 137)'" _ "$FO"
check "... the old and new primary and the GTID positions" test \
        "$(jq -r '"\(.old_index) \(.new_gtid != "") \(.old_gtid != "")"' <<<"$FO")" = "0 true true"
check "... its phases' times: detected, fenced, promoted, routed, completed" bash -c \
        "jq -e '.detected_at and .fenced_at and .promoted_at and .routed_at and .completed_at' <<<\"\$1\" >/dev/null" _ "$FO"
op_done() { operations $N | jq -e '.items | any(.kind == "failover" and .state == "DONE")' >/dev/null; }
check "... an operation 'failover', DONE" op_done
ev_done() { events $N | jq -e '.items | any(.reason == "FailoverCompleted")' >/dev/null; }
check "... an event FailoverCompleted" ev_done
settled() { converged $N && follows_all $N; }
rejoined() { [[ $(my_jq $N '[.status.members[] | select(.name == "'"$P0"'") | .role] | first') == replica ]] && follows_all $N; }
check "the old primary rejoins as a replica, and every replica follows the new primary" wait_until 90 rejoined
check "the old primary is read-only" test "$(root_sql "$P0" 'SELECT @@read_only')" = 1
check "RUNNING again" wait_until 60 converged $N

# ---- switchover under the writer loop ----
before=$(acked_count 0)
out=$(berth do mysql_ha $N switchover --project "$PROJECT" 2>&1)
REQ=$(grep -o 'request [0-9]*' <<<"$out" | awk '{print $2}')
check "switchover is queued ($out)" test -n "$REQ"
check "... and done" wait_until 60 request_done $N "$REQ" DONE
not_primary() { [[ $(primary_name $N) != "$1" ]]; }
wait_until 30 not_primary "$NEW" || true
SO=$(primary_name $N)
log "switchover: $NEW -> $SO; $(my_jq $N .status.last_failover)"
check "... to another member" test "$SO" != "$NEW"
check "... the previous primary follows it" wait_until 60 follows_all $N
more() { [[ $(acked_count 0) -ge $((before + 20)) ]]; }
check "writes go on after the switchover" wait_until 60 more
check "after the switchover, exactly one member is writable" test "$(writable_count $N)" = 1
check "every acknowledged insert so far is on the new primary ($SO)" test "$(lost 0 "$SO")" = 0

# ---- the primary dies while berthd is down: the restarted berthd fails over ----
check "RUNNING before berthd goes" wait_until 60 converged $N
kill -KILL "$BERTHD_PID_main"
KILLED=$(date +%s.%N)
docker kill "$SO" >/dev/null
sleep 1
start_berthd main
check "the restarted berthd fails over from $SO" wait_until 60 not_primary "$SO"
check "... because the container died (found on its first look, no event)" bash -c \
        "jq -r .reason <<<\"\$1\" | grep -q 'died'" _ "$(my_jq $N .status.last_failover)"
check "writes resume" wait_until 60 resumed
log "write outage across the berthd restart: $(outage 0 "$KILLED") s"
check "RUNNING again, every replica following" wait_until 90 settled
writer_stop 0
TOTAL=$(acked_count 0)
log "acknowledged inserts: $TOTAL"
PRIM=$(primary_name $N)
check "every acknowledged insert is on the primary ($PRIM): 0 lost" test "$(lost 0 "$PRIM")" = 0
caught_up() { local m; for m in $(member_of $N 0) $(member_of $N 1) $(member_of $N 2); do [[ $(lost 0 "$m") == 0 ]] || return 1; done; }
check "... and on every replica" wait_until 30 caught_up

# ---- anti-flapping ----
apply 10m
check "min_interval: 10m applied, nothing else changes" wait_until 30 converged $N
SO=$PRIM

# ---- anti-flapping: a second automatic failover within min_interval waits for a human ----
docker kill "$SO" >/dev/null
blocked() { my_jq $N .status.message | grep -q 'waiting for a human'; }
check "a second death within min_interval: no automatic failover, the status says so" wait_until 30 blocked
sleep 2
check "... the dead primary is not restarted" test "$(docker inspect -f '{{.State.Running}}' "$SO")" = false
check "... and it stays the primary of record" test "$(primary_name $N)" = "$SO"
out=$(berth do mysql_ha $N failover --project "$PROJECT" 2>&1)
REQ=$(grep -o 'request [0-9]*' <<<"$out" | awk '{print $2}')
check "the failover action, asked by a human, runs" wait_until 60 request_done $N "$REQ" DONE
check "... a new primary" wait_until 30 not_primary "$SO"
check "... RUNNING with every replica following it" wait_until 90 settled
check "exactly one member is writable" test "$(writable_count $N)" = 1
check "the failover history holds all four (newest first)" test \
        "$(my_jq $N '[.status.failovers[].kind] | join(",")')" = failover,failover,switchover,failover

finish
