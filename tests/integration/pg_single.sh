#!/usr/bin/env bash
# pg_single: one spec gives a PostgreSQL that the application reaches over the published port
# with the generated password (a wrong one is refused); status reports the server version, the
# endpoints and a connection string without the password. Bad input (an unknown parameter,
# max_connections: -1, allow 0.0.0.0/0 without allow_public, initial_user postgres) is each a 4xx
# naming its field, and changes nothing. work_mem is reloaded without a restart, max_connections
# restarts the server; pause stops it and keeps the data, resume brings the rows back; delete
# removes the containers and the network.
. "$(dirname "$0")/pg-lib.sh"

start_berthd main
HP=$(free_port)
N=db
C=$(primary_of $N)
NET=berth-$PROJECT-$N

spec() { # [extra spec lines, indented by two spaces] [initial_user]
        cat <<YAML
kind: pg_single
metadata: {name: $N, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  initial_db_name: shopdb
  initial_user: ${2:-shop}
  expose: {host_port: $HP}
${1:-}
YAML
}
apply() { spec "${1:-}" | berth apply -f - >/dev/null; }

apply
check "a dev spec with expose converges to RUNNING" wait_until 120 converged $N
PW=$(pg_password $N)
check "the password was generated into $N-password" test "${#PW}" -ge 16
sql() { pg_app "$HP" shopdb shop "$PW" "$@"; }
check "the application connects over 127.0.0.1:$HP with it" test "$(sql 'SELECT current_user || current_database()' 2>&1)" = shopshopdb
rc=0
out=$(pg_app "$HP" shopdb shop "not-$PW" 'SELECT 1' 2>&1) || rc=$?
check "a wrong password is refused" bash -c "[[ $rc != 0 ]] && grep -q 'password authentication failed' <<<\"\$1\"" _ "$out"
check "the port is published on 127.0.0.1 only" test \
        "$(docker port "$C" 5432/tcp 2>/dev/null | sort -u | tr '\n' ' ')" = "127.0.0.1:$HP "

J=$(pg_json $N)
check "status.server_version is 15.x" bash -c "jq -r .status.server_version <<<\"\$1\" | grep -q '^15\.'" _ "$J"
check "status.endpoints.write is 127.0.0.1:$HP" test "$(jq -r .status.endpoints.write <<<"$J")" = "127.0.0.1:$HP"
check "status.endpoints.connection_string names user, port and database" test \
        "$(jq -r .status.endpoints.connection_string <<<"$J")" = "postgresql://shop@127.0.0.1:$HP/shopdb"
check "status.endpoints.internal is set" test "$(jq -r .status.endpoints.internal <<<"$J")" = "$N:5432"
check "no part of the resource's JSON holds the password" bash -c "! grep -qF -- \"\$2\" <<<\"\$1\"" _ "$J" "$PW"
check "one node, the primary, healthy" test \
        "$(jq -r '[.status.nodes[] | "\(.role):\(.health)"] | join(",")' <<<"$J")" = primary:healthy

sql 'CREATE TABLE t (id int PRIMARY KEY, note text)' >/dev/null
sql "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g" >/dev/null
check "the application writes rows" test "$(sql 'SELECT count(*) FROM t')" = 100

# ---- bad input: each a 4xx with a code and the field, and nothing changes ----
GEN=$(generation $N)
BEFORE=$(started_at "$C")
bad() { # DESCRIPTION FIELD EXTRA-SPEC-LINES [INITIAL_USER]
        local code body
        body=$(spec "$3" "${4:-}")
        code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
                --data-binary "$body" "$BERTH_SERVER/api/v1/apply")
        if [[ $code == 4?? && -n $(jq -r '.code // empty' "$IT_TMP/body") &&
                $(jq -r .field "$IT_TMP/body") == "$2" ]]; then
                ok "$1: $code $(jq -r .code "$IT_TMP/body") on $2"
        else
                not_ok "$1: got $code $(tr '\n' ' ' <"$IT_TMP/body")"
        fi
        # The CLI says so too, with a failing exit status.
        if spec "$3" "${4:-}" | berth apply -f - >/dev/null 2>&1; then not_ok "$1: berth apply succeeded"; else ok "$1: berth apply fails"; fi
}
bad "an unknown parameter" spec.parameters.no_such_setting '  parameters: {no_such_setting: 1}'
bad "max_connections: -1" spec.parameters.max_connections '  parameters: {max_connections: -1}'
bad "allow 0.0.0.0/0 without allow_public" 'spec.allow[0]' '  allow: ["0.0.0.0/0"]'
bad "initial_user postgres" spec.initial_user '' postgres
# All or nothing per request: a good change beside a bad document is not applied either.
{
        spec '  parameters: {work_mem: 8MB}'
        echo ---
        spec '  parameters: {max_connections: -1}' | sed "s/name: $N,/name: other,/; s/host_port: $HP/host_port: $(free_port)/"
} >"$IT_TMP/two.yaml"
code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary "@$IT_TMP/two.yaml" "$BERTH_SERVER/api/v1/apply")
check "a good and a bad document together: refused ($code), naming the field" \
        test "${code:0:1}/$(jq -r .field "$IT_TMP/body")" = 4/documents[1].spec.parameters.max_connections
