#!/usr/bin/env bash
# Authentication and authorisation with BERTH_AUTH=on: init-admin, login (wrong password, rate
# limit), an authorisation matrix of every route x role x own / other project / no token /
# expired token / alg:none token, API tokens scoped to a project and role, logout and refresh,
# mass assignment, the audit trail's actors, the CLI's login, the refusal of a non-loopback
# address without TLS, and HTTPS with a self-signed certificate.
. "$(dirname "$0")/lib.sh"

export BERTH_AUTH=on
OTHER=zz-other-$$ # a project none of the test users belongs to
ADMIN_PW=admin-pw-$$-secret

# Objects of the other project are this test's too. (set +e: a failing step must not skip lib.sh's
# cleanup, which stops every berthd this test started.)
trap 'rc=$?
set +e
docker ps -aq --filter "label=berth.project=$OTHER" | xargs -r docker rm -f >/dev/null 2>&1
docker network ls -q --filter "label=berth.project=$OTHER" | xargs -r docker network rm >/dev/null 2>&1
docker volume ls -q --filter "label=berth.project=$OTHER" | xargs -r docker volume rm -f >/dev/null 2>&1
(exit $rc)
cleanup' EXIT

# ---- init-admin, before berthd runs -----------------------------------------------------------
mkdir -p "$IT_TMP/main"
printf '%s\n' "$ADMIN_PW" >"$IT_TMP/admin.pw"
check "init-admin with a password file" bash -c \
        "BERTH_DATA_DIR=$IT_TMP/main $BERTHD_BIN init-admin --password-file $IT_TMP/admin.pw >$IT_TMP/init.out 2>&1"
check "init-admin says what it made" grep -q 'created admin user "admin"' "$IT_TMP/init.out"
check "init-admin prints no password it was given" bash -c "! grep -q '$ADMIN_PW' $IT_TMP/init.out"
BERTH_DATA_DIR=$IT_TMP/main "$BERTHD_BIN" init-admin --username root2 >"$IT_TMP/init2.out" 2>&1
ROOT2_PW=$(sed -n 's/^one-time password (shown once): //p' "$IT_TMP/init2.out")
check "init-admin without a file prints a one-time password" test -n "$ROOT2_PW"
check "init-admin refuses an existing user" bash -c \
        "! BERTH_DATA_DIR=$IT_TMP/main $BERTHD_BIN init-admin --password-file $IT_TMP/admin.pw >$IT_TMP/init3.out 2>&1 && grep -q 'already exists' $IT_TMP/init3.out"

start_berthd main
S=$BERTH_SERVER
check "the session key is 32 bytes, mode 0600" \
        test "$(stat -c '%s %a' "$IT_TMP/main/jwt.key")" = "32 600"

# ---- helpers ----------------------------------------------------------------------------------
# req METHOD PATH TOKEN [BODY]: prints the status; the body is in $IT_TMP/body, headers in .../hdr.
req() {
        local args=(-sS -o "$IT_TMP/body" -D "$IT_TMP/hdr" -w '%{http_code}' -X "$1")
        [[ -n ${3:-} ]] && args+=(-H "Authorization: Bearer $3")
        [[ -n ${4:-} ]] && args+=(--data-binary "$4")
        curl "${args[@]}" "$S$2"
}
body_code() { jq -r '.code // empty' "$IT_TMP/body" 2>/dev/null; }
# login USER PASSWORD [curl args]: prints the session token (empty on failure).
login() {
        curl -sS "${@:3}" -X POST "$S/api/v1/auth/login" \
                --data-binary "$(jq -nc --arg u "$1" --arg p "$2" '{username:$u,password:$p}')" |
                jq -r '.token // empty'
}
# HS256 token signed with berthd's own key: sign_jwt HEADER_JSON PAYLOAD_JSON
sign_jwt() {
        python3 - "$IT_TMP/main/jwt.key" "$1" "$2" <<'PY'
import base64, hashlib, hmac, sys
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
key = open(sys.argv[1], "rb").read()
msg = b(sys.argv[2].encode()) + "." + b(sys.argv[3].encode())
print(msg + "." + b(hmac.new(key, msg.encode(), hashlib.sha256).digest()))
PY
}
unsigned_jwt() { # HEADER PAYLOAD SIG
        python3 -c 'import base64,sys; b=lambda x: base64.urlsafe_b64encode(x.encode()).rstrip(b"=").decode(); print(b(sys.argv[1])+"."+b(sys.argv[2])+"."+sys.argv[3])' "$1" "$2" "$3"
}
doc() { # NAME PROJECT [extra spec]: a docker_service that runs nothing (replicas 0)
        printf 'kind: docker_service\nmetadata: {name: %s, project: %s}\nspec: {image: berth/busybox:latest, command: [sleep, "3600"], replicas: 0%s}\n' \
                "$1" "$2" "${3:-}"
}

# init-admin while berthd runs: through the store's URL, or the running embedded store's socket.
printf 'late-admin-pw-%s\n' "$$" >"$IT_TMP/late.pw"
check "init-admin against the running store's URL" bash -c \
        "BERTH_DATABASE_URL='$(store_url main)' $BERTHD_BIN init-admin --username late1 --password-file $IT_TMP/late.pw >/dev/null 2>&1"
check "init-admin on the data dir of a running berthd" bash -c \
        "BERTH_DATA_DIR=$IT_TMP/main $BERTHD_BIN init-admin --username late2 --password-file $IT_TMP/late.pw >/dev/null 2>&1"
check "... which keeps running" curl -fsS "$S/readyz"

