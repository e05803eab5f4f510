#!/usr/bin/env bash
# Bad input gets a clear error (code, message, field) and changes nothing: not in the store,
# not in Docker; a request with one bad document stores none of its documents.
. "$(dirname "$0")/lib.sh"

start_berthd main
api() { curl -sS -o "$IT_TMP/body" -w '%{http_code}' -X POST --data-binary @- "$BERTH_SERVER/api/v1/apply" "$@"; }

code=$(api <<YAML
kind: docker_service
metadata: {name: good, project: $PROJECT}
spec: {image: berth/busybox:latest, command: [sleep, "60"]}
---
kind: docker_service
metadata: {name: bad, project: $PROJECT}
spec: {image: berth/busybox:latest, replcas: 2}
YAML
)
check "unknown field: 422" test "$code" = 422
check "error names the field" contains "$(cat "$IT_TMP/body")" '"field":"documents[1].spec.replcas"'
check "error has a code" contains "$(cat "$IT_TMP/body")" '"code":"UNKNOWN_FIELD"'

code=$(printf 'kind: docker_service\nmetadata: {name: x\nspec: [\n' | api)
check "malformed YAML: 400" test "$code" = 400
check "malformed YAML names line and column" grep -q 'line' "$IT_TMP/body"

code=$(printf 'kind: docker_service\nmetadata: {name: Bad_Name, project: %s}\nspec: {image: berth/busybox:latest}\n' "$PROJECT" | api)
check "bad name: 422" test "$code" = 422
check "bad name: field metadata.name" contains "$(cat "$IT_TMP/body")" '"field":"metadata.name"'

code=$(head -c 1100000 /dev/zero | tr '\0' 'a' | api)
check "body over 1 MiB: 413" test "$code" = 413

code=$(printf 'kind: docker_service\nmetadata: {name: web, project: %s}\nspec: {image: berth/busybox:latest, replicas: 2, ports: [{container_port: 80, host_port: 18081}]}\n' "$PROJECT" | api)
check "host_port with 2 replicas refused" test "$code" = 422

check "nothing stored" test "$(psql_store main -c "select count(*) from resources where project = '$PROJECT'")" -eq 0
sleep 1
check "nothing in Docker" test -z "$(containers)"
# One name, one resource per project, whatever the kind: Docker objects are named after it.
code=$(printf 'kind: job\nmetadata: {name: taken, project: %s}\nspec: {image: berth/busybox:latest, command: [true]}\n' "$PROJECT" | api)
check "a job named taken: 200" test "$code" = 200
code=$(printf 'kind: docker_service\nmetadata: {name: taken, project: %s}\nspec: {image: berth/busybox:latest}\n' "$PROJECT" | api)
check "a docker_service of the same name: 409" test "$code" = 409
check "... NAME_TAKEN naming metadata.name" contains "$(cat "$IT_TMP/body")" '"code":"NAME_TAKEN"'
check "... and not stored" test "$(psql_store main -c "select count(*) from resources where project = '$PROJECT' and kind = 'docker_service'")" -eq 0
check "the CLI exits 1 on an API error" bash -c "printf 'kind: nope\nmetadata: {name: x}\nspec: {}\n' | $BERTH_BIN apply -f -; test \$? -eq 1"
check "the CLI exits 2 on a usage error" bash -c "$BERTH_BIN get a b c d e >/dev/null 2>&1; test \$? -eq 2"
finish
