#!/usr/bin/env bash
# Two controllers on one state store: only the leader acts; kill it and the other takes over.
. "$(dirname "$0")/lib.sh"

start_berthd store --role=api
url=$(store_url store)
start_berthd a --role=controller --database-url "$url"
holder_pid() { psql_store store -c "select split_part(holder, ':', 2) from leases where name = 'controller'"; }
holder_is() { [[ "$(holder_pid)" == "$1" ]]; }
check "controller A takes the lease" wait_until 30 holder_is "$BERTHD_PID_a"
start_berthd b --role=controller --database-url "$url"
export BERTH_SERVER=http://127.0.0.1:$BERTH_PORT_store

apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: 2}
YAML
check "RUNNING under leader A" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "B stands by (never led)" bash -c "! grep -q 'leading the controller' $IT_TMP/b/berthd.log"
check "A is still the holder" test "$(holder_pid)" = "$BERTHD_PID_a"

kill -KILL "$BERTHD_PID_a"
check "B takes the lease after A dies" wait_until 30 holder_is "$BERTHD_PID_b"
docker kill "$PROJECT-app-app-1" >/dev/null
check "B heals a killed container" wait_until 30 is_running "$PROJECT-app-app-1"
apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: 3}
YAML
check "B converges a spec change" wait_until 30 running_is 3
check "the epoch moved on" test "$(psql_store store -c "select epoch from leases where name = 'controller'")" -ge 2
finish
