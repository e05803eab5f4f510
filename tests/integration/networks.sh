#!/usr/bin/env bash
# Each project has a network where services answer by name; spec.networks joins more networks
# (with the same names); a network that does not exist is a clear FAILED.
. "$(dirname "$0")/lib.sh"

start_berthd main
extra=$PROJECT-extra
docker network create --label "berth.project=$PROJECT" "$extra" >/dev/null
apply_yaml >/dev/null <<YAML
kind: docker_service
metadata: {name: web, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  command: [sh, -c, "echo hello >/tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
  ports: [{container_port: 8080}]
  healthcheck: {type: http, path: /index.html, interval: 1s}
  replicas: 2
  networks: [$extra]
---
kind: docker_service
metadata: {name: client, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"]}
YAML
check "web RUNNING" berth wait docker_service web --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "client RUNNING" berth wait docker_service client --project "$PROJECT" --for phase=RUNNING --timeout 60s
nets=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$PROJECT-web-app-0")
check "a replica is on the project network" contains "$nets" "berth-$PROJECT"
check "and on the extra network" contains "$nets" "$extra"
check "services answer by name on the project network" \
        bash -c "docker exec $PROJECT-client-app-0 wget -qO- http://web:8080/index.html | grep -qx hello"
check "and by name on the extra network" \
        bash -c "docker run --rm --network $extra berth/busybox:latest wget -qO- http://web:8080/index.html | grep -qx hello"

apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: lost, project: __PROJECT__}
spec: {image: berth/busybox:latest, type: worker, command: [sleep, "3600"], networks: [no-such-net]}
YAML
says_missing() { berth get docker_service lost --project "$PROJECT" -o json | grep -q 'network no-such-net does not exist'; }
check "a network that does not exist: the status says so" wait_until 30 says_missing
finish
