#!/usr/bin/env bash
# apply --dry-run stores nothing and shows the plan; an unchanged spec plans nothing.
. "$(dirname "$0")/lib.sh"

start_berthd main
doc() {
        cat <<YAML
kind: docker_service
metadata: {name: plan, project: $PROJECT}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: $1}
YAML
}
out=$(doc 2 | berth apply -f - --dry-run)
check "dry run of a new service plans two creates" test "$(grep -c create_container <<<"$out")" -eq 2
check "dry run stored nothing" test "$(psql_store main -c "select count(*) from resources where project = '$PROJECT'")" -eq 0
check "dry run created nothing" test -z "$(containers)"
doc 2 | berth apply -f - >/dev/null
check "RUNNING" berth wait docker_service plan --project "$PROJECT" --for phase=RUNNING --timeout 60s
out=$(doc 2 | berth apply -f - --dry-run)
check "unchanged spec: outcome unchanged" contains "$out" unchanged
check "unchanged spec: no action planned" bash -c "! grep -qE 'create_container|remove_container|start_container' <<<'$out'"
out=$(doc 3 | berth apply -f - --dry-run)
check "scale up by one plans one create" test "$(grep -c create_container <<<"$out")" -eq 1
finish
