#!/usr/bin/env bash
# pg_cluster: a 3-member synchronous Patroni cluster (etcd, HAProxy) comes up RUNNING; a writer
# loop through the write port records every acknowledged insert; `docker kill` of the primary:
# writes resume through the same port, no acknowledged row is lost, the old primary rejoins as a
# replica, the failover is in the operations; a switchover under the writer: nothing lost, one
# writable member; berthd killed before the primary: Patroni fails over alone and berth records it
# when it is back; bad input is refused with a 4xx and changes nothing. The measured write
# outages are printed as TAP comments (no timing is asserted).
. "$(dirname "$0")/lib.sh"

start_berthd main

NAME=orders
WRITE_PORT=$(free_port)
READ_PORT=$(free_port)
# Docker names the containers <project>-<name>-<role>-<index>.
member() { printf '%s-%s-pg-%s' "$PROJECT" "$NAME" "$1"; }

tap_comment() { printf '# %s\n' "$*" >&3; }

pgc_json() { berth get pg_cluster "$NAME" --project "$PROJECT" -o json 2>/dev/null; }
pgc_jq() { pgc_json | jq -r "$1"; }

converged() {
        local j
        j=$(pgc_json) || return 1
        [[ $(jq -r '"\(.status.phase) \(.status.observed_generation == .metadata.generation)"' <<<"$j") == "${1:-RUNNING} true" ]]
}

password() { berth secret get "$NAME-password" --project "$PROJECT" 2>/dev/null; }

# app PORT SQL: psql as the application over 127.0.0.1:PORT.
app() {
        PGPASSWORD=$PW PGCONNECT_TIMEOUT=3 psql "host=127.0.0.1 port=$1 dbname=$NAME user=app" \
                -XAtq -v ON_ERROR_STOP=1 -c "$2"
}

# super INDEX SQL: psql as postgres inside member INDEX.
super() { docker exec "$(member "$1")" psql -h /tmp -U postgres -d "$NAME" -XAtq -c "$2"; }

# writable_count: members that are out of recovery (must be exactly one).
writable_count() {
        local n=0 i
        for i in 0 1 2; do
                [[ $(super "$i" 'SELECT pg_is_in_recovery()' 2>/dev/null) == f ]] && n=$((n + 1))
        done
        echo "$n"
}

newest_failover_from() { [[ $(pgc_jq '.status.failovers[0].old_primary') == "$1" ]]; }
is_replica() { [[ $(super "$1" 'SELECT pg_is_in_recovery()' 2>/dev/null) == t ]]; }
leader_is_not() { local l; l=$(pgc_jq .status.leader); [[ -n $l && $l != null && $l != "$1" ]]; }
op_done() { # KIND COUNT: at least COUNT operations of KIND are DONE
        [[ $(curl -sS "$BERTH_SERVER/api/v1/resources/pg_cluster/$NAME/operations?project=$PROJECT" |
                jq --arg k "$1" '[.items[] | select(.kind == $k and .state == "DONE")] | length') -ge $2 ]]
}

# writer FILE FIRST COUNT: inserts ids FIRST.. through the write port, a new connection each
# (as an application reconnecting would), appending "id epoch" for every acknowledged one.
writer() {
        local file=$1 i=$2 end=$(($2 + $3))
        while ((i < end)); do
                if PGPASSWORD=$PW PGCONNECT_TIMEOUT=2 psql \
                        "host=127.0.0.1 port=$WRITE_PORT dbname=$NAME user=app" -XAtq \
                        -c "INSERT INTO acked (id) VALUES ($i)" >/dev/null 2>&1; then
                        printf '%s %s\n' "$i" "$(date +%s.%N)" >>"$file"
                fi
                i=$((i + 1))
                sleep 0.05
        done
}

# outage FILE T0: seconds from T0 to the first acknowledgement after the longest gap that ends
# after T0 (the write outage a client reconnecting every 50 ms saw).
outage() {
        awk -v k="$2" '{ if (prev != "" && $2 > k && ($2 - prev) > best) { best = $2 - prev; at = $2 } prev = $2 }
                END { if (at) printf "%.2f\n", at - k; else print "n/a" }' "$1"
}

