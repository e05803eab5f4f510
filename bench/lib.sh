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
