#!/usr/bin/env bash
# Self-heal: a container killed, stopped or removed by hand comes back; so does everything.
. "$(dirname "$0")/lib.sh"

start_berthd main
apply_yaml <<'YAML'
kind: docker_service
metadata: {name: web, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  command: [sh, -c, "echo hello >/tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
  ports: [{container_port: 8080}]
  healthcheck: {type: http, path: /index.html, interval: 1s, timeout: 1s}
  replicas: 3
YAML
check "3 replicas converge to RUNNING" berth wait docker_service web --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "3 containers running" test "$(running_count)" -eq 3

victim=$PROJECT-web-app-1
docker kill "$victim" >/dev/null
check "killed replica is running again" wait_until 30 is_running "$victim"
check "back to RUNNING after kill" berth wait docker_service web --project "$PROJECT" --for phase=RUNNING --timeout 30s

docker stop -t 1 "$PROJECT-web-app-0" >/dev/null
check "stopped replica is running again" wait_until 30 is_running "$PROJECT-web-app-0"

docker ps -aq --filter "label=berth.project=$PROJECT" | xargs docker rm -f >/dev/null
check "all removed: 3 replicas recreated" wait_until 30 running_is 3
check "RUNNING after removal of all" berth wait docker_service web --project "$PROJECT" --for phase=RUNNING --timeout 30s
check "no duplicate containers" test "$(containers | wc -l)" -eq 3

# A container berth did not create but labelled as this resource's surplus is removed.
uuid=$(docker inspect -f '{{ index .Config.Labels "berth.resource" }}' "$PROJECT-web-app-0")
docker run -d --name "$PROJECT-web-app-9" --label berth.managed=true --label "berth.project=$PROJECT" \
        --label "berth.resource=$uuid" --label berth.index=9 berth/busybox:latest sleep 300 \
        >/dev/null 2>&1 || true # berth may remove it between Docker's create and start
check "surplus labelled container removed" wait_until 30 is_absent "$PROJECT-web-app-9"
# Unhealthy means replaced: break one replica's health endpoint; after unhealthy_threshold (3)
# failed probes, one interval (1 s) apart, berth replaces the container.
sick=$PROJECT-web-app-2
old_id=$(docker inspect -f '{{.Id}}' "$sick")
docker exec "$sick" rm /tmp/index.html
replaced() { [[ "$(docker inspect -f '{{.Id}}' "$sick" 2>/dev/null)" != "$old_id" ]] && is_running "$sick"; }
check "a replica failing its http probe is replaced" wait_until 60 replaced
check "RUNNING again after the replacement" berth wait docker_service web --project "$PROJECT" --for phase=RUNNING --timeout 30s
check "events recorded the healing" contains "$(berth events docker_service web --project "$PROJECT")" ContainerStarted
finish
