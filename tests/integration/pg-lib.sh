# shellcheck shell=bash
# Helpers shared by the pg_single scenarios (tests/integration/pg_*.sh), on top of lib.sh: the
# resource's JSON, its generated password, SQL through the published port (as the application
# would) and as the superuser inside a container (as an operator would), and predicates for
# wait_until.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pg_json NAME: the resource (spec + status) as JSON; fails when the API does not answer.
pg_json() { berth get pg_single "$1" --project "$PROJECT" -o json 2>/dev/null; }

# pg_jq NAME FILTER: one value of the resource (jq -r).
pg_jq() { pg_json "$1" | jq -r "$2"; }

# pg_password NAME: the generated password (secret NAME-password).
pg_password() { berth secret get "$1-password" --project "$PROJECT" 2>/dev/null; }

primary_of() { printf '%s-%s-primary-0' "$PROJECT" "$1"; }
replica_of() { printf '%s-%s-replica-%s' "$PROJECT" "$1" "$2"; }

# pg_app PORT DB USER PASSWORD SQL...: psql over 127.0.0.1:PORT, one value per line, stops at
# the first error. Short timeouts so a dead server fails a poll instead of hanging it.
pg_app() {
        local port=$1 db=$2 user=$3 pw=$4
        shift 4
        PGPASSWORD=$pw PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$port dbname=$db user=$user" \
                -XAtq -v ON_ERROR_STOP=1 -c "$@"
}

# pg_super CONTAINER DB SQL: psql as postgres over the container's unix socket.
pg_super() {
        docker exec "$1" psql -h /tmp -U postgres -d "$2" -XAtq -v ON_ERROR_STOP=1 -c "$3"
}

# converged NAME [PHASE]: the controller acted on the current generation and reports PHASE
# (default RUNNING). A predicate for wait_until.
converged() {
        local j
        j=$(pg_json "$1") || return 1
        [[ $(jq -r '"\(.status.phase) \(.status.observed_generation == .metadata.generation)"' <<<"$j") == "${2:-RUNNING} true" ]]
}

# restarts CONTAINER: how often Docker's restart policy restarted it.
restarts() { docker inspect -f '{{.RestartCount}}' "$1" 2>/dev/null || echo 0; }

# generation NAME: metadata.generation.
generation() { pg_jq "$1" .metadata.generation; }

# started_at CONTAINER: id and start time (a restart changes the second, a re-create both).
started_at() { docker inspect -f '{{.Id}} {{.State.StartedAt}}' "$1" 2>/dev/null; }

# answers PORT DB USER PASSWORD: the server accepts the application's connections.
answers() { [[ $(pg_app "$1" "$2" "$3" "$4" 'SELECT 1' 2>/dev/null) == 1 ]]; }

# super_answers CONTAINER: the server answers the superuser (in and out of recovery).
super_answers() { [[ $(pg_super "$1" postgres 'SELECT 1' 2>/dev/null) == 1 ]]; }

# primary_count NAME: containers of the resource with the role primary (any state).
primary_count() {
        docker ps -a --filter "label=berth.project=$PROJECT" --filter "label=berth.role=primary" \
                --format '{{.Names}}' | grep -c -- "-$1-primary-" || true
}

# operations NAME: the operations history (JSON: {"items": [...]}).
operations() {
        curl -sS "$BERTH_SERVER/api/v1/resources/pg_single/$1/operations?project=$PROJECT"
}

# requests NAME: the queued actions (JSON: {"items": [...]}).
requests() {
        curl -sS "$BERTH_SERVER/api/v1/resources/pg_single/$1/requests?project=$PROJECT"
}

# request_state NAME ID: the state of one queued action.
request_state() {
        requests "$1" | jq -r --argjson id "$2" '.items[] | select(.id == $id) | .state'
}

request_done() { [[ $(request_state "$1" "$2") == "$3" ]]; }
request_ended() {
        local s
        s=$(request_state "$1" "$2")
        [[ $s == DONE || $s == FAILED ]]
}

# check_request DESCRIPTION NAME ID WANT [TIMEOUT]: waits for the request to end (DONE or
# FAILED), then records whether it ended WANT; the message goes into the line when it did not.
check_request() {
        local what=$1 name=$2 id=$3 want=$4 state
        wait_until "${5:-180}" request_ended "$name" "$id" || true
        state=$(request_state "$name" "$id")
        if [[ $state == "$want" ]]; then
                ok "$what"
        else
                not_ok "$what: request $id is ${state:-missing}: $(requests "$name" | jq -r --argjson id "${id:-0}" '.items[] | select(.id == $id) | .message' | tr '\n' ' ' | head -c 300)"
        fi
}

# queue NAME ACTION JSON: POST the action; prints the request id (empty on refusal).
queue() {
        curl -sS -X POST -H 'Content-Type: application/json' --data-binary "$3" \
                "$BERTH_SERVER/api/v1/resources/pg_single/$1/actions/$2?project=$PROJECT" |
                jq -r '.request // empty'
}

# now_utc: the current time, UTC, nanoseconds (berth keeps microseconds).
now_utc() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
