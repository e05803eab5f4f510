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
        check "scale to $n: $n containers running" wait_until 20 running_is "$n"
        check "scale to $n: no extra containers" wait_until 20 total_is "$n"
done
replicas=$(berth get docker_service app --project "$PROJECT" -o json |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["status"]["replicas"]; print(r["desired"], r["running"])')
check "status replicas: 2 desired, 2 running" test "$replicas" = "2 2"
finish
