# shellcheck shell=bash
# Shared helpers for integration scenarios: each scenario starts its own berthd (with its own
# embedded state store and port) against the real Docker engine, uses its own project name so
# scenarios can run in parallel, and removes every object it labelled when it ends.
set -euo pipefail

SRC_ROOT=${SRC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD_ROOT=${BUILD_ROOT:-$SRC_ROOT/build}
BERTHD_BIN=$BUILD_ROOT/berthd
BERTH_BIN=$BUILD_ROOT/berth
TEST_NAME=$(basename "$0" .sh)
PROJECT=${PROJECT:-it-${TEST_NAME//_/-}-$$}
PROJECT=${PROJECT:0:40}
PROJECT=${PROJECT%-}
IT_TMP=$(mktemp -d "/tmp/berth-it-$TEST_NAME.XXXXXX")
chmod 755 "$IT_TMP"
TESTS_RUN=0
TESTS_FAILED=0
# TAP lines go to fd 3 (the real stdout); everything else the scenario prints goes to stderr so
# it cannot be mistaken for TAP.
exec 3>&1 1>&2
BERTHD_PIDS=()

log() { printf '# %s\n' "$*" >&2; }

ok() {
        TESTS_RUN=$((TESTS_RUN + 1))
        printf 'ok %d - %s\n' "$TESTS_RUN" "$*" >&3
}

not_ok() {
        TESTS_RUN=$((TESTS_RUN + 1))
        TESTS_FAILED=$((TESTS_FAILED + 1))
        printf 'not ok %d - %s\n' "$TESTS_RUN" "$*" >&3
}

# check "description" command...: records the command's success as one test result.
check() {
        local what=$1
        shift
        if "$@"; then ok "$what"; else not_ok "$what"; fi
}

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_until TIMEOUT_SECONDS command...: polls every 0.2 s; returns 1 on timeout.
wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@" >/dev/null 2>&1; do
                if ((SECONDS >= deadline)); then return 1; fi
                sleep 0.2
        done
}

# start_berthd NAME [berthd args...]: data dir $IT_TMP/NAME, port in BERTH_PORT_<NAME>.
start_berthd() {
        local name=$1
        shift
        local dir=$IT_TMP/$name port
        mkdir -p "$dir"
        port=$(free_port)
        BERTH_DATA_DIR=$dir "$BERTHD_BIN" --listen "127.0.0.1:$port" --relist-interval 5 "$@" \
                >>"$dir/berthd.log" 2>&1 3>&- &
        BERTHD_PIDS+=($!)
        printf -v "BERTH_PORT_$name" '%s' "$port"
        printf -v "BERTHD_PID_$name" '%s' "$!"
        if [[ " $* " == *" --role=controller "* ]]; then return 0; fi
        if ! wait_until 60 curl -fsS "http://127.0.0.1:$port/readyz"; then
                log "berthd $name did not become ready; its log:"
                tail -n 50 "$dir/berthd.log" >&2
                return 1
        fi
        export BERTH_SERVER=http://127.0.0.1:$port
}

berth() { "$BERTH_BIN" "$@"; }

# The embedded store's connection string for a data dir (socket in DIR/run).
store_url() { printf 'host=%s/run dbname=berth user=berth' "$IT_TMP/$1"; }

psql_store() {
        local name=$1
        shift
        psql "$(store_url "$name")" -XAtq "$@"
}

containers() { # [extra docker ps filter args]: names of this project's containers, sorted
        docker ps -a --filter "label=berth.project=$PROJECT" "$@" --format '{{.Names}}' | sort
}

running_count() { docker ps --filter "label=berth.project=$PROJECT" "$@" -q | wc -l; }

phase_of() { # KIND NAME
        berth get "$1" "$2" --project "$PROJECT" -o json 2>/dev/null |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["phase"])'
}

is_phase() { [[ "$(phase_of "$1" "$2")" == "$3" ]]; }

# apply_yaml: applies YAML from stdin under this test's project.
apply_yaml() { sed "s/__PROJECT__/$PROJECT/g" | berth apply -f - "$@"; }

dump_logs() {
        local d
        for d in "$IT_TMP"/*/; do
                [[ -f $d/berthd.log ]] || continue
                log "---- berthd log $d (tail)"
                tail -n 60 "$d/berthd.log" | sed 's/^/# /' >&2
        done
}

stop_embedded_store() { # DATADIR: stop a postmaster that outlived a kill -9'd berthd
        local pgdata=$1/state
        [[ -f $pgdata/postmaster.pid ]] || return 0
        local pid
        pid=$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null || true)
        [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
        local rc=$?
        local pid d
        if ((TESTS_FAILED > 0 || rc != 0)); then dump_logs; fi
        for pid in "${BERTHD_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in "${BERTHD_PIDS[@]}"; do
                for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null || true
        done
        for d in "$IT_TMP"/*/; do stop_embedded_store "$d"; done
        # A network is removable only once Docker has detached its last container: retry briefly.
        for _ in $(seq 1 20); do
                docker ps -aq --filter "label=berth.project=$PROJECT" | xargs -r docker rm -f >/dev/null 2>&1 || true
                docker network ls -q --filter "label=berth.project=$PROJECT" | xargs -r docker network rm >/dev/null 2>&1 || true
                docker volume ls -q --filter "label=berth.project=$PROJECT" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
                if [[ -z "$(docker ps -aq --filter "label=berth.project=$PROJECT")$(docker network ls -q --filter "label=berth.project=$PROJECT")" ]]; then
                        break
                fi
                sleep 0.5
        done
        if [[ -z ${IT_KEEP:-} ]]; then rm -rf "$IT_TMP"; fi
}
trap cleanup EXIT

finish() {
        printf '1..%d\n' "$TESTS_RUN" >&3
        if ((TESTS_FAILED > 0)); then
                log "$TESTS_FAILED of $TESTS_RUN checks failed"
                exit 1
        fi
        exit 0
}

contains() { [[ $1 == *"$2"* ]]; }

# Predicates for wait_until: they re-read the world on every poll.
is_running() { [[ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" == true ]]; }
is_absent() { ! docker inspect "$1" >/dev/null 2>&1; }
running_is() { [[ $(running_count) -eq $1 ]]; }
total_is() { [[ $(containers | wc -l) -eq $1 ]]; }