acks_after() { awk -v k="$2" '$2 > k { n++ } END { exit !(n >= 3) }' "$1"; }

# all_acked_present FILE...: every acknowledged id is in the table (read from the leader).
all_acked_present() {
        local want have missing
        want=$(cat "$@" | awk '{ print $1 }' | sort -n | uniq)
        have=$(app "$WRITE_PORT" 'SELECT id FROM acked ORDER BY id' | sort -n)
        missing=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$have") | grep -c . || true)
        log "acknowledged $(printf '%s\n' "$want" | grep -c .), in the table $(printf '%s\n' "$have" | grep -c .), missing $missing"
        [[ $missing -eq 0 ]]
}

# ---- bad input: 4xx, nothing stored -------------------------------------------------------------

bad_apply() { # EXPECTED_FIELD SPEC_YAML: the apply answers 4xx naming the field
        local body code field
        body=$(printf 'kind: pg_cluster\nmetadata: {name: bad, project: %s}\nspec: %s\n' "$PROJECT" "$2")
        code=$(curl -sS -o "$IT_TMP/bad.json" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
                --data-binary "$body" "$BERTH_SERVER/api/v1/apply")
        field=$(jq -r .field "$IT_TMP/bad.json")
        log "bad apply $2: $code $(jq -r .message "$IT_TMP/bad.json")"
        [[ $code == 4* && $field == "$1" ]]
}
check "standbys: 0 with sync is refused, explained" \
        bad_apply spec.topology.standbys '{topology: {standbys: 0, replication_mode: sync}}'
check "the refusal explains sync" grep -q 'replication_mode: async' "$IT_TMP/bad.json"
check "dcs_members: 2 is refused" bad_apply spec.ha.dcs_members '{ha: {dcs_members: 2}}'
check "equal write and read ports are refused" \
        bad_apply spec.endpoints.read_port '{endpoints: {write_port: 7000, read_port: 7000}}'
check "ttl under loop_wait + 2 × retry_timeout is refused" \
        bad_apply spec.ha.ttl '{ha: {ttl: 5, loop_wait: 2, retry_timeout: 3}}'
not_stored() { ! berth get pg_cluster bad --project "$PROJECT" >/dev/null 2>&1; }
check "nothing was stored" not_stored

# ---- a 3-member synchronous cluster ------------------------------------------------------------

t0=$SECONDS
apply_yaml >/dev/null <<EOF
kind: pg_cluster
metadata: {name: $NAME, project: __PROJECT__}
spec:
  topology: {standbys: 2, replication_mode: sync}
  ha: {dcs_members: 1}
  endpoints: {write_port: $WRITE_PORT, read_port: $READ_PORT}
EOF
check "the cluster becomes RUNNING" wait_until 300 converged
tap_comment "apply to RUNNING: $((SECONDS - t0)) s"
check "one etcd, three members and a proxy run" running_is 5
PW=$(password)
check "the generated password is a secret" test -n "$PW"
check "the write port reaches the primary" \
        test "$(app "$WRITE_PORT" 'SELECT pg_is_in_recovery()')" = f
check "the read port reaches a standby" \
        test "$(app "$READ_PORT" 'SELECT pg_is_in_recovery()')" = t
check "exactly one member is writable" test "$(writable_count)" = 1
check "status names a synchronous standby" test "$(pgc_jq .status.sync_standby)" != null
check "endpoints: the write port, no password" \
        test "$(pgc_jq .status.endpoints.connection_string)" = "postgresql://app@127.0.0.1:$WRITE_PORT/$NAME"
check "the password is not in patroni.yml" \
        bash -c "! docker exec $(member 0) grep -q '$PW' /etc/berth/patroni.yml"
app "$WRITE_PORT" 'CREATE TABLE acked (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())'

# ---- docker kill of the primary under the writer -----------------------------------------------

