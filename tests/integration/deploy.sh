#!/usr/bin/env bash
# Revisions and deploys of docker_service: every change of what runs is a revision, listed with
# its diff; rollback; a rolling deploy of 4 replicas (max_surge 1, max_unavailable 0) keeps 4
# replicas serving at every poll and never runs more than 5; a revision that never passes its
# healthcheck fails after progress_deadline and is rolled back, the old revision serving the
# whole time; recreate stops every old replica before starting the new ones; a failing
# pre_deploy changes nothing; kill -9 of berthd in the middle of a rolling deploy: it completes
# after the restart with exactly `replicas` containers.
. "$(dirname "$0")/lib.sh"

start_berthd main

# spec NAME V [DEPLOY] [REPLICAS]: a web server that serves V at /index.html after a second, and
# never serves at all when V is "broken".
spec() {
        local deploy=${3:-"{}"} replicas=${4:-4}
        apply_yaml "${@:5}" <<YAML
kind: docker_service
metadata: {name: $1, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  command: [sh, -c, "if [ \"\$V\" = broken ]; then exec sleep 3600; fi; sleep 1; echo \$V >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
  env: {V: "$2"}
  ports: [{container_port: 8080}]
  healthcheck: {type: http, path: /index.html, interval: 1s}
  replicas: $replicas
  deploy: $deploy
YAML
}
not() { ! "$@"; }
status() { berth get docker_service "$1" --project "$PROJECT" -o json; }
revision_is() { [[ "$(status "$1" | jq -r .status.revision)" == "$2" ]]; }
deploy_state_is() { [[ "$(status "$1" | jq -r .status.deploy.state)" == "$2" ]]; }
deployed() { revision_is "$1" "$2" && deploy_state_is "$1" DONE; } # NAME REVISION
revisions() { curl -fsS "$BERTH_SERVER/api/v1/resources/docker_service/$1/revisions?project=$PROJECT"; }
ids_of() { docker ps -aq --no-trunc --filter "label=berth.project=$PROJECT" --filter "label=berth.name=$1" | sort; }
names_of() { containers --filter "label=berth.name=$1"; }
# every_replica_serves NAME V COUNT: exactly COUNT containers, each answering V.
every_replica_serves() {
        local c n=0
        for c in $(ids_of "$1"); do
                [[ "$(docker exec "$c" wget -qO- http://127.0.0.1:8080/index.html 2>/dev/null)" == "$2" ]] || return 1
                n=$((n + 1))
        done
        [[ $n -eq $3 ]]
}
# poll NAME FILE: until killed, one line per poll: "<replicas answering HTTP> <containers>".
poll() {
        local ip ready n
        while :; do
                ready=0 n=0
                for ip in $(ids_of "$1" | xargs -r docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' 2>/dev/null); do
                        n=$((n + 1))
                        curl -fsS --max-time 1 -o /dev/null "http://$ip:8080/index.html" 2>/dev/null && ready=$((ready + 1))
                done
                echo "$ready $n" >>"$2"
                sleep 0.1
        done
}
start_poll() { : >"$IT_TMP/$2"; poll "$1" "$IT_TMP/$2" 3>&- & POLL_PID=$!; }
stop_poll() { kill "$POLL_PID" 2>/dev/null || true; wait "$POLL_PID" 2>/dev/null || true; }
min_ready() { awk 'NR == 1 || $1 < m { m = $1 } END { print m + 0 }' "$IT_TMP/$1"; }
max_containers() { awk '$2 > m { m = $2 } END { print m + 0 }' "$IT_TMP/$1"; }
polls() { wc -l <"$IT_TMP/$1"; }

# ---- revisions and a rolling deploy -----------------------------------------------------------
spec web v1 >/dev/null
check "first revision deployed" wait_until 90 deployed web 1
check "4 replicas serve v1" wait_until 30 every_replica_serves web v1 4

out=$(spec web v2 "" "" --dry-run)
dry_run_surges() { grep -E "create_container +$PROJECT-web-app-0-r2 +rolling to revision 2" <<<"$out"; }
check "dry run of an env change: a surge replica of revision 2" dry_run_surges
start_poll web rolling.polls
spec web v2 >/dev/null
check "revision 2 deployed" wait_until 120 deployed web 2
stop_poll
log "rolling deploy: $(polls rolling.polls) polls, min ready $(min_ready rolling.polls), max containers $(max_containers rolling.polls)"
check "at every poll at least 4 replicas served" test "$(min_ready rolling.polls)" -ge 4
check "never more than replicas + max_surge = 5 containers" test "$(max_containers rolling.polls)" -le 5
check "the deploy went through a surge replica" test "$(max_containers rolling.polls)" -eq 5
check "every replica serves v2" wait_until 30 every_replica_serves web v2 4
check "exactly 4 containers, under their stable names" test "$(names_of web | tr '\n' ' ')" = \
        "$PROJECT-web-app-0 $PROJECT-web-app-1 $PROJECT-web-app-2 $PROJECT-web-app-3 "

revs=$(revisions web)
check "two revisions listed" test "$(jq '.items | length' <<<"$revs")" -eq 2
check "the current one is 2" test "$(jq .current <<<"$revs")" -eq 2
check "revision 2's diff names the env change" test "$(jq -r '.items[1].diff' <<<"$revs")" = "env.V: v1 → v2"
check "revision 2 keeps its full spec" test "$(jq -r '.items[1].spec.env.V' <<<"$revs")" = v2
check "its deploy: DONE, from revision 1" test "$(jq -r '.items[1].deploy | "\(.state) \(.from_revision)"' <<<"$revs")" = "DONE 1"
check "its deploy: old and new image, start and end" test "$(jq -r '.items[1].deploy | [.old_image, .new_image, (.started_at != null), (.finished_at != null)] | join(" ")' <<<"$revs")" = \
        "berth/busybox:latest berth/busybox:latest true true"
check "who applied it" test "$(jq -r '.items[1].actor' <<<"$revs")" = local
ops=$(curl -fsS "$BERTH_SERVER/api/v1/resources/docker_service/web/operations?project=$PROJECT")
check "deploy history: an operation per deploy" test "$(jq '[.items[] | select(.kind == "deploy")] | length' <<<"$ops")" -eq 2
check "deploy history: old image, new image, result, who" bash -c "jq -e '.items[] | select(.kind == \"deploy\" and .state == \"DONE\" and .actor == \"local\" and (.log | test(\"revision 2 \\\\(from 1\\\\): image berth/busybox:latest → berth/busybox:latest\")) and (.log | test(\"DONE\")))' <<<'$ops' >/dev/null"
desc=$(berth describe docker_service web --project "$PROJECT")
check "describe shows the revisions" bash -c "grep -q '^Revisions:' <<<'$desc' && grep -q 'env.V: v1 → v2' <<<'$desc'"
check "describe shows the current revision" bash -c "grep -qE '^ +Revision: +2$' <<<'$desc'"
out=$(spec web v2)
check "the same spec again: unchanged" contains "$out" unchanged
sleep 2
check "... and no new revision" test "$(revisions web | jq .current)" -eq 2

# ---- rollback ---------------------------------------------------------------------------------
out=$(berth do docker_service web rollback --project "$PROJECT")
check "rollback answers" contains "$out" "rolling back to revision 1"
check "rollback: revision 3 deployed" wait_until 120 deployed web 3
check "rollback: every replica serves v1 again" wait_until 30 every_replica_serves web v1 4
check "rollback: the spec is revision 1's" test "$(status web | jq -r .spec.env.V)" = v1
check "rollback: revision 3 says it is revision 1 again" contains "$(revisions web | jq -r '.items[2].diff')" "same as revision 1"
berth do docker_service web rollback revision=2 --project "$PROJECT" >/dev/null
check "rollback revision=2: revision 4 deployed" wait_until 120 deployed web 4
check "rollback revision=2: every replica serves v2" wait_until 30 every_replica_serves web v2 4
code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' -X POST --data-binary '{"revision": 99}' \
        "$BERTH_SERVER/api/v1/resources/docker_service/web/actions/rollback?project=$PROJECT")
check "rollback to a revision that does not exist: 404 REVISION_NOT_FOUND" test "$code $(jq -r .code "$IT_TMP/body")" = "404 REVISION_NOT_FOUND"
audit=$(curl -fsS "$BERTH_SERVER/api/v1/audit?limit=1000")
check "the rollback is audited with its actor" bash -c "jq -e '.items[] | select(.action == \"rollback\" and .actor == \"local\")' <<<'$audit' >/dev/null"

# ---- a revision that never becomes healthy: FAILED after progress_deadline, rolled back -------
start_poll web broken.polls
spec web broken "{progress_deadline: 8s, auto_rollback: true}" >/dev/null
failed_revision() { revisions web | jq -e '.items[] | select(.spec.env.V == "broken" and .deploy.state == "FAILED")' >/dev/null; }
check "the broken revision's deploy FAILED after its progress deadline" wait_until 90 failed_revision
rolled_back() { [[ "$(status web | jq -r .spec.env.V)" == v2 ]] && deploy_state_is web DONE && [[ $(names_of web | wc -l) -eq 4 ]]; }
check "auto_rollback restored the previous revision" wait_until 90 rolled_back
stop_poll
log "broken deploy: $(polls broken.polls) polls, min ready $(min_ready broken.polls), max containers $(max_containers broken.polls)"
check "the old revision served with 4 replicas at every poll" test "$(min_ready broken.polls)" -ge 4
check "never more than 5 containers" test "$(max_containers broken.polls)" -le 5
check "every replica serves v2" wait_until 30 every_replica_serves web v2 4
revs=$(revisions web)
check "the failure says why" bash -c "jq -r '.items[] | select(.spec.env.V == \"broken\") | .deploy.message' <<<'$revs' | grep -q 'no progress for 8s'"
check "the rollback is a revision made by the controller" test "$(jq -r '.items[-1].actor' <<<"$revs")" = "controller (auto_rollback)"
ops=$(curl -fsS "$BERTH_SERVER/api/v1/resources/docker_service/web/operations?project=$PROJECT")
check "the failed deploy is in the deploy history" bash -c "jq -e '.items[] | select(.kind == \"deploy\" and .state == \"FAILED\")' <<<'$ops' >/dev/null"

# ---- recreate ---------------------------------------------------------------------------------
spec rec r1 "{strategy: recreate}" 2 >/dev/null
check "recreate: first revision deployed" wait_until 90 deployed rec 1
spec rec r2 "{strategy: recreate}" 2 >/dev/null
check "recreate: revision 2 deployed" wait_until 90 deployed rec 2
check "recreate: both replicas serve r2" wait_until 30 every_replica_serves rec r2 2
order() {
        berth events docker_service rec --project "$PROJECT" |
                grep -oE '(removed|created and started) [^ ]+ \(recreate to revision 2\)' | cut -c1-7 | tr '\n' ' '
}
order_is() { [[ "$(order)" == "removed removed created created " ]]; }
check "recreate: every old replica removed before a new one started" wait_until 15 order_is
log "recreate order: $(order)"

# ---- pre_deploy -------------------------------------------------------------------------------
HOOK='{pre_deploy: {command: [sh, -c, "echo migrating $V; if [ $V = bad ]; then echo migration 7 failed; exit 3; fi"]}}'
spec hook h1 "$HOOK" 2 >/dev/null
check "pre_deploy: first revision deployed (its hook exited 0)" wait_until 90 deployed hook 1
hook_log() { curl -fsS "$BERTH_SERVER/api/v1/resources/docker_service/hook/operations?project=$PROJECT" | jq -r '.items[] | select(.kind == "deploy") | .log'; }
hook_log_has() { hook_log | grep -q "$1"; }
check "pre_deploy: its output is in the deploy's history" hook_log_has 'migrating h1'
before=$(ids_of hook)
spec hook bad "$HOOK" 2 >/dev/null
check "a failing pre_deploy: the deploy FAILED" wait_until 60 deploy_state_is hook FAILED
says_why() { status hook | jq -r .status.message | grep -q 'pre_deploy exited with 3: migration 7 failed'; }
check "FAILED with the hook's exit code and last line" says_why
check "FAILED phase" is_phase docker_service hook FAILED
sleep 2
check "nothing changed: the same containers" test "$(ids_of hook)" = "$before"
check "nothing changed: they still serve h1" every_replica_serves hook h1 2
check "no hook container left behind" test -z "$(docker ps -aq --filter "label=berth.project=$PROJECT" --filter "label=berth.role=pre-deploy")"
spec hook h2 "$HOOK" 2 >/dev/null
check "a fixed spec deploys again" wait_until 90 deployed hook 3
check "... and serves h2" wait_until 30 every_replica_serves hook h2 2

# ---- kill -9 in the middle of a rolling deploy ------------------------------------------------
spec web v3 >/dev/null
mid_deploy() { names_of web | grep -q -- '-r[0-9]*$'; }
check "a rolling deploy is under way (a surge replica exists)" wait_until 60 mid_deploy
kill -KILL "$BERTHD_PID_main"
log "killed berthd mid-deploy with: $(names_of web | tr '\n' ' ')"
check "the kill interrupted the deploy (not every replica runs v3 yet)" not every_replica_serves web v3 4
start_berthd main
rev=$(revisions web | jq '.items | map(select(.spec.env.V == "v3")) | .[0].revision')
check "after the restart the deploy completes" wait_until 120 deployed web "$rev"
check "with exactly 4 containers under their stable names" test "$(names_of web | tr '\n' ' ')" = \
        "$PROJECT-web-app-0 $PROJECT-web-app-1 $PROJECT-web-app-2 $PROJECT-web-app-3 "
check "every replica serves v3" wait_until 30 every_replica_serves web v3 4
finish
