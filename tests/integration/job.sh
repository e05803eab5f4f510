#!/usr/bin/env bash
# kind: job against the real engine: runs that succeed, fail and time out (state, exit code,
# logs kept after the container is gone), the run action and a spec change run it again, an
# unchanged apply does not, from_service, delete during a run, a berthd killed -9 during a run
# (still tracked and finished after the restart), and bad input refused with a 4xx.
. "$(dirname "$0")/lib.sh"

start_berthd main

job_json() { berth get job "$1" --project "$PROJECT" -o json 2>/dev/null; }
job_jq() { job_json "$1" | jq -r "$2"; }
runs_json() { curl -fsS "$BERTH_SERVER/api/v1/resources/job/$1/runs?project=$PROJECT"; }
job_logs() { berth logs job "$1" --project "$PROJECT" "${@:2}" 2>/dev/null; }
container_of() { printf '%s-%s-job-%s' "$PROJECT" "$1" "$2"; }

# Predicates for wait_until.
last_run_is() { [[ $(job_jq "$1" '"\(.status.last_run.id) \(.status.last_run.state)"') == "$2 $3" ]]; }
run_container_running() { is_running "$(container_of "$1" "$2")"; }

job_doc() { # NAME SPEC-FLOW-MAP
        printf 'kind: job\nmetadata: {name: %s, project: %s}\nspec: %s\n' "$1" "$PROJECT" "$2"
}

# ---- a run that succeeds ------------------------------------------------------------------------
job_doc ok '{image: berth/busybox:latest, command: [sh, -c], args: ["echo hello from the job; echo to stderr >&2"], timeout: 1m}' >"$IT_TMP/ok.yaml"
check "a job applies" berth apply -f "$IT_TMP/ok.yaml"
check "berth wait --for phase=RUNNING returns once its run succeeded" \
        berth wait job ok --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "status.last_run: run 1 SUCCEEDED, exit code 0" \
        test "$(job_jq ok '"\(.status.last_run.id) \(.status.last_run.state) \(.status.last_run.exit_code)"')" = "1 SUCCEEDED 0"
check "status.last_run has start and end times" \
        test "$(job_jq ok '[.status.last_run.started_at, .status.last_run.finished_at] | map(select(. != null)) | length')" = 2
check "its container is gone" wait_until 10 is_absent "$(container_of ok 1)"
check "its logs are kept (stdout and stderr)" bash -c "
        out=\$($BERTH_BIN logs job ok --project $PROJECT); grep -q 'hello from the job' <<<\"\$out\" && grep -q 'to stderr' <<<\"\$out\""
check "the runs list has it" test "$(runs_json ok | jq -r '.items | map("\(.id):\(.state):\(.trigger)") | join(",")')" = "1:SUCCEEDED:apply"
check "it is an operation (run, DONE) with its log" bash -c "
        curl -fsS '$BERTH_SERVER/api/v1/resources/job/ok/operations?project=$PROJECT' |
                jq -e '.items | map(select(.kind == \"run\" and .state == \"DONE\" and (.log | contains(\"hello from the job\")))) | length == 1' >/dev/null"

# ---- a run that fails --------------------------------------------------------------------------
job_doc bad '{image: berth/busybox:latest, command: [sh, -c, "echo about to fail >&2; exit 3"]}' >"$IT_TMP/bad.yaml"
check "a failing job applies" berth apply -f "$IT_TMP/bad.yaml"
check "its run ends FAILED" wait_until 60 last_run_is bad 1 FAILED
check "phase FAILED" is_phase job bad FAILED
check "exit code 3 in status" test "$(job_jq bad .status.last_run.exit_code)" = 3
check "the message says why" bash -c "$BERTH_BIN get job bad --project $PROJECT -o json | jq -r .status.message | grep -q 'exited with code 3'"
check "its container is gone" wait_until 10 is_absent "$(container_of bad 1)"
check "its logs are kept" bash -c "$BERTH_BIN logs job bad --project $PROJECT | grep -q 'about to fail'"
check "the runs list says FAILED with exit code 3" \
        test "$(runs_json bad | jq -r '.items[0] | "\(.state) \(.exit_code)"')" = "FAILED 3"
