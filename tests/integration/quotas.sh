#!/usr/bin/env bash
# Project quotas: an apply that would exceed max_replicas, max_cpu or max_memory is refused with
# QUOTA_EXCEEDED naming the field and the numbers, and stores nothing; one that fits passes.
. "$(dirname "$0")/lib.sh"

start_berthd main
put_quota() {
        curl -sS -o "$IT_TMP/q" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
                --data-binary "$1" "$BERTH_SERVER/api/v1/projects/$PROJECT/quota"
}
apply_code() { curl -sS -o "$IT_TMP/body" -w '%{http_code}' -X POST --data-binary @- "$BERTH_SERVER/api/v1/apply"; }
svc() { printf 'kind: docker_service\nmetadata: {name: %s, project: %s}\nspec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: %s, plan: small}\n' "$1" "$PROJECT" "$2"; }

check "set a quota" test "$(put_quota '{"max_cpu": 1, "max_memory": "1Gi", "max_replicas": 4}')" = 200
check "read it back" bash -c "curl -fsS '$BERTH_SERVER/api/v1/projects/$PROJECT/quota' | grep -q '\"max_replicas\":4'"
check "a bad quota is refused" test "$(put_quota '{"max_cpu": -1}')" = 422
check "an unknown quota field is refused" test "$(put_quota '{"max_gpus": 1, "max_cpu": 1, "max_memory": "1Gi", "max_replicas": 4}')" = 422

check "3 small replicas fit" test "$(svc a 3 | apply_code)" = 200
check "2 more replicas exceed max_replicas: 422" test "$(svc b 2 | apply_code)" = 422
body=$(cat "$IT_TMP/body")
check "the error is QUOTA_EXCEEDED" contains "$body" '"code":"QUOTA_EXCEEDED"'
check "it names the field and the numbers" contains "$body" "would run 5 replicas, over its quota of 4"
check "nothing stored for b" test "$(psql_store main -c "select count(*) from resources where project = '$PROJECT' and name = 'b'")" -eq 0
code=$({ svc c 1; echo ---; svc d 1; } | apply_code)
check "a request whose second document exceeds stores neither" test "$code" = 422
check "neither c nor d stored" test "$(psql_store main -c "select count(*) from resources where project = '$PROJECT' and name in ('c','d')")" -eq 0
check "scaling a down makes room" test "$(svc a 1 | apply_code)" = 200
check "then b fits" test "$(svc b 2 | apply_code)" = 200
check "cpu: 4 small replicas would be 1.00, a 5th medium one is over" \
        test "$(printf 'kind: docker_service\nmetadata: {name: e, project: %s}\nspec: {image: berth/busybox:latest, type: worker, command: [sleep, "1"], replicas: 1, plan: medium}\n' "$PROJECT" | apply_code)" = 422
check "a service without resources is refused under a cpu quota" \
        test "$(printf 'kind: docker_service\nmetadata: {name: f, project: %s}\nspec: {image: berth/busybox:latest, replicas: 1}\n' "$PROJECT" | apply_code)" = 422
check "removing the quota lifts it" test "$(put_quota '{}')" = 200
check "then the medium one fits" test "$(printf 'kind: docker_service\nmetadata: {name: e, project: %s}\nspec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], replicas: 1, plan: medium}\n' "$PROJECT" | apply_code)" = 200
check "quota changes are audited" bash -c "curl -fsS '$BERTH_SERVER/api/v1/audit?limit=1000' | grep -q quota_set"
finish