# ---- login ------------------------------------------------------------------------------------
ADMIN=$(login admin "$ADMIN_PW")
check "admin logs in" test -n "$ADMIN"
check "the one-time password of init-admin works" test -n "$(login root2 "$ROOT2_PW")"
check "wrong password: 401" test "$(req POST /api/v1/auth/login "" '{"username":"admin","password":"nope-nope"}')" = 401
check "wrong password: UNAUTHENTICATED" test "$(body_code)" = UNAUTHENTICATED
check "unknown user: the same 401" test "$(req POST /api/v1/auth/login "" '{"username":"nobody","password":"nope-nope"}')" = 401
check "admins made while berthd runs log in" test -n "$(login late1 "late-admin-pw-$$")" -a -n "$(login late2 "late-admin-pw-$$")"
check "login body with an unknown field: 422" test "$(req POST /api/v1/auth/login "" '{"username":"admin","password":"x","admin":true}')" = 422
check "no token: 401" test "$(req GET /api/v1/resources "")" = 401
check "401 names the Bearer scheme" grep -qi '^WWW-Authenticate: Bearer' "$IT_TMP/hdr"
check "garbage token: 401" test "$(req GET /api/v1/resources "not-a-token")" = 401
check "Basic auth: 401" test "$(curl -sS -o /dev/null -w '%{http_code}' -u admin:"$ADMIN_PW" "$S/api/v1/resources")" = 401

# ---- users, memberships, resources ------------------------------------------------------------
ROLES=(viewer operator editor owner)
for role in "${ROLES[@]}" guest victim; do
        code=$(req POST /api/v1/users "$ADMIN" "{\"username\":\"${role}1\",\"password\":\"pw-${role}-12345\"}")
        check "admin creates user ${role}1" test "$code" = 201
done
for role in "${ROLES[@]}"; do
        code=$(req PUT "/api/v1/projects/$PROJECT/members/${role}1" "$ADMIN" "{\"role\":\"$role\"}")
        check "${role}1 is $role of $PROJECT" test "$code" = 200
done
for who in "${ROLES[@]}" admin; do # targets of the member rows of the matrix
        req POST /api/v1/users "$ADMIN" "{\"username\":\"g-$who\",\"password\":\"12345678\"}" >/dev/null
done
check "duplicate user: 409" test "$(req POST /api/v1/users "$ADMIN" '{"username":"viewer1","password":"12345678"}')" = 409
check "reserved user name: 422" test "$(req POST /api/v1/users "$ADMIN" '{"username":"local","password":"12345678"}')" = 422
check "short password: 422" test "$(req POST /api/v1/users "$ADMIN" '{"username":"shorty","password":"1234"}')" = 422
check "a role other than the four: 422" test "$(req PUT "/api/v1/projects/$PROJECT/members/guest1" "$ADMIN" '{"role":"admin"}')" = 422
check "member of an unknown user: 404" test "$(req PUT "/api/v1/projects/$PROJECT/members/ghost" "$ADMIN" '{"role":"viewer"}')" = 404

declare -A TOK
for role in "${ROLES[@]}"; do
        TOK[$role]=$(login "${role}1" "pw-${role}-12345")
        check "${role}1 logs in" test -n "${TOK[$role]}"
done
TOK[admin]=$ADMIN

# Resources in both projects (replicas 0: nothing runs), made by the admin.
{
        doc web "$PROJECT"
        for who in "${ROLES[@]}" admin; do echo ---; doc "del-$who" "$PROJECT"; done
        echo ---; doc web "$OTHER"
        for who in "${ROLES[@]}" admin; do echo ---; doc "del-$who" "$OTHER"; done
} >"$IT_TMP/setup.yaml"
check "admin applies to both projects" test "$(req POST /api/v1/apply "$ADMIN" "$(cat "$IT_TMP/setup.yaml")")" = 200

# API tokens for the delete rows: one per role and project, made by the admin.
declare -A DELTOK
for who in "${ROLES[@]}" admin; do
        for p in "$PROJECT" "$OTHER"; do
                req POST /api/v1/tokens "$ADMIN" "{\"name\":\"del-$who\",\"project\":\"$p\",\"role\":\"viewer\"}" >/dev/null
                DELTOK[$who:$p]=$(jq -r .id "$IT_TMP/body")
        done
done

