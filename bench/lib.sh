#!/usr/bin/env bash
# Helpers for berth's benchmarks. Source it:   . "$(dirname "$0")/lib.sh"
#
#   t0=$(now); ...; elapsed "$t0"                 seconds since t0 (3 decimals)
#   d=$(time_cmd docker run -d ...)                a command's wall time (its stdout is dropped)
#   repeat 10 time_cmd curl -fs "$url" > times.txt   one duration per line
#   stats < times.txt                              n=10 min=.. median=.. p95=.. max=.. mean=..
#   median < times.txt; p95 < times.txt; percentile 99 < times.txt
#   wait_http URL [TIMEOUT_S]                      poll until HTTP 2xx/3xx; prints seconds waited
#   wait_until TIMEOUT_S CMD...                    poll CMD (every 20 ms); prints seconds waited
#   record BENCH METRIC VALUE [UNIT]               print and append to bench/results/results.tsv
#   bench_env                                      one line: host, cores, kernel, docker, berth rev
# Percentiles are nearest-rank over the sorted samples (p95 of 20 samples = the 19th).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}

now() {
        date +%s.%N
}

elapsed() { # elapsed START [END]
        awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.3f\n", b - a }'
}

time_cmd() { # time_cmd CMD...: prints the wall time; returns the command's status
        local t0 rc=0
        t0=$(now)
        "$@" >/dev/null || rc=$?
        elapsed "$t0"
        return "$rc"
}

repeat() { # repeat N CMD...
        local i n=$1
        shift
        for ((i = 0; i < n; i++)); do
                "$@"
        done
}

percentile() { # percentile P < samples (one number per line)
        sort -g | awk -v p="$1" '
                NF { v[++n] = $1 }
                END {
                        if (n == 0) { print "nan"; exit 1 }
                        i = int(p / 100 * n); if (i < p / 100 * n) i++; if (i < 1) i = 1
                        print v[i]
                }'
}

median() {
        percentile 50
}

p95() {
        percentile 95
}

stats() { # stats < samples: n min median p95 max mean
        sort -g | awk '
                NF { v[++n] = $1; s += $1 }
                END {
                        if (n == 0) { print "n=0"; exit 1 }
                        m = int(0.5 * n); if (m < 0.5 * n) m++; if (m < 1) m = 1
                        q = int(0.95 * n); if (q < 0.95 * n) q++; if (q < 1) q = 1
                        printf "n=%d min=%.3f median=%.3f p95=%.3f max=%.3f mean=%.3f\n", n, v[1], v[m], v[q], v[n], s / n
                }'
}

wait_until() { # wait_until TIMEOUT_S CMD...: prints seconds waited; 1 on timeout
        local limit=$1 t0
        shift
        t0=$(now)
        until "$@" >/dev/null 2>&1; do
                if awk -v a="$t0" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
                        echo "timeout"
                        return 1
                fi
                sleep 0.02
        done
        elapsed "$t0"
}

wait_http() { # wait_http URL [TIMEOUT_S]
        wait_until "${2:-60}" curl -fsS -m 1 -o /dev/null "$1"
}