check "its operation is FAILED" bash -c "
        curl -fsS '$BERTH_SERVER/api/v1/resources/job/bad/operations?project=$PROJECT' | jq -e '.items[-1].state == \"FAILED\"' >/dev/null"

# ---- a run over its timeout ---------------------------------------------------------------------
job_doc slow '{image: berth/busybox:latest, command: [sh, -c, "echo before the timeout; sleep 300; echo never"], timeout: 2s}' >"$IT_TMP/slow.yaml"
check "a job with a 2s timeout applies" berth apply -f "$IT_TMP/slow.yaml"
check "its run ends TIMEOUT" wait_until 60 last_run_is slow 1 TIMEOUT
check "phase FAILED, the message names the timeout" bash -c "
        $BERTH_BIN get job slow --project $PROJECT -o json | jq -e '.status.phase == \"FAILED\" and (.status.message | contains(\"timeout of 2s\"))' >/dev/null"
check "the timed-out container is gone" wait_until 10 is_absent "$(container_of slow 1)"
check "the timed-out run's logs are kept" bash -c "
        out=\$($BERTH_BIN logs job slow --project $PROJECT); grep -q 'before the timeout' <<<\"\$out\" && ! grep -q never <<<\"\$out\""
run_seconds() { # NAME: how long its last run ran, whole seconds
        job_json "$1" | python3 -c 'import datetime, json, sys
r = json.load(sys.stdin)["status"]["last_run"]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(int((t(r["finished_at"]) - t(r["started_at"])).total_seconds()))'
}
check "it was stopped at its timeout, not at the end of its sleep" test "$(run_seconds slow)" -lt 30

# ---- the run action, a spec change, an unchanged apply -------------------------------------------
gen_before=$(job_jq ok .metadata.generation)
check "the run action is accepted (202)" bash -c "
        test \"\$(curl -sS -o $IT_TMP/run.json -w '%{http_code}' -X POST '$BERTH_SERVER/api/v1/resources/job/ok/actions/run?project=$PROJECT')\" = 202"
check "... and names run 2" test "$(jq -r .run "$IT_TMP/run.json")" = 2
check "... a new generation of the same spec" test "$(job_jq ok .metadata.generation)" = $((gen_before + 1))
check "berth wait after the run action waits for run 2" \
        berth wait job ok --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "run 2 SUCCEEDED, triggered by the run action" \
        test "$(runs_json ok | jq -r '.items[0] | "\(.id) \(.state) \(.trigger)"')" = "2 SUCCEEDED run"
check "berth do job ok run (the CLI)" berth do job ok run --project "$PROJECT"
check "run 3 SUCCEEDED" wait_until 60 last_run_is ok 3 SUCCEEDED
check "berth logs --run picks an older run" bash -c "$BERTH_BIN logs job ok --project $PROJECT --run 1 | grep -q '(run 1, SUCCEEDED'"
sed 's/hello from the job/hello from the new spec/' "$IT_TMP/ok.yaml" >"$IT_TMP/ok2.yaml"
check "a changed spec applies" berth apply -f "$IT_TMP/ok2.yaml"
check "... and runs again (run 4)" wait_until 60 last_run_is ok 4 SUCCEEDED
check "run 4 ran the new spec" bash -c "$BERTH_BIN logs job ok --project $PROJECT | grep -q 'hello from the new spec'"
check "an unchanged apply is unchanged" bash -c "$BERTH_BIN apply -f $IT_TMP/ok2.yaml | grep -q unchanged"
check "a dry run of a change plans a new run" bash -c "
        $BERTH_BIN apply -f $IT_TMP/ok.yaml --dry-run | grep -q 'run_to_completion'"
sleep 2
check "... and nothing ran again" test "$(runs_json ok | jq '.items | length')" = 4
check "run of a job with parameters: 422" bash -c "
        test \"\$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{\"x\":1}' '$BERTH_SERVER/api/v1/resources/job/ok/actions/run?project=$PROJECT')\" = 422"

# ---- from_service and depends_on ----------------------------------------------------------------
cat >"$IT_TMP/app.yaml" <<YAML
kind: docker_service
metadata: {name: app, project: $PROJECT}
spec:
  image: berth/busybox:latest
  type: worker
  command: [sleep, "3600"]
  env: {GREETING: from-the-service, OVERRIDE: service}
