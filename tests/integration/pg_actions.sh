#!/usr/bin/env bash
# pg_actions: the API and CLI around a pg_single's queued actions, with authentication on.
# `berth secret get` reveals a value to the project's owner only (exact bytes, also binary ones),
# audited without the value; the parameters of backup, restore and vacuum are checked before
# anything is queued (restore with both a backup and a time, an unknown parameter, a malformed
# or future time, a body that is not JSON: each a 4xx naming the field); valid ones are queued
# as requests (GET .../requests) and normalised; GET .../backups lists a pg_single's backups and
# refuses other kinds; `berth backups` prints them. Parts that need a stored pg_single are
# skipped while model/document.c refuses the kind (KIND_NOT_SUPPORTED).
. "$(dirname "$0")/lib.sh"

export BERTH_AUTH=on
ADMIN_PW=admin-pw-$$-secret
mkdir -p "$IT_TMP/main"
printf '%s\n' "$ADMIN_PW" >"$IT_TMP/admin.pw"
BERTH_DATA_DIR=$IT_TMP/main "$BERTHD_BIN" init-admin --password-file "$IT_TMP/admin.pw" >/dev/null 2>&1
start_berthd main
S=$BERTH_SERVER

skip() { # DESCRIPTION REASON
        TESTS_RUN=$((TESTS_RUN + 1))
        printf 'ok %d - %s # SKIP %s\n' "$TESTS_RUN" "$1" "$2" >&3
}
# req METHOD PATH TOKEN [BODY]: prints the status; the body is in $IT_TMP/body.
req() {
        local args=(-sS -o "$IT_TMP/body" -w '%{http_code}' -X "$1")
        [[ -n ${3:-} ]] && args+=(-H "Authorization: Bearer $3")
        [[ -n ${4:-} ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
        curl "${args[@]}" "$S$2"
}
jbody() { jq -r "$1" "$IT_TMP/body" 2>/dev/null; }
login() {
        curl -sS -X POST "$S/api/v1/auth/login" \
                --data-binary "$(jq -nc --arg u "$1" --arg p "$2" '{username:$u,password:$p}')" |
                jq -r '.token // empty'
}
as() { # ROLE berth-args...: the CLI with that role's token, in this test's project
        local role=$1
        shift
        "$BERTH_BIN" --token "${TOK[$role]}" "$@" --project "$PROJECT"
}

# ---- users: one per project role ----
declare -A TOK
TOK[admin]=$(login admin "$ADMIN_PW")
check "admin logs in" test -n "${TOK[admin]}"
for role in viewer operator editor owner; do
        req POST /api/v1/users "${TOK[admin]}" "{\"username\":\"${role}1\",\"password\":\"pw-${role}-12345\"}" >/dev/null
        req PUT "/api/v1/projects/$PROJECT/members/${role}1" "${TOK[admin]}" "{\"role\":\"$role\"}" >/dev/null
        TOK[$role]=$(login "${role}1" "pw-${role}-12345")
        check "${role}1 is $role of the project and logs in" test -n "${TOK[$role]}"
done

# ---- berth secret get ----
rand() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
V_PASS="pw-$(rand)-Zz9"
as owner secret set orders-password --from-literal "$V_PASS" >/dev/null 2>&1 || true
check "owner: \$(berth secret get) is the value" test "$(as owner secret get orders-password 2>/dev/null)" = "$V_PASS"
as owner secret get orders-password >"$IT_TMP/got" 2>"$IT_TMP/err" || true
check "owner: stdout holds the value alone, no newline added" cmp -s "$IT_TMP/got" <(printf %s "$V_PASS")
check "owner: nothing on stderr" test ! -s "$IT_TMP/err"
check "admin: secret get works" test "$(as admin secret get orders-password 2>/dev/null)" = "$V_PASS"
for role in viewer operator editor; do
        rc=0
        as "$role" secret get orders-password >"$IT_TMP/got" 2>"$IT_TMP/err" || rc=$?
        check "$role: secret get refused (exit 1)" test "$rc" = 1
        check "$role: FORBIDDEN, and nothing on stdout" bash -c "grep -q FORBIDDEN '$IT_TMP/err' && test ! -s '$IT_TMP/got'"
        check "$role: the refusal holds no value" bash -c "! grep -qF -- '$V_PASS' '$IT_TMP/err'"
done
code=$(req GET "/api/v1/secrets/$PROJECT/orders-password" "${TOK[editor]}")
check "API: editor gets 403" test "$code" = 403
code=$(req GET "/api/v1/secrets/$PROJECT/orders-password" "")
check "API: no token, 401" test "$code" = 401
code=$(req GET "/api/v1/secrets/$PROJECT/orders-password" "${TOK[owner]}")
check "API: owner gets {project, name, version, encoding, value}" test \
        "$code $(jbody '"\(.project) \(.name) \(.version) \(.encoding) \(.value)"')" = "200 $PROJECT orders-password 1 utf-8 $V_PASS"
code=$(req GET "/api/v1/secrets/$PROJECT/no-such" "${TOK[owner]}")
check "API: a missing secret is 404 SECRET_NOT_FOUND" test "$code/$(jbody .code)" = "404/SECRET_NOT_FOUND"
rc=0
as owner secret get no-such >/dev/null 2>&1 || rc=$?
check "CLI: a missing secret fails" test "$rc" = 1

# Exact bytes: a trailing newline is kept, binary values travel as base64 and come back intact.
printf 'line-%s\n' "$(rand)" >"$IT_TMP/nl-value"
head -c 200 /dev/urandom >"$IT_TMP/bin-value"
printf '\0\377\376%s' "$(rand)" >>"$IT_TMP/bin-value"
as owner secret set with-newline --from-file "$IT_TMP/nl-value" >/dev/null 2>&1 || true
as owner secret set binary --from-file "$IT_TMP/bin-value" >/dev/null 2>&1 || true
as owner secret get with-newline >"$IT_TMP/got" 2>/dev/null || true
check "a value with a trailing newline comes back byte for byte" cmp -s "$IT_TMP/got" "$IT_TMP/nl-value"
as owner secret get binary >"$IT_TMP/got" 2>/dev/null || true
check "a binary value comes back byte for byte" cmp -s "$IT_TMP/got" "$IT_TMP/bin-value"
req GET "/api/v1/secrets/$PROJECT/binary" "${TOK[owner]}" >/dev/null
check "API: a binary value is base64" test "$(jbody .encoding)" = base64
check "secret get -o json is the API's answer" test \
        "$(as owner secret get orders-password -o json 2>/dev/null | jq -r .value)" = "$V_PASS"

reveals=$(psql_store main -c "select count(*) from audit where action = 'secret_reveal' and actor = 'owner1' and detail like '%\"name\":\"orders-password\"%'")
check "every reveal is audited (secret_reveal, actor, name)" test "$reveals" -ge 3
check "refused reveals are not audited as reveals" test \
        "$(psql_store main -c "select count(*) from audit where action = 'secret_reveal' and actor in ('viewer1', 'operator1', 'editor1')")" = 0
check "no audit row holds the value" test \
        "$(psql_store main -c "select count(*) from audit where detail like '%$V_PASS%'")" = 0
check "berthd's log holds no value" bash -c "! grep -qF -- '$V_PASS' '$IT_TMP/main/berthd.log'"

# ---- backups and requests of other kinds ----
printf 'kind: docker_service\nmetadata: {name: web, project: %s}\nspec: {image: berth/busybox:latest, command: [sleep, "3600"], replicas: 0}\n' \
        "$PROJECT" >"$IT_TMP/web.yaml"
code=$(req POST /api/v1/apply "${TOK[editor]}" "$(cat "$IT_TMP/web.yaml")")
check "a docker_service to compare with" test "$code" = 200
code=$(req GET "/api/v1/resources/docker_service/web/backups?project=$PROJECT" "${TOK[viewer]}")
check "backups of a docker_service: 404 BACKUPS_NOT_SUPPORTED" test "$code/$(jbody .code)" = 404/BACKUPS_NOT_SUPPORTED
code=$(req GET "/api/v1/resources/docker_service/web/requests?project=$PROJECT" "${TOK[viewer]}")
check "requests of a docker_service: 200, none" test "$code $(jbody '.items | length')" = "200 0"
code=$(req POST "/api/v1/resources/docker_service/web/actions/backup?project=$PROJECT" "${TOK[operator]}" '{}')
check "backup of a docker_service: 404 ACTION_NOT_SUPPORTED naming its actions" bash -c \
        "test '$code/$(jbody .code)' = 404/ACTION_NOT_SUPPORTED && jq -r .message '$IT_TMP/body' | grep -q 'restart, pause, resume'"
rc=0
as viewer backups orders >/dev/null 2>"$IT_TMP/err" || rc=$?
check "berth backups of a missing pg_single: exit 1, RESOURCE_NOT_FOUND" bash -c "test $rc = 1 && grep -q RESOURCE_NOT_FOUND '$IT_TMP/err'"

# ---- a pg_single ----
cat >"$IT_TMP/orders.yaml" <<YAML
kind: pg_single
metadata: {name: orders, project: $PROJECT}
spec:
  version: "15"
  plan: dev_single
  paused: true
YAML
code=$(req POST /api/v1/apply "${TOK[editor]}" "$(cat "$IT_TMP/orders.yaml")")
if [[ $code != 200 ]]; then
        log "pg_single not accepted yet ($code $(jbody .code)): skipping the action checks"
        for what in "restore with backup and time" "unknown parameter" "bad backup type" \
                "malformed time" "future time" "body not JSON" "viewer may not queue" \
                "backup queued" "restore queued, time normalised" "vacuum queued" \
                "requests listed" "backups listed" "berth backups" "restart, pause, resume"; do
                skip "$what" "pg_single refused by the model ($(jbody .code))"
        done
        finish
fi
ok "a pg_single (paused) to queue actions for"
act() { req POST "/api/v1/resources/pg_single/orders/actions/$1?project=$PROJECT" "${TOK[${3:-operator}]}" "${2:-}"; }
want_err() { # DESCRIPTION STATUS CODE FIELD ACTION BODY
        local code
        code=$(act "$5" "$6")
        if [[ "$code $(jbody .code) $(jbody '.field // ""')" == "$2 $3 $4" ]]; then ok "$1"; else not_ok "$1: got $code $(cat "$IT_TMP/body")"; fi
}
want_err "restore with both a backup and a time: 422 CONFLICT on params.time" 422 CONFLICT params.time \
        restore '{"backup":"20261123-101500F","time":"2026-11-23T10:15:00Z"}'
want_err "an unknown parameter: 422 UNKNOWN_FIELD" 422 UNKNOWN_FIELD params.target restore '{"target":"latest"}'
want_err "a bad backup type: 422 INVALID_VALUE" 422 INVALID_VALUE params.type backup '{"type":"weekly"}'
want_err "a malformed label: 422 INVALID_VALUE" 422 INVALID_VALUE params.backup restore '{"backup":"latest --delta"}'
want_err "a time without a zone: 422 INVALID_VALUE" 422 INVALID_VALUE params.time restore '{"time":"2026-01-02T03:04:05"}'
want_err "a time in the future: 422 INVALID_VALUE" 422 INVALID_VALUE params.time restore '{"time":"2999-01-01T00:00:00Z"}'
want_err "vacuum takes no parameters: 422 UNKNOWN_FIELD" 422 UNKNOWN_FIELD params.full vacuum '{"full":true}'
want_err "a body that is not JSON: 400 INVALID_JSON" 400 INVALID_JSON params backup 'type=full'
code=$(act backup '{"type":"full"}' viewer)
check "a viewer may not queue a backup: 403" test "$code" = 403
check "nothing was queued by the refusals" test \
        "$(req GET "/api/v1/resources/pg_single/orders/requests?project=$PROJECT" "${TOK[viewer]}" >/dev/null; jbody '.items | length')" = 0

failed_naming() { [[ $rc == 1 ]] && contains "$out" "$1"; }
rc=0
out=$(as operator do pg_single orders restore backup=20261123-101500F time=2026-11-23T10:15:00Z 2>&1) || rc=$?
check "berth do: restore with both fails (exit 1) naming the field" failed_naming params.time
rc=0
out=$(as operator do pg_single orders backup kind=full 2>&1) || rc=$?
check "berth do: an unknown parameter fails naming it" failed_naming params.kind

out=$(as operator do pg_single orders backup type=full 2>&1) || true
check "berth do pg_single orders backup type=full: queued" contains "$out" "backup queued as request"
code=$(act restore '{"time":"2026-01-02T04:04:05.5+01:00"}')
check "restore to a time: 202, the time in UTC" test "$code $(jbody .params.time)" = "202 2026-01-02T03:04:05.500000Z"
code=$(act vacuum '')
check "vacuum without a body: 202 with a request id" test "$code $(jbody '.request | type')" = "202 number"
code=$(req GET "/api/v1/resources/pg_single/orders/requests?project=$PROJECT" "${TOK[viewer]}")
check "requests: newest first, with normalised params and the actor" test \
        "$code $(jbody '[.items[] | "\(.action):\(.params.type // .params.time // "-"):\(.actor)"] | join(" ")')" = \
        "200 vacuum:-:operator1 restore:2026-01-02T03:04:05.500000Z:operator1 backup:full:operator1"
check "queued actions are audited with the caller" test \
        "$(psql_store main -c "select count(*) from audit where actor = 'operator1' and action in ('backup', 'restore', 'vacuum')")" = 3

code=$(req GET "/api/v1/resources/pg_single/orders/backups?project=$PROJECT" "${TOK[viewer]}")
check "backups of a pg_single: 200, a list" test "$code $(jbody '.backups | type')" = "200 array"
rc=0
as viewer backups orders >"$IT_TMP/got" 2>"$IT_TMP/err" || rc=$?
if [[ $(jbody '.backups | length') == 0 ]]; then
        check "berth backups with none: exit 0, says so" bash -c "test $rc = 0 && grep -q 'no backups' '$IT_TMP/err'"
else
        check "berth backups: a table with a label column" bash -c "test $rc = 0 && grep -q '^LABEL ' '$IT_TMP/got'"
fi

for a in restart pause resume; do
        code=$(act "$a" '')
        check "$a of a pg_single: 202" test "$code" = 202
done
finish