bench_env() {
        printf 'host=%s cores=%s kernel=%s docker=%s berth=%s\n' "$(hostname)" "$(nproc)" "$(uname -r)" \
                "$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo none)" \
                "$(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

record() { # record BENCH METRIC VALUE [UNIT]
        mkdir -p "$BENCH_RESULTS"
        printf '%-24s %-32s %s %s\n' "$1" "$2" "$3" "${4:-}"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -Is)" "$1" "$2" "$3" "${4:-}" \
                "$(git -C "$BENCH_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
                >>"$BENCH_RESULTS/results.tsv"
}

# ---- berthd, projects and cleanup (used by every bench-*.sh / *.sh here) ----
#
#   bench_init NAME            unique PROJECT (bn-NAME-PID), BENCH_TMP, and an EXIT trap that
#                              stops berthd and removes every container/network labelled with
#                              PROJECT (berth.project= or bench.project=), even on failure
#   bench_start_berthd [ARGS]  berthd in $BENCH_TMP/berthd on a free port: BERTH_URL, BERTHD_PID,
#                              BERTH_DATA; default --relist-interval 30 unless ARGS give one
#   bench_stop_berthd          SIGTERM (berthd stops its embedded PostgreSQL), then KILL after 20 s
#   PY                         Debian's python3 (bench.py needs nothing outside the stdlib)
#   BENCH_PY                   "$PY $BENCH_DIR/bench.py"

BENCH_SRC=$(cd "$BENCH_DIR/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$BENCH_SRC/build-me}
BERTHD_BIN=${BERTHD_BIN:-$BENCH_BUILD/berthd}
BERTH_BIN=${BERTH_BIN:-$BENCH_BUILD/berth}
PY=${PY:-/usr/bin/python3}
BENCH_PY="$PY $BENCH_DIR/bench.py"
BENCH_IMAGE=${BENCH_IMAGE:-berth/busybox:latest}
BERTHD_PID=
BENCH_CLEANUP_HOOKS=()

blog() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

free_port() {
        $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_init() { # bench_init NAME
        PROJECT=${PROJECT:-bn-$1-$$}
        BENCH_TMP=$(mktemp -d "/tmp/berth-bench-$1.XXXXXX")
        chmod 755 "$BENCH_TMP" # the embedded store runs as postgres when we are root
        export PROJECT BENCH_TMP
        trap bench_cleanup EXIT
        trap 'exit 130' INT TERM
}

bench_start_berthd() {
        local port args=("$@")
        BERTH_DATA=$BENCH_TMP/berthd
        mkdir -p "$BERTH_DATA"
        chmod 755 "$BERTH_DATA"
        port=$(free_port)
        if [[ " ${args[*]} " != *" --relist-interval"* ]]; then args+=(--relist-interval 30); fi
        BERTH_DATA_DIR=$BERTH_DATA BERTH_LOG_LEVEL=${BERTH_LOG_LEVEL:-info} \
                "$BERTHD_BIN" --listen "127.0.0.1:$port" "${args[@]}" >>"$BERTH_DATA/berthd.log" 2>&1 &
        BERTHD_PID=$!
        BERTH_URL=http://127.0.0.1:$port
        export BERTH_URL BERTHD_PID BERTH_DATA
        export BERTH_SERVER=$BERTH_URL
        if ! wait_until 90 curl -fsS -m 2 -o /dev/null "$BERTH_URL/readyz" >/dev/null; then
                blog "berthd did not become ready; its log:"
                tail -n 40 "$BERTH_DATA/berthd.log" >&2
                return 1
        fi
        blog "berthd pid $BERTHD_PID on $BERTH_URL ($(basename "$(dirname "$BERTHD_BIN")")/berthd, data $BERTH_DATA)"
}

bench_stop_berthd() {
        local pid=$BERTHD_PID pgpid
        [[ -n $pid ]] || return 0
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
                blog "berthd $pid ignored SIGTERM for 20 s: KILL"
                kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
        # A postmaster that outlived a killed berthd: stop it by its own pid file.
        if [[ -f $BERTH_DATA/state/postmaster.pid ]]; then
                pgpid=$(head -n 1 "$BERTH_DATA/state/postmaster.pid" 2>/dev/null || true)
                if [[ -n $pgpid ]] && kill -0 "$pgpid" 2>/dev/null; then
                        kill -INT "$pgpid" 2>/dev/null || true
                        for _ in $(seq 1 50); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
                        kill -KILL "$pgpid" 2>/dev/null || true
                fi
        fi
        BERTHD_PID=
}

bench_remove_labelled() { # every container and network this run labelled
        local l
        for l in "berth.project=$PROJECT" "bench.project=$PROJECT"; do
                docker ps -aq --filter "label=$l" | xargs -r docker rm -f >/dev/null 2>&1 || true
        done
        for l in "berth.project=$PROJECT" "bench.project=$PROJECT"; do
                docker network ls -q --filter "label=$l" | xargs -r docker network rm >/dev/null 2>&1 || true
        done
        docker volume ls -q --filter "label=berth.project=$PROJECT" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
}

bench_cleanup() {
        local rc=$? h
        trap - EXIT
        for h in "${BENCH_CLEANUP_HOOKS[@]}"; do eval "$h" || true; done
        bench_stop_berthd
        [[ -n ${PROJECT:-} ]] && bench_remove_labelled
        if ((rc != 0)) && [[ -f ${BERTH_DATA:-/nonexistent}/berthd.log ]]; then
                blog "exit $rc; berthd log tail:"
                tail -n 30 "$BERTH_DATA/berthd.log" >&2
        fi
        if [[ -n ${BENCH_KEEP:-} ]]; then
                blog "kept $BENCH_TMP"
        else
                rm -rf "${BENCH_TMP:?}"
        fi
        exit "$rc"
}

cpu_idle() { # cpu_idle [SECONDS]: percent of CPU time idle over the next SECONDS (default 2)
        local a b
        a=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
        sleep "${1:-2}"
        b=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
        awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
                d = y[2] - x[2]; printf "%.0f\n", (d > 0 ? 100 * (y[1] - x[1]) / d : 100) }'
}

settle() { # settle [MIN_IDLE_PCT] [MAX_WAIT_S]: wait until the machine is quiet; prints the idle %
        local want=${1:-${BENCH_MIN_IDLE:-85}} max=${2:-${BENCH_SETTLE_MAX:-120}} idle t0=$SECONDS
        while :; do
                idle=$(cpu_idle 2)
                if ((idle >= want)); then break; fi
                if ((SECONDS - t0 >= max)); then
                        blog "machine still busy after ${max} s (CPU ${idle}% idle): measuring anyway"
                        break
                fi
        done
        echo "$idle"
}
