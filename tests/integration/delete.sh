#!/usr/bin/env bash
# delete: DELETING until every Docker object is gone, then the row; nothing labelled is left.
. "$(dirname "$0")/lib.sh"

start_berthd main
apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: gone, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: 3}
YAML
check "RUNNING" berth wait docker_service gone --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "delete accepted" berth delete docker_service gone --project "$PROJECT"
check "resource disappears" berth wait docker_service gone --project "$PROJECT" --for delete --timeout 60s
check "no labelled container left" test -z "$(containers)"
check "no labelled network left" test -z "$(docker network ls -q --filter "label=berth.project=$PROJECT")"
check "no labelled volume left" test -z "$(docker volume ls -q --filter "label=berth.project=$PROJECT")"
check "row removed" test "$(psql_store main -c "select count(*) from resources where project = '$PROJECT'")" -eq 0
check "audit kept the delete" test "$(psql_store main -c "select count(*) from audit where action = 'delete'")" -ge 1
check "get answers 404" bash -c "$BERTH_BIN get docker_service gone --project $PROJECT >/dev/null 2>&1; test \$? -eq 1"
finish
