#!/usr/bin/env bash
# Secrets reach containers as env or as 0400 files; a new value rolls the service; a missing
# secret is a clear FAILED until it is set; no API answer shows a value.
. "$(dirname "$0")/lib.sh"

start_berthd main
berth secret set db-pass --from-literal 'first-S3cret' -p "$PROJECT" >/dev/null
printf 'tls-key-material\n' >"$IT_TMP/key"
berth secret set tls --from-file "$IT_TMP/key" -p "$PROJECT" >/dev/null

apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  type: worker
  command: [sleep, "3600"]
  replicas: 2
  secrets:
    DB_PASSWORD: {secret: db-pass}
    tls.key: {secret: tls, as: file}
YAML
check "RUNNING with secrets" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
c=$PROJECT-app-app-0
check "secret delivered as env" bash -c "docker exec $c env | grep -qx 'DB_PASSWORD=first-S3cret'"
check "secret delivered as a file" test "$(docker exec "$c" cat /run/secrets/tls.key)" = tls-key-material
check "secret file mode 0400" test "$(docker exec "$c" stat -c %a /run/secrets/tls.key)" = 400

berth secret set db-pass --from-literal 'second-S3cret' -p "$PROJECT" >/dev/null
rolled() {
        local x
        for x in "$PROJECT-app-app-0" "$PROJECT-app-app-1"; do
                docker exec "$x" env 2>/dev/null | grep -qx 'DB_PASSWORD=second-S3cret' || return 1
        done
}
check "a new secret value rolls the service" wait_until 60 rolled
check "RUNNING after the roll" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s

apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: needs, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  type: worker
  command: [sleep, "3600"]
  secrets: {TOKEN: {secret: not-yet}}
YAML
failed_with_message() { berth get docker_service needs --project "$PROJECT" -o json | grep -q 'secret \\"not-yet\\"'; }
check "a missing secret: FAILED, naming it" wait_until 30 failed_with_message
check "nothing created for it" test -z "$(docker ps -aq --filter "label=berth.name=needs" --filter "label=berth.project=$PROJECT")"
berth secret set not-yet --from-literal 'later-value' -p "$PROJECT" >/dev/null
check "setting it lets the service converge" berth wait docker_service needs --project "$PROJECT" --for phase=RUNNING --timeout 60s

answers=$(for p in "resources?project=$PROJECT" "resources/docker_service/app?project=$PROJECT" \
        "resources/docker_service/app/events?project=$PROJECT" "resources/docker_service/app/operations?project=$PROJECT" \
        "events?project=$PROJECT" "secrets?project=$PROJECT"; do curl -fsS "$BERTH_SERVER/api/v1/$p"; done)
check "no API answer shows a value" bash -c "! grep -qE 'S3cret|tls-key-material|later-value' <<<'$answers'"
check "the log shows no value" bash -c "! grep -qE 'S3cret|tls-key-material|later-value' $IT_TMP/main/berthd.log"
check "the config-hash label is not the value's hash" bash -c "! docker inspect $c | grep -q \$(printf %s second-S3cret | sha256sum | cut -c1-64)"
finish