---
kind: job
metadata: {name: task, project: $PROJECT}
spec:
  from_service: app
  command: [sh, -c, 'echo "\$GREETING \$OVERRIDE \$APP_HOST"']
  env: {OVERRIDE: job}
  depends_on: [{kind: docker_service, name: app}]
YAML
check "a service and a job from it apply" berth apply -f "$IT_TMP/app.yaml"
check "the job's run succeeds" berth wait job task --project "$PROJECT" --for phase=RUNNING --timeout 60s
check "it ran with the service's image and env, its own on top, and the dependency's" bash -c "
        $BERTH_BIN logs job task --project $PROJECT | grep -q 'from-the-service job app'"

# ---- delete while a run runs --------------------------------------------------------------------
job_doc gone '{image: berth/busybox:latest, command: [sleep, "300"]}' | berth apply -f - >/dev/null
check "a long run starts" wait_until 60 run_container_running gone 1
check "delete is accepted" berth delete job gone --project "$PROJECT"
check "the running container is removed" wait_until 30 is_absent "$(container_of gone 1)"
check "the job is gone" wait_until 30 bash -c "! $BERTH_BIN get job gone --project $PROJECT >/dev/null 2>&1"

# ---- kill -9 berthd during a run ----------------------------------------------------------------
job_doc crash '{image: berth/busybox:latest, command: [sh, -c, "echo started; sleep 6; echo finished"], timeout: 2m}' >"$IT_TMP/crash.yaml"
check "a 6 s job applies" berth apply -f "$IT_TMP/crash.yaml"
check "its run is RUNNING" wait_until 60 last_run_is crash 1 RUNNING
kill -KILL "$BERTHD_PID_main"
log "killed berthd during run 1 of crash"
check "the run's container outlives berthd" is_running "$(container_of crash 1)"
check "it carries its run number" test "$(docker inspect -f '{{index .Config.Labels "berth.run"}}' "$(container_of crash 1)")" = 1
start_berthd main
check "after the restart the run is still tracked and SUCCEEDED" wait_until 60 last_run_is crash 1 SUCCEEDED
check "exactly one run" test "$(runs_json crash | jq '.items | length')" = 1
check "its logs are the whole run" bash -c "
        out=\$($BERTH_BIN logs job crash --project $PROJECT); grep -q started <<<\"\$out\" && grep -q finished <<<\"\$out\""
check "its container is gone" wait_until 10 is_absent "$(container_of crash 1)"

# ---- bad input ----------------------------------------------------------------------------------
apply_code() { # BODY -> HTTP status; the error in $IT_TMP/err.json
        curl -sS -o "$IT_TMP/err.json" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
                --data-binary "$1" "$BERTH_SERVER/api/v1/apply"
}
bad_input() { # DESCRIPTION CODE FIELD SPEC
        local status
        status=$(apply_code "$(job_doc refused "$4")")
        check "$1: 422 $2 at $3" test "$status $(jq -r '"\(.code) \(.field)"' "$IT_TMP/err.json")" = "422 $2 $3"
}
bad_input "an unknown field" UNKNOWN_FIELD spec.schedule '{image: berth/busybox, schedule: daily}'
bad_input "a timeout over 24h" OUT_OF_RANGE spec.timeout '{image: berth/busybox, timeout: 25h}'
bad_input "a timeout of 0" OUT_OF_RANGE spec.timeout '{image: berth/busybox, timeout: 0s}'
bad_input "no image" REQUIRED spec.image '{command: [true]}'
check "nothing of them is stored" bash -c "! $BERTH_BIN get job refused --project $PROJECT >/dev/null 2>&1"
check "runs of a docker_service: 404 RUNS_NOT_SUPPORTED" bash -c "
        test \"\$(curl -sS -o $IT_TMP/e.json -w '%{http_code}' '$BERTH_SERVER/api/v1/resources/docker_service/app/runs?project=$PROJECT')\" = 404 && jq -e '.code == \"RUNS_NOT_SUPPORTED\"' $IT_TMP/e.json >/dev/null"

# ---- cleanup ------------------------------------------------------------------------------------
for j in ok bad slow task crash; do berth delete job "$j" --project "$PROJECT" >/dev/null; done
berth delete docker_service app --project "$PROJECT" >/dev/null
check "every container of the test is removed" wait_until 60 total_is 0
finish
