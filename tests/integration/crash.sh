#!/usr/bin/env bash
# kill -9 berthd at random moments while it creates ten services; after a restart exactly the
# desired containers exist: no duplicates, no orphans.
. "$(dirname "$0")/lib.sh"

start_berthd main
{
        for i in $(seq 0 9); do
                cat <<YAML
---
kind: docker_service
metadata: {name: svc$i, project: $PROJECT}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: 2}
YAML
        done
} >"$IT_TMP/ten.yaml"
check "ten services applied" berth apply -f "$IT_TMP/ten.yaml"

for round in 1 2 3 4 5; do
        sleep "0.$((RANDOM % 9 + 1))"
        kill -KILL "$BERTHD_PID_main"
        log "round $round: killed berthd with $(containers | wc -l) containers present"
        start_berthd main
done

all_running() {
        local i
        for i in $(seq 0 9); do is_phase docker_service "svc$i" RUNNING || return 1; done
}
check "all ten RUNNING after the restarts" wait_until 120 all_running
expected=$(for i in $(seq 0 9); do echo "$PROJECT-svc$i-app-0"; echo "$PROJECT-svc$i-app-1"; done | sort)
check "exactly the desired containers" test "$(containers)" = "$expected"
check "all of them running" test "$(running_count)" -eq 20
sleep 6 # one relist pass later nothing changes
check "still exactly the desired containers after a relist" test "$(containers)" = "$expected"
uuids=$(psql_store main -c "select uuid from resources where project = '$PROJECT'" | sort)
labels=$(docker ps -a --filter "label=berth.project=$PROJECT" --format '{{.Label "berth.resource"}}' | sort -u)
check "no orphans: every container belongs to a stored resource" test "$uuids" = "$labels"
finish
