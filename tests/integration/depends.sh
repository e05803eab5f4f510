#!/usr/bin/env bash
# depends_on: a service waits until its dependency is RUNNING, gets PREFIX_HOST/_PORT/_URL, and
# rolls when the dependency's port changes.
. "$(dirname "$0")/lib.sh"

start_berthd main
api_spec() {
        cat <<YAML
kind: docker_service
metadata: {name: api, project: $PROJECT}
spec:
  image: berth/busybox:latest
  command: [sh, -c, "sleep 2; echo pong >/tmp/ping && exec httpd -f -p $1 -h /tmp"]
  ports: [{container_port: $1}]
  healthcheck: {type: http, path: /ping, interval: 1s}
YAML
}
app_spec() {
        cat <<YAML
kind: docker_service
metadata: {name: app, project: $PROJECT}
spec:
  image: berth/busybox:latest
  type: worker
  command: [sleep, "3600"]
  depends_on: [{kind: docker_service, name: api}]
YAML
}
{ api_spec 8080; echo ---; app_spec; } | berth apply -f - >/dev/null
waiting() { berth get docker_service app --project "$PROJECT" -o json | grep -q 'waiting for docker_service api'; }
check "app waits for api" wait_until 10 waiting
check "api RUNNING" berth wait docker_service api --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "then app RUNNING" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
c=$PROJECT-app-app-0
env_has() { docker exec "$c" env 2>/dev/null | grep -qx "$1"; }
check "API_HOST injected" env_has API_HOST=api
check "API_PORT injected" env_has API_PORT=8080
check "API_URL injected" env_has API_URL=http://api:8080
check "the URL answers from inside app" bash -c "docker exec $c sh -c 'wget -qO- \$API_URL/ping' | grep -qx pong"

api_spec 9090 | berth apply -f - >/dev/null
check "api's new port rolls app" wait_until 60 env_has API_PORT=9090
check "RUNNING after the roll" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s

printf 'kind: docker_service\nmetadata: {name: lonely, project: %s}\nspec: {image: berth/busybox:latest, type: worker, command: [sleep, "60"], depends_on: [{kind: docker_service, name: nobody}]}\n' "$PROJECT" |
        berth apply -f - >/dev/null
says_missing() { berth get docker_service lonely --project "$PROJECT" -o json | grep -q 'waiting for docker_service nobody (it does not exist yet)'; }
check "a missing dependency: the status says so" wait_until 20 says_missing
finish
