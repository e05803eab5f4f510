#!/usr/bin/env bash
# Per-replica persistent volumes that survive replacement, tmpfs volumes, config files written
# before start (a change rolls the service), volumes removed on delete unless retained.
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
  replicas: 2
  volumes:
    - {name: data, mount_path: /data}
    - {name: scratch, mount_path: /scratch, type: ephemeral, size: 16Mi}
    - {name: keep, mount_path: /keep, retain: true}
  config_files:
    - {path: /etc/app/app.conf, content: "greeting=$1\n", mode: "0640"}
YAML
}
spec hello >/dev/null
check "RUNNING with volumes and config files" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
c1=$PROJECT-app-app-1
check "config file content inside the container" test "$(docker exec "$c1" cat /etc/app/app.conf)" = "greeting=hello"
check "config file mode 0640" test "$(docker exec "$c1" stat -c %a /etc/app/app.conf)" = 640
check "ephemeral volume is a 16 MiB tmpfs" bash -c "docker exec $c1 mount | grep -q ' /scratch type tmpfs .*size=16384k'"
check "one persistent volume per replica" test "$(docker volume ls -q --filter "label=berth.project=$PROJECT" | sort | tr '\n' ' ')" = \
        "$PROJECT-app-data-0 $PROJECT-app-data-1 $PROJECT-app-keep-0 $PROJECT-app-keep-1 "

docker exec "$c1" sh -c 'echo precious >/data/marker'
docker rm -f "$c1" >/dev/null
check "replica 1 recreated" wait_until 30 is_running "$c1"
check "its data survived the replacement" test "$(docker exec "$c1" cat /data/marker)" = precious
check "replica 0 has its own volume" bash -c "! docker exec $PROJECT-app-app-0 test -e /data/marker"

spec bonjour >/dev/null
new_conf() { [[ "$(docker exec "$c1" cat /etc/app/app.conf 2>/dev/null)" == "greeting=bonjour" ]]; }
check "a config change rolls the service" wait_until 60 new_conf
check "data still there after the roll" test "$(docker exec "$c1" cat /data/marker)" = precious

code=$(printf 'kind: docker_service\nmetadata: {name: bad, project: %s}\nspec: {image: berth/busybox:latest, config_files: [{path: /etc/../x, content: a}]}\n' "$PROJECT" |
        curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary @- "$BERTH_SERVER/api/v1/apply")
check "a config path with .. is refused" test "$code" = 422

berth delete docker_service app --project "$PROJECT" --wait >/dev/null
check "delete removes the volumes not retained" test "$(docker volume ls -q --filter "label=berth.project=$PROJECT" | sort | tr '\n' ' ')" = \
        "$PROJECT-app-keep-0 $PROJECT-app-keep-1 "
finish
