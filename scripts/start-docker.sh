#!/usr/bin/env bash
# Make sure a Docker engine answers. Reuse a running one; otherwise start dockerd in the background
# and record its pid in .berth/dockerd.pid (only then: scripts/down.sh stops only what we started).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=.berth
LOG=$STATE/dockerd.log
PIDFILE=$STATE/dockerd.pid
WAIT=${BERTH_DOCKER_WAIT:-60}
SYS_PIDFILE=${BERTH_DOCKER_SYS_PIDFILE:-/var/run/docker.pid} # dockerd's own pid file

answers() {
        timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if answers; then
        echo "docker: engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) answering"
        exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
        echo "docker: no engine answers and dockerd is not installed (run: make deps)" >&2
        exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
        echo "docker: no engine answers; starting dockerd needs root" >&2
        exit 1
fi
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != unix:///var/run/docker.sock ]; then
        echo "docker: DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local dockerd for it" >&2
        exit 1
fi

# A dockerd that is alive but not (yet) answering: wait for it rather than start a second one.
pid_alive_dockerd() {
        local pid=$1
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
                [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]
}

wait_for_engine() {
        local pid=$1 i
        for ((i = 0; i < WAIT * 5; i++)); do
                if answers; then
                        return 0
                fi
                if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
                        return 1
                fi
                sleep 0.2
        done
        return 1
}

if [ -f "$SYS_PIDFILE" ]; then
        oldpid=$(cat "$SYS_PIDFILE" 2>/dev/null || true)
        if pid_alive_dockerd "$oldpid"; then
                echo "docker: dockerd (pid $oldpid) is running but not answering yet; waiting up to ${WAIT}s"
                if wait_for_engine "$oldpid"; then
                        echo "docker: engine answering"
                        exit 0
                fi
                echo "docker: dockerd pid $oldpid does not answer; not starting another one" >&2
                exit 1
        fi
        echo "docker: removing stale $SYS_PIDFILE (pid ${oldpid:-?} is not a running dockerd)"
        rm -f "$SYS_PIDFILE"
fi

start_dockerd() {
        mkdir -p "$STATE"
        : >"$LOG"
        # setsid: not killed with make's process group or the terminal
        setsid dockerd >>"$LOG" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
        echo "docker: started dockerd (pid $(cat "$PIDFILE"), log $LOG); waiting up to ${WAIT}s"
        wait_for_engine "$(cat "$PIDFILE")"
}

elapsed() {
        awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "docker: engine answering after %.1fs\n", b - a }'
}

stop_started() {
        local pid i
        pid=$(cat "$PIDFILE" 2>/dev/null || true)
        rm -f "$PIDFILE"
        [ -n "$pid" ] || return 0
        kill "$pid" 2>/dev/null || return 0
        for ((i = 0; i < 100; i++)); do
                kill -0 "$pid" 2>/dev/null || return 0
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
}

t0=$(date +%s.%N)
if ! start_dockerd; then
        stop_started
        # Containers often cannot use nf_tables: retry once with the legacy iptables backend.
        if grep -qi iptables "$LOG" && [ -x /usr/sbin/iptables-legacy ] &&
                [ "$(readlink -f /usr/sbin/iptables)" != /usr/sbin/xtables-legacy-multi ]; then
                echo "docker: dockerd failed on iptables; switching to iptables-legacy and retrying" >&2
                grep -i "failed to start daemon" "$LOG" | tail -n 1 >&2 || true
                prev=$(readlink /etc/alternatives/iptables || true)
                prev6=$(readlink /etc/alternatives/ip6tables || true)
                update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
                update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null || true
                sleep 1
                rm -f "$SYS_PIDFILE"
                if start_dockerd; then
                        elapsed
                        exit 0
                fi
                stop_started
                echo "docker: legacy iptables did not help either; restoring the previous backend" >&2
                [ -z "$prev" ] || update-alternatives --set iptables "$prev" >/dev/null 2>&1 || true
                [ -z "$prev6" ] || update-alternatives --set ip6tables "$prev6" >/dev/null 2>&1 || true
        fi
        stop_started
        echo "docker: dockerd exited or did not answer within ${WAIT}s; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
        grep -i "failed to start daemon" "$LOG" | tail -n 1 >&2 || true
        exit 1
fi
elapsed
