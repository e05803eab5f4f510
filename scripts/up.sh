#!/usr/bin/env bash
# make up (after deps, build, docker, images): start berthd in the background with its data in
# .berth/, wait until it is ready, apply examples/quickstart/ and wait for the app to run.
# A berthd that make up started earlier and that still answers /healthz is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=$PWD/.berth
PIDFILE=$STATE/berthd.pid
LOG=$STATE/berthd.log
BERTHD=build/berthd
BERTH=build/berth
QUICKSTART=examples/quickstart
READY_TIMEOUT=${BERTH_READY_TIMEOUT:-90}

listen=${BERTH_LISTEN:-127.0.0.1:8080}
host=${listen%:*}
port=${listen##*:}
case "$host" in
"" | 0.0.0.0 | "*" | "[::]") host=127.0.0.1 ;;
esac
API=http://$host:$port
export BERTH_SERVER=$API

say() {
        echo "up: $*"
}
die() {
        echo "up: $*" >&2
        exit 1
}

answers() { # answers PATH
        curl -fsS -m 3 -o /dev/null "$API$1" 2>/dev/null
}

our_berthd() { # prints the pid from .berth/berthd.pid if that process is a live berthd
        local pid
        pid=$(cat "$PIDFILE" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = berthd ]; then
                echo "$pid"
        fi
}

for f in "$BERTHD" "$BERTH"; do
        [ -x "$f" ] || die "$f not built (make build)"
done
mkdir -p "$STATE"

pid=$(our_berthd)
if [ -n "$pid" ] && answers /healthz; then
        say "berthd already running (pid $pid), healthy at $API"
elif [ -n "$pid" ]; then
        die "berthd (pid $pid) runs but $API/healthz does not answer; see $LOG, or make down first"
elif answers /healthz; then
        pid=""
        say "a berthd not started by make up answers at $API; using it (make down will not stop it)"
else
        rm -f "$PIDFILE"
        say "starting $BERTHD (data $STATE, log $LOG, listen $listen)"
        {
                echo
                echo "=== $(date -Is) make up: starting $BERTHD"
        } >>"$LOG"
        # setsid: keeps running after make returns and is not hit by the terminal's ^C
        BERTH_DATA_DIR=$STATE BERTH_LISTEN=$listen setsid "$BERTHD" >>"$LOG" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$PIDFILE"
fi

t0=$(date +%s)
until answers /readyz; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
                echo "up: berthd (pid $pid) exited; last lines of $LOG:" >&2
                tail -n 40 "$LOG" >&2
                rm -f "$PIDFILE"
                exit 1
        fi
        if [ $(($(date +%s) - t0)) -ge "$READY_TIMEOUT" ]; then
                echo "up: berthd not ready after ${READY_TIMEOUT}s ($API/readyz); last lines of $LOG:" >&2
                tail -n 40 "$LOG" >&2
                exit 1
        fi
        sleep 0.2
done
say "berthd ready after $(($(date +%s) - t0))s"

if ! compgen -G "$QUICKSTART/*.yaml" >/dev/null; then
        die "no specs in $QUICKSTART/ (berthd is running: make down stops it)"
fi

# the quickstart app (kind docker_service, name web): its project, published port and bind address
web_spec=$QUICKSTART/web.yaml
project=default web_port="" web_bind=127.0.0.1
if [ -f "$web_spec" ]; then
        spec_text=$(sed 's/#.*//' "$web_spec") # comments may mention other values
        p=$(grep -o 'project:[[:space:]]*["'\'']\{0,1\}[a-z0-9-]*' "$web_spec" | head -n 1 | grep -o '[a-z0-9-]*$' || true)
        [ -z "$p" ] || project=$p
        web_port=$(grep -o 'host_port:[[:space:]]*[0-9][0-9]*' <<<"$spec_text" | head -n 1 | grep -o '[0-9]*$' || true)
        b=$(grep -o 'bind:[[:space:]]*["'\'']\{0,1\}[0-9.]*' "$web_spec" | head -n 1 | grep -o '[0-9.]*$' || true)
        case "$b" in
        "" | 0.0.0.0) ;;
        *) web_bind=$b ;;
        esac
fi
if [ -n "$web_port" ] && [ "$web_port" = "$port" ]; then
        echo "up: WARNING: $web_spec publishes port $web_port, which berthd's API listens on ($listen);" >&2
        echo "up:          the app cannot bind it. Change host_port there or set BERTH_LISTEN." >&2
fi
popt=()
[ "$project" = default ] || popt=(-p "$project")

say "$BERTH apply -f $QUICKSTART/"
"$BERTH" apply -f "$QUICKSTART/"
say "$BERTH ${popt[*]:+${popt[*]} }wait docker_service web --for phase=RUNNING --timeout 120s"
if ! "$BERTH" "${popt[@]}" wait docker_service web --for phase=RUNNING --timeout 120s; then
        echo "up: the quickstart service did not reach RUNNING:" >&2
        "$BERTH" "${popt[@]}" describe docker_service web >&2 || true
        echo "up: last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
        exit 1
fi

web_url=""
[ -z "$web_port" ] || web_url="http://$web_bind:$web_port/"

cat <<MSG

berth is up.
  API        $API            berthd pid ${pid:-?}, log .berth/berthd.log, data .berth/
  dashboard  $API/
MSG
if [ -n "$web_url" ]; then
        echo "  web        $web_url            the quickstart app ($web_spec)"
else
        echo "  web        (no host_port in $web_spec)"
fi
cat <<MSG

Next:
  $BERTH get
MSG
[ -z "$web_url" ] || echo "  curl $web_url"
cat <<MSG
  $BERTH ${popt[*]:+${popt[*]} }describe docker_service web
  make down
MSG