kill_round() { # N: kill the leader while the writer runs
        local n=$1 old file=$IT_TMP/acked-kill-$1 wp t
        old=$(pgc_jq .status.leader)
        writer "$file" $((n * 100000)) 300 3>&- &
        wp=$!
        wait_until 30 acks_after "$file" 0
        t=$(date +%s.%N)
        docker kill "$PROJECT-$NAME-$old" >/dev/null
        check "kill $n: writes resume through the same port" wait_until 60 acks_after "$file" "$t"
        wait "$wp"
        tap_comment "kill $n ($old): write outage $(outage "$file" "$t") s (kill to first acknowledged write through the write port)"
        check "kill $n: a new leader" leader_is_not "$old"
        check "kill $n: every acknowledged row is there" all_acked_present "$IT_TMP"/acked-*
        check "kill $n: the old primary rejoins as a replica" wait_until 120 is_replica "${old#pg-}"
        check "kill $n: RUNNING again" wait_until 120 converged
        check "kill $n: exactly one writable member" test "$(writable_count)" = 1
        check "kill $n: the failover is in the operations" wait_until 30 op_done failover "$n"
        check "kill $n: status.failovers names the old primary" wait_until 30 newest_failover_from "$old"
        log "kill $n: $(pgc_jq '.status.failovers[0] | tojson')"
}
kill_round 1
kill_round 2

# ---- berthd down: Patroni fails over alone, berth records it when it is back ------------------

old=$(pgc_jq .status.leader)
file=$IT_TMP/acked-alone
kill -KILL "$BERTHD_PID_main"
writer "$file" 700000 600 3>&- &
wp=$!
wait_until 30 acks_after "$file" 0
t=$(date +%s.%N)
docker kill "$PROJECT-$NAME-$old" >/dev/null
check "berthd down: Patroni fails over alone, writes resume" wait_until 90 acks_after "$file" "$t"
tap_comment "berthd down, kill ($old): write outage $(outage "$file" "$t") s (Patroni's TTL alone: ha.ttl 10s)"
kill "$wp" 2>/dev/null || true
wait "$wp" 2>/dev/null || true
start_berthd main
check "berthd back: the failover it missed is recorded" wait_until 60 op_done failover 3
check "berthd back: it names the old primary" wait_until 30 newest_failover_from "$old"
check "berthd back: every acknowledged row is there" all_acked_present "$IT_TMP"/acked-*
check "berthd back: the old primary rejoins as a replica" wait_until 120 is_replica "${old#pg-}"
check "berthd back: RUNNING again" wait_until 120 converged
check "berthd back: exactly one writable member" test "$(writable_count)" = 1
log "berthd down: $(pgc_jq '.status.failovers[0] | tojson')"

# ---- switchover under the writer ---------------------------------------------------------------

old=$(pgc_jq .status.leader)
file=$IT_TMP/acked-switchover
writer "$file" 900000 200 3>&- &
wp=$!
wait_until 30 acks_after "$file" 0
t=$(date +%s.%N)
check "switchover is accepted" berth do pg_cluster "$NAME" switchover --project "$PROJECT"
check "switchover: a new leader" wait_until 60 leader_is_not "$old"
wait "$wp"
tap_comment "switchover ($old): write outage $(outage "$file" "$t") s"
check "switchover: every acknowledged row is there" all_acked_present "$IT_TMP"/acked-*
check "switchover: exactly one writable member" test "$(writable_count)" = 1
check "switchover: recorded as such" wait_until 30 op_done switchover 1
check "switchover: RUNNING again" wait_until 120 converged
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary '{"candidate": "pg-9"}' \
        "$BERTH_SERVER/api/v1/resources/pg_cluster/$NAME/actions/switchover?project=$PROJECT")
check "switchover to a member that does not exist: 422" test "$code" = 422

# ---- delete --------------------------------------------------------------------------------------

check "delete is accepted" berth delete pg_cluster "$NAME" --project "$PROJECT"
check "every container goes" wait_until 120 total_is 0
check "its volumes go" wait_until 60 bash -c \
        "[[ -z \$(docker volume ls -q --filter label=berth.project=$PROJECT) ]]"

finish