check "... the other resource was not created" bash -c "! \"$BERTH_BIN\" get pg_single other -p $PROJECT >/dev/null 2>&1"
sleep 2 # give a controller that wrongly acted on one of them the time to do so
check "bad input left the generation as it was" test "$(generation $N)" = "$GEN"
check "bad input left the spec as it was" test "$(pg_jq $N '"\(.spec.parameters) \(.spec.allow) \(.spec.initial_user)"')" = "{} [] shop"
check "bad input left the container as it was (same id, not restarted)" test "$(started_at "$C")" = "$BEFORE"
check "bad input created no container" test "$(containers | tr '\n' ' ')" = "$C "
check "still RUNNING" converged $N

# ---- parameters: reloaded or restarted ----
check "work_mem is 4MB by default" test "$(sql 'SHOW work_mem')" = 4MB
apply '  parameters: {work_mem: 24MB}'
work_mem_is() { [[ $(sql 'SHOW work_mem' 2>/dev/null) == "$1" ]]; }
check "work_mem: 24MB is applied" wait_until 60 work_mem_is 24MB
check "... and RUNNING on the new generation" wait_until 60 converged $N
check "... by a reload: the container was not restarted" test "$(started_at "$C")" = "$BEFORE"
check "... the rows are there" test "$(sql 'SELECT count(*) FROM t')" = 100

apply '  parameters: {work_mem: 24MB, max_connections: 42}'
max_conn_is() { [[ $(sql 'SHOW max_connections' 2>/dev/null) == "$1" ]]; }
check "max_connections: 42 is applied" wait_until 90 max_conn_is 42
check "... and RUNNING on the new generation" wait_until 60 converged $N
AFTER=$(started_at "$C")
check "... by a restart of the same container" test "${AFTER%% *}" = "${BEFORE%% *}" -a "${AFTER#* }" != "${BEFORE#* }"
check "... work_mem kept" test "$(sql 'SHOW work_mem')" = 24MB
reports_max() { [[ $(pg_jq $N .status.connections.max) == 42 ]]; }
check "... status.connections.max reports it" wait_until 60 reports_max
restart_recorded() { operations $N | jq -e '.items | any(.kind == "restart" and .state == "DONE")' >/dev/null; }
check "... the restart is an operation in history" restart_recorded

# ---- pause, resume ----
out=$(berth do pg_single $N pause --project "$PROJECT" 2>&1) || true
check "pause: PAUSED" wait_until 60 converged $N PAUSED
check "pause: the container is stopped" test "$(docker inspect -f '{{.State.Running}}' "$C" 2>/dev/null)" = false
check "pause: the data volume is kept" docker volume inspect "$PROJECT-$N-data-0"
not_answering() { ! answers "$HP" shopdb shop "$PW"; }
check "pause: the server does not answer" not_answering
sleep 2
check "pause: still stopped a moment later (not restarted by a policy)" test "$(docker inspect -f '{{.State.Running}}' "$C" 2>/dev/null)" = false
out=$(berth do pg_single $N resume --project "$PROJECT" 2>&1) || true
check "resume: RUNNING" wait_until 120 converged $N
check "resume: the application connects" wait_until 60 answers "$HP" shopdb shop "$PW"
check "resume: the rows are still there" test "$(sql 'SELECT count(*), sum(id) FROM t' 2>&1)" = "100|5050"
check "resume: the parameters are still there" test "$(sql 'SHOW max_connections' 2>&1)" = 42

# ---- delete (soft), restore, purge ----
berth delete pg_single $N --project "$PROJECT" >/dev/null 2>&1 || true
no_containers() { [[ -z $(containers) ]]; }
check "delete: the containers go" wait_until 120 no_containers
deleted() { [[ $(phase_of pg_single $N) == DELETED ]]; }
check "delete: phase DELETED" wait_until 60 deleted
kept() { docker volume ls -q --filter "label=berth.project=$PROJECT" | grep -q -- "-data-0$"; }
check "delete: the data volume is kept" kept
port_closed() { ! (exec 9<>"/dev/tcp/127.0.0.1/$HP") 2>/dev/null; }
check "delete: nothing listens on the port any more" wait_until 30 port_closed
berth do pg_single $N restore --project "$PROJECT" >/dev/null 2>&1 || true
check "restore of the deleted database: RUNNING" wait_until 120 converged $N
check "... with its rows" test "$(sql 'SELECT count(*), sum(id) FROM t' 2>&1)" = "100|5050"
berth do pg_single $N purge --project "$PROJECT" >/dev/null 2>&1 || true
gone() { [[ -z $(containers) ]] && ! docker network inspect "$NET" >/dev/null 2>&1 &&
        [[ -z $(docker volume ls -q --filter "label=berth.project=$PROJECT") ]]; }
check "purge: containers, network and volumes gone" wait_until 120 gone
api_forgot() { ! berth get pg_single $N --project "$PROJECT" >/dev/null 2>&1; }
check "purge: the resource is gone from the API" wait_until 60 api_forgot
finish
