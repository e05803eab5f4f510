#!/usr/bin/env bash
# Restart dockerd under a running berthd: berth reconnects (readiness, events) and converges,
# including a spec change made while Docker was down. Runs alone: it stops every container.
. "$(dirname "$0")/lib.sh"

if ! pidof dockerd >/dev/null; then
        log "dockerd is not a local process here (remote DOCKER_HOST?): skipping"
        echo "1..0 # SKIP no local dockerd" >&3
        exit 77
fi
start_berthd main
spec() {
        apply_yaml <<YAML
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: $1}
YAML
}
spec 2 >/dev/null
check "RUNNING before the restart" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s

old=$(pidof dockerd)
kill -TERM "$old"
wait_until 60 bash -c "! kill -0 $old" || true
check "readyz reports Docker down" wait_until 30 bash -c "! curl -fsS $BERTH_SERVER/readyz"
spec 3 >/dev/null
setsid dockerd >>/tmp/berth-dockerd.log 2>&1 </dev/null 3>&- &
new=$!
if [[ -f $SRC_ROOT/.berth/dockerd.pid ]]; then echo "$new" >"$SRC_ROOT/.berth/dockerd.pid"; fi
check "dockerd is back" wait_until 60 docker version
check "readyz recovers" wait_until 60 curl -fsS "$BERTH_SERVER/readyz"
check "converges to 3 replicas after the restart" wait_until 90 running_is 3
check "RUNNING after the restart" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
docker kill "$PROJECT-app-app-0" >/dev/null
check "events stream reconnected: a kill is healed" wait_until 30 is_running "$PROJECT-app-app-0"
finish