# Tokens that must be refused everywhere but on public routes.
NOW=$(date +%s)
EXPIRED=$(sign_jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"admin\",\"iat\":$((NOW - 3600)),\"exp\":$((NOW - 1800)),\"jti\":\"expired-$$\"}")
NONE=$(unsigned_jwt '{"alg":"none","typ":"JWT"}' "{\"sub\":\"admin\",\"iat\":$NOW,\"exp\":$((NOW + 600)),\"jti\":\"none-$$\"}" "")
NONE_SIGNED=$(unsigned_jwt '{"alg":"none","typ":"JWT"}' "{\"sub\":\"admin\",\"iat\":$NOW,\"exp\":$((NOW + 600)),\"jti\":\"none2-$$\"}" "c2lnbmF0dXJl")
HS512=$(unsigned_jwt '{"alg":"HS512","typ":"JWT"}' "{\"sub\":\"admin\",\"iat\":$NOW,\"exp\":$((NOW + 600)),\"jti\":\"hs512-$$\"}" "c2lnbmF0dXJl")
FUTURE=$(sign_jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"admin\",\"iat\":$((NOW + 3600)),\"exp\":$((NOW + 4000)),\"jti\":\"future-$$\"}")
GHOST=$(sign_jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"ghost\",\"iat\":$NOW,\"exp\":$((NOW + 600)),\"jti\":\"ghost-$$\"}")
FORGED=$(python3 - "$NOW" <<'PY'
import base64, hashlib, hmac, json, sys
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
now = int(sys.argv[1])
msg = b(b'{"alg":"HS256","typ":"JWT"}') + "." + b(json.dumps({"sub": "admin", "iat": now, "exp": now + 600, "jti": "forged"}).encode())
print(msg + "." + b(hmac.new(b"x" * 32, msg.encode(), hashlib.sha256).digest()))
PY
)
check "a token signed with berthd's key works (the forgeries below differ only as stated)" \
        test "$(req GET /api/v1/auth/whoami "$(sign_jwt '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"admin\",\"iat\":$NOW,\"exp\":$((NOW + 600)),\"jti\":\"ok-$$\"}")")" = 200
for t in EXPIRED NONE NONE_SIGNED HS512 FUTURE GHOST FORGED; do
        check "$t token: 401 UNAUTHENTICATED" bash -c \
                "test \"\$(curl -sS -o $IT_TMP/b2 -w '%{http_code}' -H 'Authorization: Bearer ${!t}' $S/api/v1/resources)\" = 401 && grep -q UNAUTHENTICATED $IT_TMP/b2"
done

# ---- the authorisation matrix -----------------------------------------------------------------
# ROUTE (as api/routes.c spells it) | METHOD | PATH | BODY | own project: viewer operator editor
# owner admin | other project: the same | no token, expired token, alg:none token. {P} is the
# project of the column, {W} the role of the column, {T} the id of the API token made for that
# role in that project. An expectation is STATUS or STATUS/CODE (the error's code); "ok" means
# authorised, whatever the route then answers (not 401, 403, nor 404 RESOURCE_NOT_FOUND);
# "-" skips the cell. Every route of api/routes.c must have a row.
APPLY_BODY='kind: docker_service\nmetadata: {name: app-{W}, project: {P}}\nspec: {image: berth/busybox:latest, replicas: 0}\n'
MATRIX=(
"GET /|GET|/||200 200 200 200 200|200 200 200 200 200|200 200 200"
"GET /healthz|GET|/healthz||200 200 200 200 200|200 200 200 200 200|200 200 200"
"GET /readyz|GET|/readyz||200 200 200 200 200|200 200 200 200 200|200 200 200"
"GET /metrics|GET|/metrics||200 200 200 200 200|200 200 200 200 200|200 200 200"
"POST /api/v1/auth/login|POST|/api/v1/auth/login|{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}|200 200 200 200 200|200 200 200 200 200|200 200 200"
"GET /api/v1/auth/whoami|GET|/api/v1/auth/whoami||200 200 200 200 200|200 200 200 200 200|401 401 401"
"GET /api/v1/resources|GET|/api/v1/resources?project={P}||200 200 200 200 200|200 200 200 200 200|401 401 401"
"GET /api/v1/resources/{kind}/{name}|GET|/api/v1/resources/docker_service/web?project={P}||200 200 200 200 200|404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 200|401 401 401"
"GET /api/v1/resources/{kind}/{name}/events|GET|/api/v1/resources/docker_service/web/events?project={P}||200 200 200 200 200|404 404 404 404 200|401 401 401"
"GET /api/v1/resources/{kind}/{name}/operations|GET|/api/v1/resources/docker_service/web/operations?project={P}||200 200 200 200 200|404 404 404 404 200|401 401 401"
"GET /api/v1/resources/{kind}/{name}/logs|GET|/api/v1/resources/docker_service/web/logs?project={P}||200 200 200 200 200|404 404 404 404 200|401 401 401"
"GET /api/v1/resources/{kind}/{name}/requests|GET|/api/v1/resources/docker_service/web/requests?project={P}||200 200 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"GET /api/v1/resources/{kind}/{name}/revisions|GET|/api/v1/resources/docker_service/web/revisions?project={P}||200 200 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"POST /api/v1/resources/{kind}/{name}/actions/{action}|POST|/api/v1/resources/docker_service/web/actions/rollback?project={P}|{\"revision\":1}|403/FORBIDDEN 202 202 202 202|404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 202|401 401 401"
"GET /api/v1/resources/{kind}/{name}/backups|GET|/api/v1/resources/docker_service/web/backups?project={P}||404/BACKUPS_NOT_SUPPORTED 404 404 404 404|404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/BACKUPS_NOT_SUPPORTED|401 401 401"
"GET /api/v1/resources/{kind}/{name}/runs|GET|/api/v1/resources/docker_service/web/runs?project={P}||404/RUNS_NOT_SUPPORTED 404 404 404 404|404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RUNS_NOT_SUPPORTED|401 401 401"
"POST /api/v1/resources/{kind}/{name}/actions/{action}|POST|/api/v1/resources/docker_service/web/actions/restart?project={P}||403/FORBIDDEN 202 202 202 202|404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 202|401 401 401"
"POST /api/v1/resources/{kind}/{name}/actions/{action}|POST|/api/v1/resources/docker_service/web/actions/fly?project={P}||403/FORBIDDEN 404/ACTION_NOT_SUPPORTED 404/ACTION_NOT_SUPPORTED 404/ACTION_NOT_SUPPORTED 404/ACTION_NOT_SUPPORTED|404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/RESOURCE_NOT_FOUND 404/ACTION_NOT_SUPPORTED|401 401 401"
"POST /api/v1/apply|POST|/api/v1/apply?dry_run=true|$APPLY_BODY|403/FORBIDDEN 403/FORBIDDEN 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"POST /api/v1/apply|POST|/api/v1/apply|$APPLY_BODY|403/FORBIDDEN 403/FORBIDDEN 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"DELETE /api/v1/resources/{kind}/{name}|DELETE|/api/v1/resources/docker_service/del-{W}?project={P}||403/FORBIDDEN 403/FORBIDDEN 202 202 202|404/RESOURCE_NOT_FOUND 404 404 404 202|401 401 401"
"GET /api/v1/events|GET|/api/v1/events?project={P}||200 200 200 200 200|200 200 200 200 200|401 401 401"
"GET /api/v1/events|GET|/api/v1/events?project={P}&kind=docker_service&name=web||200 200 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"GET /api/v1/projects/{project}/members|GET|/api/v1/projects/{P}/members||200 200 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"PUT /api/v1/projects/{project}/members/{user}|PUT|/api/v1/projects/{P}/members/g-{W}|{\"role\":\"viewer\"}|403/FORBIDDEN 403 403 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"DELETE /api/v1/projects/{project}/members/{user}|DELETE|/api/v1/projects/{P}/members/g-{W}||403/FORBIDDEN 403 403 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"POST /api/v1/tokens|POST|/api/v1/tokens|{\"name\":\"m-{W}\",\"project\":\"{P}\",\"role\":\"viewer\"}|403/FORBIDDEN 403 403 201 201|404/RESOURCE_NOT_FOUND 404 404 404 201|401 401 401"
"GET /api/v1/tokens|GET|/api/v1/tokens||200 200 200 200 200|200 200 200 200 200|401 401 401"
"DELETE /api/v1/tokens/{id}|DELETE|/api/v1/tokens/{T}||403/FORBIDDEN 403 403 200 200|404/TOKEN_NOT_FOUND 404 404 404 200|401 401 401"
"POST /api/v1/users|POST|/api/v1/users|{\"username\":\"u-{W}-{P}\",\"password\":\"12345678\"}|403/FORBIDDEN 403 403 403 201|403 403 403 403 201|401 401 401"
"GET /api/v1/users|GET|/api/v1/users||403/FORBIDDEN 403 403 403 200|403 403 403 403 200|401 401 401"
"GET /api/v1/audit|GET|/api/v1/audit||403/FORBIDDEN 403 403 403 200|403 403 403 403 200|401 401 401"
"GET /api/v1/projects/{project}/quota|GET|/api/v1/projects/{P}/quota||200 200 200 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"PUT /api/v1/projects/{project}/quota|PUT|/api/v1/projects/{P}/quota|{\"max_replicas\":1000}|403/FORBIDDEN 403 403 403 200|403 403 403 403 200|401 401 401"
"POST /api/v1/auth/refresh|POST|/api/v1/auth/refresh||200 200 200 200 200|200 200 200 200 200|401 401 401"
"POST /api/v1/auth/logout|POST|/api/v1/auth/logout||200 200 200 200 200|200 200 200 200 200|401 401 401"
"PUT /api/v1/secrets/{project}/{name}|PUT|/api/v1/secrets/{P}/s-{W}|value-{W}|403/FORBIDDEN 403 403 ok ok|404/RESOURCE_NOT_FOUND 404 404 404 ok|401 401 401"
"GET /api/v1/secrets|GET|/api/v1/secrets?project={P}||403/FORBIDDEN 403 403 ok ok|404/RESOURCE_NOT_FOUND 404 404 404 ok|401 401 401"
"GET /api/v1/secrets/{project}/{name}|GET|/api/v1/secrets/{P}/s-{W}||403/FORBIDDEN 403 403 200 200|404/RESOURCE_NOT_FOUND 404 404 404 200|401 401 401"
"DELETE /api/v1/secrets/{project}/{name}|DELETE|/api/v1/secrets/{P}/s-{W}||403/FORBIDDEN 403 403 ok ok|404/RESOURCE_NOT_FOUND 404 404 404 ok|401 401 401"
)
# refresh and logout revoke the session they are given: those rows get a fresh one.
fresh_token() { if [[ $1 == admin ]]; then login admin "$ADMIN_PW"; else login "${1}1" "pw-$1-12345"; fi; }
ALL_ROLES=("${ROLES[@]}" admin)

matrix_cell() { # DESCRIPTION EXPECTED METHOD PATH TOKEN BODY
        local what=$1 want=$2 code got
        [[ $want == - ]] && return 0
        code=$(req "$3" "$4" "$5" "$(printf "${6:-}")")
        got=$code
        if [[ $want == */* ]]; then got="$code/$(body_code)"; fi
        if [[ $want == ok ]]; then
                got="$code/$(body_code)"
                case $got in 401/* | 403/* | 404/RESOURCE_NOT_FOUND) ;; *) got=ok ;; esac
        fi
        if [[ $got == "$want" ]]; then ok "$what: $want"; else not_ok "$what: got $got, want $want ($(head -c 200 "$IT_TMP/body"))"; fi
}

# Every route has a row.
for route in $(sed -n 's/^ *{"\([A-Z]*\)", "\([^"]*\)".*/\1_\2/p' "$SRC_ROOT/api/routes.c"); do
        found=no
        for row in "${MATRIX[@]}"; do [[ ${row%%|*} == "${route/_/ }" ]] && found=yes; done
        check "route ${route/_/ } has a row in the authorisation matrix" test $found = yes
done

for row in "${MATRIX[@]}"; do
        IFS='|' read -r _ method path body own other anon <<<"$row"
        read -ra own_e <<<"$own"
        read -ra other_e <<<"$other"
        read -ra anon_e <<<"$anon"
        for side in own other; do
                if [[ $side == own ]]; then p=$PROJECT; exp=("${own_e[@]}"); else p=$OTHER; exp=("${other_e[@]}"); fi
                for i in "${!ALL_ROLES[@]}"; do
                        w=${ALL_ROLES[$i]}
                        want=${exp[$i]}
                        # A bare status repeats the code of the first cell of its group.
                        if [[ $want != */* && $want != ok && ${exp[0]} == */* && ${want%%/*} == "${exp[0]%%/*}" ]]; then want=${exp[0]}; fi
                        rp=${path//\{P\}/$p}; rp=${rp//\{W\}/$w}; rp=${rp//\{T\}/${DELTOK[$w:$p]:-none}}
                        rb=${body//\{P\}/$p}; rb=${rb//\{W\}/$w}
                        t=${TOK[$w]}
                        if [[ $path == /api/v1/auth/refresh || $path == /api/v1/auth/logout ]]; then t=$(fresh_token "$w"); fi
                        matrix_cell "$method ${path} as $w, $side project" "$want" "$method" "$rp" "$t" "$rb"
                done
        done
        rp=${path//\{P\}/$PROJECT}; rp=${rp//\{W\}/anon}; rp=${rp//\{T\}/${DELTOK[admin:$PROJECT]}}
        rb=${body//\{P\}/$PROJECT}; rb=${rb//\{W\}/anon}
        matrix_cell "$method ${path} without a token" "${anon_e[0]}" "$method" "$rp" "" "$rb"
        matrix_cell "$method ${path} with an expired token" "${anon_e[1]}" "$method" "$rp" "$EXPIRED" "$rb"
        matrix_cell "$method ${path} with an alg:none token" "${anon_e[2]}" "$method" "$rp" "$NONE" "$rb"
done

# What the matrix's 200s hold: lists keep visible projects only, and nothing of the other one.
req GET "/api/v1/resources" "${TOK[viewer]}" >/dev/null
check "viewer's list holds its project" test "$(jq -r --arg p "$PROJECT" '[.items[] | select(.project == $p)] | length' "$IT_TMP/body")" -ge 1
check "viewer's list holds nothing else" test "$(jq -r --arg p "$PROJECT" '[.items[] | select(.project != $p)] | length' "$IT_TMP/body")" = 0
req GET "/api/v1/resources" "$ADMIN" >/dev/null
check "admin's list holds the other project" test "$(jq -r --arg p "$OTHER" '[.items[] | select(.project == $p)] | length' "$IT_TMP/body")" -ge 1
req GET "/api/v1/events?project=$OTHER" "${TOK[owner]}" >/dev/null
check "events of the other project: none for a non-member" test "$(jq '.items | length' "$IT_TMP/body")" = 0
req GET "/api/v1/events" "${TOK[editor]}" >/dev/null
check "events: only the caller's projects" test "$(jq -r --arg p "$PROJECT" '[.items[] | select(.resource.project != $p)] | length' "$IT_TMP/body")" = 0
curl -sSN -m 3 -H "Authorization: Bearer ${TOK[viewer]}" "$S/api/v1/events?follow=true" >"$IT_TMP/sse" 2>/dev/null || true
check "event stream: the viewer's project" grep -q "\"project\":\"$PROJECT\"" "$IT_TMP/sse"
check "event stream: nothing of the other project" bash -c "! grep -q '$OTHER' $IT_TMP/sse"
curl -sSN -m 3 -H "Authorization: Bearer $ADMIN" "$S/api/v1/events?follow=true" >"$IT_TMP/sse" 2>/dev/null || true
check "event stream: the admin's has the other project" grep -q "$OTHER" "$IT_TMP/sse"
req GET "/api/v1/resources/docker_service/nonexistent?project=$PROJECT" "${TOK[viewer]}" >/dev/null
msg_missing=$(jq -r .message "$IT_TMP/body")
req GET "/api/v1/resources/docker_service/nonexistent?project=$OTHER" "${TOK[viewer]}" >/dev/null
msg_hidden=$(jq -r .message "$IT_TMP/body" | sed "s/$OTHER/$PROJECT/")
check "a hidden project reads exactly like a missing resource" test "$msg_missing" = "$msg_hidden"
req GET /api/v1/tokens "${TOK[viewer]}" >/dev/null
check "a viewer sees no token" test "$(jq '.items | length' "$IT_TMP/body")" = 0
req GET /api/v1/tokens "${TOK[owner]}" >/dev/null
check "an owner sees only its project's tokens" test "$(jq -r --arg p "$PROJECT" '[.items[] | select(.project != $p)] | length' "$IT_TMP/body")" = 0
check "token lists carry no secret" bash -c "! grep -q 'bt_\\|secret' $IT_TMP/body"
check "an editor cannot manage members" test "$(req PUT "/api/v1/projects/$PROJECT/members/guest1" "${TOK[editor]}" '{"role":"viewer"}')" = 403
check "an owner makes guest1 a viewer" test "$(req PUT "/api/v1/projects/$PROJECT/members/guest1" "${TOK[owner]}" '{"role":"viewer"}')" = 200
check "guest1 now sees the project" test "$(req GET "/api/v1/resources/docker_service/web?project=$PROJECT" "$(login guest1 pw-guest-12345)")" = 200
check "an owner may mint an owner token" test "$(req POST /api/v1/tokens "${TOK[owner]}" "{\"name\":\"x\",\"project\":\"$PROJECT\",\"role\":\"owner\"}")" = 201
check "a token role that does not exist: 422" test "$(req POST /api/v1/tokens "$ADMIN" "{\"name\":\"x\",\"project\":\"$PROJECT\",\"role\":\"admin\"}")" = 422

# ---- API tokens ------------------------------------------------------------------------------
req POST /api/v1/tokens "${TOK[owner]}" "{\"name\":\"ci\",\"project\":\"$PROJECT\",\"role\":\"editor\",\"expires_in\":\"2h\"}" >/dev/null
CI=$(jq -r .token "$IT_TMP/body")
CI_ID=$(jq -r .id "$IT_TMP/body")
check "token format bt_<id>_<secret>" bash -c "[[ '$CI' =~ ^bt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\$ ]]"
check "only the secret's sha256 is stored" test "$(psql_store main -c "select count(*) from api_tokens where secret_sha256 like '%${CI##*_}%' or secret_sha256 !~ '^[0-9a-f]{64}\$'")" = 0
check "API token: reads its project" test "$(req GET "/api/v1/resources/docker_service/web?project=$PROJECT" "$CI")" = 200
check "API token: 404 in another project" test "$(req GET "/api/v1/resources/docker_service/web?project=$OTHER" "$CI")" = 404
check "API token: applies in its project (editor)" test "$(req POST /api/v1/apply "$CI" "$(doc by-token "$PROJECT")")" = 200
check "API token: cannot apply elsewhere" test "$(req POST /api/v1/apply "$CI" "$(doc by-token "$OTHER")")" = 404
check "API token: cannot make tokens" test "$(req POST /api/v1/tokens "$CI" "{\"name\":\"y\",\"project\":\"$PROJECT\",\"role\":\"viewer\"}")" = 403
check "API token: cannot refresh" test "$(req POST /api/v1/auth/refresh "$CI")" = 400
req GET /api/v1/auth/whoami "$CI" >/dev/null
check "API token: whoami says token, role editor" test "$(jq -r '.kind + " " + .projects[0].role' "$IT_TMP/body")" = "token editor"
# The creator's current role caps the token: owner1 demoted to viewer.
req PUT "/api/v1/projects/$PROJECT/members/owner1" "$ADMIN" '{"role":"viewer"}' >/dev/null
check "API token: capped by its creator's role now" test "$(req POST /api/v1/apply "$CI" "$(doc by-token "$PROJECT")")" = 403
req PUT "/api/v1/projects/$PROJECT/members/owner1" "$ADMIN" '{"role":"owner"}' >/dev/null
check "API token: back when the creator is back" test "$(req POST /api/v1/apply "$CI" "$(doc by-token "$PROJECT")")" = 200
check "API token: a wrong secret is refused" test "$(req GET /api/v1/resources "${CI%?}$([[ ${CI: -1} == A ]] && echo B || echo A)")" = 401
psql_store main -c "update api_tokens set expires_at = now() - interval '1 second' where id = '$CI_ID'" >/dev/null
check "API token: expired is refused" test "$(req GET /api/v1/resources "$CI")" = 401
psql_store main -c "update api_tokens set expires_at = now() + interval '1 hour' where id = '$CI_ID'" >/dev/null
check "API token: deleted by its project's owner" test "$(req DELETE "/api/v1/tokens/$CI_ID" "${TOK[owner]}")" = 200
check "API token: refused once deleted" test "$(req GET /api/v1/resources "$CI")" = 401
check "token expires_in out of range: 422" test "$(req POST /api/v1/tokens "$ADMIN" "{\"name\":\"z\",\"project\":\"$PROJECT\",\"role\":\"viewer\",\"expires_in\":5}")" = 422
check "login without a password: 422" test "$(req POST /api/v1/auth/login "" '{"username":"admin"}')" = 422
check "login with a body that is not JSON: 400" test "$(req POST /api/v1/auth/login "" 'username=admin')" = 400

# ---- sessions: refresh, logout ----------------------------------------------------------------
S1=$(login editor1 pw-editor-12345)
check "refresh: 200" test "$(req POST /api/v1/auth/refresh "$S1")" = 200
S2=$(jq -r .token "$IT_TMP/body")
check "refresh: the new token works" test "$(req GET /api/v1/auth/whoami "$S2")" = 200
check "refresh: the old token is revoked" test "$(req GET /api/v1/auth/whoami "$S1")" = 401
check "logout: 200" test "$(req POST /api/v1/auth/logout "$S2")" = 200
check "logout then reuse: 401" test "$(req GET /api/v1/resources "$S2")" = 401
check "logout then reuse says revoked" grep -q revoked "$IT_TMP/body"
check "the revocation list holds the jti with its expiry" test "$(psql_store main -c "select count(*) from revoked_tokens where expires_at > now()")" -ge 2

# ---- mass assignment ----------------------------------------------------------------------------
code=$(req POST /api/v1/apply "${TOK[editor]}" "$(doc mass "$PROJECT")
status: {phase: RUNNING}")
check "apply with status: 422 (read-only)" test "$code" = 422
code=$(req POST /api/v1/apply "${TOK[editor]}" "kind: docker_service
metadata: {name: mass, project: $PROJECT, generation: 7}
spec: {image: berth/busybox:latest, replicas: 0}")
check "apply with metadata.generation: 422" test "$code" = 422
code=$(req POST /api/v1/apply "${TOK[editor]}" "kind: docker_service
metadata: {name: mass, project: $PROJECT, uid: 1b4e28ba-2fa1-11d2-883f-0016d3cca427}
spec: {image: berth/busybox:latest, replicas: 0}")
check "apply with metadata.uid: 422" test "$code" = 422
check "nothing stored by refused applies" test "$(psql_store main -c "select count(*) from resources where name = 'mass'")" = 0
check "users API: admin cannot be set through members" test "$(req PUT "/api/v1/projects/$PROJECT/members/guest1" "${TOK[owner]}" '{"role":"viewer","admin":true}')" = 422
check "users API: unknown fields refused" test "$(req POST /api/v1/users "$ADMIN" '{"username":"mass1","password":"12345678","role":"admin"}')" = 422
check "apply in two projects, one not visible: 404" \
        test "$(req POST /api/v1/apply "${TOK[editor]}" "$(doc aon-1 "$PROJECT"; echo ---; doc aon-2 "$OTHER")")" = 404
check "... and the allowed document was not stored" test "$(psql_store main -c "select count(*) from resources where name = 'aon-1'")" = 0

# ---- the CLI -----------------------------------------------------------------------------------
export XDG_CONFIG_HOME=$IT_TMP/xdg
unset BERTH_TOKEN || true
check "berth login --password-stdin" bash -c "echo pw-editor-12345 | $BERTH_BIN login --username editor1 --password-stdin"
check "token file 0600 in a 0700 directory" test "$(stat -c %a "$XDG_CONFIG_HOME/berth/token") $(stat -c %a "$XDG_CONFIG_HOME/berth")" = "600 700"
check "berth get uses the session" bash -c "$BERTH_BIN get -p $PROJECT | grep -q web"
check "berth get of the other project shows nothing" bash -c "! $BERTH_BIN get -p $OTHER -o json | grep -q '\"name\"'"
check "berth member list" bash -c "$BERTH_BIN member list -p $PROJECT | grep -q owner1"
check "berth login --refresh" bash -c "$BERTH_BIN login --refresh >/dev/null"
check "berth logout" bash -c "$BERTH_BIN logout >/dev/null"
check "token file removed" test ! -e "$XDG_CONFIG_HOME/berth/token"
check "berth get after logout: exit 1" bash -c "$BERTH_BIN get >/dev/null 2>&1; test \$? -eq 1"
check "berth login with a wrong password: exit 1" bash -c "echo wrong-pw | $BERTH_BIN login --username editor1 --password-stdin >/dev/null 2>&1; test \$? -eq 1"
echo pw-owner-12345 | "$BERTH_BIN" login --username owner1 --password-stdin >/dev/null
CLI_TOKEN=$("$BERTH_BIN" token create cli-made --role viewer -p "$PROJECT" 2>/dev/null)
check "berth token create prints the token" bash -c "[[ '$CLI_TOKEN' == bt_* ]]"
check "BERTH_TOKEN with it reads the project" bash -c "BERTH_TOKEN=$CLI_TOKEN $BERTH_BIN get -p $PROJECT | grep -q web"
check "berth token list" bash -c "$BERTH_BIN token list | grep -q cli-made"
"$BERTH_BIN" logout >/dev/null
unset XDG_CONFIG_HOME

# ---- rate limit (from addresses of their own, so other logins are not throttled) -------------
for i in 1 2 3 4 5; do
        c=$(curl -sS -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -X POST "$S/api/v1/auth/login" -d '{"username":"nosuchuser","password":"bad-bad-bad"}')
        check "failed login $i from 127.0.0.3: 401" test "$c" = 401
done
check "6th failure from one address: 429" test "$(curl -sS -o "$IT_TMP/body" -D "$IT_TMP/hdr" -w '%{http_code}' --interface 127.0.0.3 -X POST "$S/api/v1/auth/login" -d '{"username":"other","password":"bad-bad-bad"}')" = 429
check "429 has Retry-After" grep -qiE '^Retry-After: [0-9]+' "$IT_TMP/hdr"
check "429 code TOO_MANY_REQUESTS" test "$(body_code)" = TOO_MANY_REQUESTS
for i in 1 2 3 4 5; do
        curl -sS -o /dev/null --interface 127.0.0.4 -X POST "$S/api/v1/auth/login" -d '{"username":"victim1","password":"bad-bad-bad"}'
done
check "5 failures for one user: even its right password gets 429" test "$(curl -sS -o /dev/null -D "$IT_TMP/hdr" -w '%{http_code}' -X POST "$S/api/v1/auth/login" -d '{"username":"victim1","password":"pw-victim-12345"}')" = 429
check "other users still log in from that address" test -n "$(login viewer1 pw-viewer-12345)"

# ---- the audit trail ----------------------------------------------------------------------------
audit_has() { # ACTOR ACTION [detail substring]
        test "$(psql_store main -c "select count(*) from audit where actor = '$1' and action = '$2' and coalesce(detail, '') like '%${3:-}%'")" -ge 1
}
check "audit: admin's user_create" audit_has admin user_create
check "audit: init-admin" audit_has init-admin user_create
check "audit: admin's member_set" audit_has admin member_set "user viewer1 role viewer"
check "audit: editor1's apply" audit_has editor1 apply "$PROJECT"
check "audit: editor1's delete" audit_has editor1 delete del-editor
check "audit: owner1's member_set" audit_has owner1 member_set guest1
check "audit: owner1's token_create" audit_has owner1 token_create
check "audit: owner1's secret_reveal, naming the secret" audit_has owner1 secret_reveal '"name":"s-owner"'
check "audit: owner1's token_delete" audit_has owner1 token_delete
check "audit: the API token's apply, as owner1/token:<id>" audit_has "owner1/token:$CI_ID" apply by-token
check "audit: editor1's refresh" audit_has editor1 refresh
check "audit: editor1's logout" audit_has editor1 logout
check "audit: successful login" audit_has admin login
check "audit: failed login with the attempted name" audit_has nosuchuser login_failed 127.0.0.3
check "audit: throttled login" audit_has victim1 login_failed "rate limited"
check "audit: no anonymous or local actor with authentication on" \
        test "$(psql_store main -c "select count(*) from audit where actor in ('anonymous', 'local')")" = 0
check "no password or token in berthd's log" bash -c \
        "! grep -qF -e '$ADMIN_PW' -e pw-editor-12345 -e '${ADMIN##*.}' -e '${CI##*_}' $IT_TMP/main/berthd.log"

# ---- authentication off (loopback): every request is the admin "local", audited as such ---------
oport=$(free_port)
mkdir -p "$IT_TMP/off"
BERTH_AUTH=off BERTH_DATA_DIR=$IT_TMP/off BERTH_DATABASE_URL=$(store_url main) "$BERTHD_BIN" --role=api \
        --listen "127.0.0.1:$oport" >>"$IT_TMP/off/berthd.log" 2>&1 3>&- &
BERTHD_PIDS+=($!)
check "auth off: berthd answers" wait_until 60 curl -fsS "http://127.0.0.1:$oport/healthz"
check "auth off: apply without a token" test "$(S=http://127.0.0.1:$oport req POST /api/v1/apply "" "$(doc by-local "$PROJECT")")" = 200
check "auth off: a token is not needed for the users list either (admin local)" test "$(S=http://127.0.0.1:$oport req GET /api/v1/users "")" = 200
check "auth off: audited as local" audit_has local apply by-local

# ---- exposure: a non-loopback address needs TLS and authentication ------------------------------
port=$(free_port)
rc=0
BERTH_DATA_DIR=$IT_TMP/refuse timeout 20 "$BERTHD_BIN" --listen "0.0.0.0:$port" >"$IT_TMP/refuse.log" 2>&1 || rc=$?
check "0.0.0.0 without TLS: berthd exits non-zero" test "$rc" -ne 0
check "... naming BERTH_TLS_CERT" grep -q BERTH_TLS_CERT "$IT_TMP/refuse.log"
rc=0
BERTH_AUTH=off BERTH_TLS_CERT=/nonexistent BERTH_TLS_KEY=/nonexistent BERTH_DATA_DIR=$IT_TMP/refuse \
        timeout 20 "$BERTHD_BIN" --listen "0.0.0.0:$port" >"$IT_TMP/refuse2.log" 2>&1 || rc=$?
check "0.0.0.0 with BERTH_AUTH=off: exits non-zero" test "$rc" -ne 0
check "... naming BERTH_AUTH" grep -q 'BERTH_AUTH' "$IT_TMP/refuse2.log"
rc=0
BERTH_TLS_CERT=/nonexistent BERTH_DATA_DIR=$IT_TMP/refuse timeout 20 "$BERTHD_BIN" --listen "127.0.0.1:$port" >"$IT_TMP/refuse3.log" 2>&1 || rc=$?
check "a certificate without its key: exits non-zero" test "$rc" -ne 0
check "... naming BERTH_TLS_KEY" grep -q BERTH_TLS_KEY "$IT_TMP/refuse3.log"
check "nothing was started for the refusals" test ! -e "$IT_TMP/refuse/state"

# ---- HTTPS with a self-signed certificate (on loopback; an API-only berthd on the same store) ---
if command -v openssl >/dev/null 2>&1 &&
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IT_TMP/key.pem" -out "$IT_TMP/cert.pem" \
                -days 1 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1; then
        tport=$(free_port)
        mkdir -p "$IT_TMP/tls"
        BERTH_DATA_DIR=$IT_TMP/tls BERTH_DATABASE_URL=$(store_url main) BERTH_TLS_CERT=$IT_TMP/cert.pem \
                BERTH_TLS_KEY=$IT_TMP/key.pem "$BERTHD_BIN" --role=api --listen "127.0.0.1:$tport" \
                >>"$IT_TMP/tls/berthd.log" 2>&1 3>&- &
        BERTHD_PIDS+=($!)
        check "https: berthd answers with the self-signed certificate" \
                wait_until 60 curl -fsS --cacert "$IT_TMP/cert.pem" "https://127.0.0.1:$tport/healthz"
        T=$(S=https://127.0.0.1:$tport login admin "$ADMIN_PW" --cacert "$IT_TMP/cert.pem")
        check "https: login" test -n "$T"
        check "https: an authenticated call" test "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$IT_TMP/cert.pem" -H "Authorization: Bearer $T" "https://127.0.0.1:$tport/api/v1/auth/whoami")" = 200
        check "https: no token, 401" test "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$IT_TMP/cert.pem" "https://127.0.0.1:$tport/api/v1/resources")" = 401
        check "https: Strict-Transport-Security" bash -c "curl -sS -D - -o /dev/null --cacert $IT_TMP/cert.pem https://127.0.0.1:$tport/healthz | grep -qi '^Strict-Transport-Security'"
        check "https: an unknown CA is refused by the client" bash -c "! curl -sS -o /dev/null https://127.0.0.1:$tport/healthz 2>/dev/null"
        check "https: plain http gets no answer" bash -c "! curl -fsS -m 5 -o /dev/null http://127.0.0.1:$tport/healthz 2>/dev/null"
        check "https: the log says https and authentication on" grep -q 'https, authentication on' "$IT_TMP/tls/berthd.log"
else
        log "openssl cannot make a certificate: HTTPS checks skipped"
fi

finish
