#!/usr/bin/env bash
# make down: stop the berthd that make up started (pid in .berth/berthd.pid; it stops its embedded
# PostgreSQL itself), then the dockerd that scripts/start-docker.sh started, if it started one
# (.berth/dockerd.pid). Nothing else is touched; containers stay unless their dockerd stops.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=.berth

say() {
        echo "down: $*"
}

alive_as() { # alive_as PID COMM
        kill -0 "$1" 2>/dev/null && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

wait_gone() { # wait_gone PID SECONDS
        local i
        for ((i = 0; i < $2 * 10; i++)); do
                kill -0 "$1" 2>/dev/null || return 0
                sleep 0.1
        done
        return 1
}

stop() { # stop NAME PIDFILE SECONDS: SIGTERM, wait, SIGKILL; returns 2 if it had to SIGKILL
        local name=$1 pidfile=$2 secs=$3 pid
        if [ ! -f "$pidfile" ]; then
                say "$name: not started by make up ($pidfile absent)"
                return 0
        fi
        pid=$(cat "$pidfile")
        if [ -z "$pid" ] || ! alive_as "$pid" "$name"; then
                say "$name: pid ${pid:-?} from $pidfile is not running (stale pid file removed)"
                rm -f "$pidfile"
                return 0
        fi
        say "$name: stopping pid $pid (SIGTERM, up to ${secs}s)"
        kill -TERM "$pid"
        if wait_gone "$pid" "$secs"; then
                say "$name: stopped"
                rm -f "$pidfile"
                return 0
        fi
        say "$name: still running after ${secs}s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || say "$name: pid $pid survived SIGKILL"
        rm -f "$pidfile"
        return 2
}

rc=0
stop berthd "$STATE/berthd.pid" "${BERTH_STOP_TIMEOUT:-30}" || rc=$?
if [ "$rc" = 2 ]; then
        # berthd could not stop its embedded PostgreSQL: stop a postmaster left in our data dir
        while IFS= read -r pm; do
                ppid=$(head -n 1 "$pm" 2>/dev/null || true)
                if [ -n "$ppid" ] && alive_as "$ppid" postgres; then
                        say "stopping the embedded PostgreSQL left by berthd (pid $ppid, $(dirname "$pm"))"
                        kill -INT "$ppid" 2>/dev/null || true # fast shutdown
                        wait_gone "$ppid" 20 || kill -QUIT "$ppid" 2>/dev/null || true
                fi
        done < <(find "$STATE" -maxdepth 3 -name postmaster.pid 2>/dev/null)
fi
stop dockerd "$STATE/dockerd.pid" "${BERTH_DOCKER_STOP_TIMEOUT:-60}" || true
