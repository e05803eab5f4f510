#!/usr/bin/env bash
# Scale 2 -> 5 -> 0 -> 2; replicas: 0 is RUNNING with 0/0.
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
  replicas: $1
YAML
}
for n in 2 5 0 2; do
        spec "$n" >/dev/null
        check "scale to $n: RUNNING" berth wait docker_service app --project "$PROJECT" --for phase=RUNNING --timeout 60s
        check "scale to $n: $n containers running" wait_until 20 test "$(running_count)" -eq "$n"
        check "scale to $n: no extra containers" wait_until 20 test "$(containers | wc -l)" -eq "$n"
done
check "status replicas desired 2" bash -c "berth get docker_service app --project $PROJECT -o json | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"status\"][\"replicas\"]; sys.exit(0 if r[\"desired\"]==2 and r[\"running\"]==2 else 1)'"
finish
