#!/usr/bin/env bash
# pause / resume actions: every replica stops with phase PAUSED, then starts again; each is a new
# generation with its actor in the audit trail.
. "$(dirname "$0")/lib.sh"

start_berthd main
apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: 2}
YAML
check "RUNNING" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
out=$(berth do docker_service app pause --project "$PROJECT")
check "pause answers" contains "$out" "pausing"
check "PAUSED" berth wait docker_service app --project "$PROJECT" --for phase=PAUSED --timeout 60s
check "no replica runs while paused" wait_until 20 running_is 0
out=$(berth do docker_service app pause --project "$PROJECT")
check "pause again changes nothing" contains "$out" "already paused"
berth do docker_service app resume --project "$PROJECT" >/dev/null
check "resume: RUNNING again" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "both replicas back" wait_until 20 running_is 2
check "spec.paused reflects it" bash -c "$BERTH_BIN get docker_service app --project $PROJECT -o json | grep -q '\"paused\": *false'"
ids_before=$(docker ps -q --no-trunc --filter "label=berth.project=$PROJECT" | sort)
berth do docker_service app restart --project "$PROJECT" >/dev/null
replaced_all() {
        local c
        [[ $(running_count) -eq 2 ]] || return 1
        for c in $(docker ps -q --no-trunc --filter "label=berth.project=$PROJECT"); do
                contains "$ids_before" "$c" && return 1
        done
        return 0
}
check "restart replaces every replica" wait_until 60 replaced_all
check "RUNNING after the restart" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
# Rolling: the second replica is removed only after the first one's replacement was created.
# (Events are written just after Docker answers: poll until the last one is in.)
restart_order() {
        berth events docker_service app --project "$PROJECT" |
                grep -oE 'RestartRequested|removed [^ ]+ \(restart\)|created and started [^ ]+' |
                sed -n '/RestartRequested/,$p' | grep -v RestartRequested | cut -c1-7 | tr '\n' ' '
}
order_is_rolling() { [[ "$(restart_order)" == "removed created removed created " ]]; }
check "one replica at a time: removed, created, removed, created" wait_until 15 order_is_rolling
log "restart order: $(restart_order)"
apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: once, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sh, -c, "exit 3"], restart_policy: {name: "no"}}
YAML
says_why() { berth get docker_service once --project "$PROJECT" -o json | grep -q 'exited with code 3'; }
check "a replica that exits: FAILED, saying its exit code" wait_until 30 says_why
check "the node carries last_exit" bash -c "$BERTH_BIN get docker_service once --project $PROJECT -o json | grep -q '\"last_exit\"'"
audit=$(curl -fsS "$BERTH_SERVER/api/v1/audit?limit=1000")
check "the audit trail has the pause with its actor" bash -c "grep -q '\"actor\":\"local\",\"action\":\"pause\"' <<<'$audit'"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$BERTH_SERVER/api/v1/resources/docker_service/app/actions/fly?project=$PROJECT")
check "an unknown action: 404" test "$code" = 404
finish
