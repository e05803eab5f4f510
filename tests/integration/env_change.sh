#!/usr/bin/env bash
# An env change replaces the containers, and the new env is visible inside; an unchanged
# re-apply changes nothing and restarts nothing.
. "$(dirname "$0")/lib.sh"

start_berthd main
spec() {
        apply_yaml <<YAML
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  type: worker
  command: [sleep, "3600"]
  env: {GREETING: "$1"}
  replicas: 2
YAML
}
out=$(spec hello)
check "first apply says created" contains "$out" created
berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s >/dev/null
ids_before=$(docker ps -q --no-trunc --filter "label=berth.project=$PROJECT" | sort)
out=$(spec hello)
check "same spec again says unchanged" contains "$out" unchanged
sleep 2
check "unchanged apply restarts nothing" test "$ids_before" = "$(docker ps -q --no-trunc --filter "label=berth.project=$PROJECT" | sort)"

out=$(spec bonjour)
check "changed env says configured" contains "$out" configured
has_new_env() {
        local c
        for c in $(docker ps -q --filter "label=berth.project=$PROJECT"); do
                docker exec "$c" env | grep -qx 'GREETING=bonjour' || return 1
        done
        [[ $(running_count) -eq 2 ]]
}
check "new env visible inside every replica" wait_until 60 has_new_env
replaced() {
        local c
        for c in $(docker ps -q --no-trunc --filter "label=berth.project=$PROJECT"); do
                contains "$ids_before" "$c" && return 1
        done
        return 0
}
check "containers were replaced" replaced
check "RUNNING with the new generation" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
ops=$(curl -fsS "$BERTH_SERVER/api/v1/resources/docker_service/app/operations?project=$PROJECT")
check "deploy operation recorded" contains "$ops" deploy
finish
