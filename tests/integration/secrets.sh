#!/usr/bin/env bash
# secrets: set from a literal, a file and standard input; list shows versions, never values; the
# same value keeps its version, a new one bumps it and notifies the services that use it; delete
# is refused while a spec references the secret. Nothing berth stores, logs or answers holds a
# plaintext: not the state store's dump (nor base64 or hex of a value), not berthd's log, not any
# file of the data dir, not any GET of the API but the one that reveals a secret to its owner
# (tests/integration/pg_actions.sh has more on it).
. "$(dirname "$0")/lib.sh"

start_berthd main --log-level=debug
DATA=$IT_TMP/main
IN=$IT_TMP/inputs
mkdir -p "$IN"
chmod 700 "$IN"

rand() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Distinct values, none a substring of another.
V_LITERAL="lit-$(rand)-Pa55"
V_FILE="file-$(rand)-line"
V_STDIN="stdin-$(rand)-x"
V_JSON="json-$(rand)-y"
V_NEW="new-$(rand)-z"
V_OTHER="other-$(rand)-w"
VALUES=("$V_LITERAL" "$V_FILE" "$V_STDIN" "$V_JSON" "$V_NEW" "$V_OTHER")
printf '%s\nsecond line\n' "$V_FILE" >"$IN/file-value"
printf '%s\n' "$V_STDIN" >"$IN/stdin-value"

# no_value TEXT: TEXT holds none of the values.
no_value() {
        local v
        for v in "${VALUES[@]}"; do
                if contains "$1" "$v"; then
                        log "found a secret value in: ${1:0:200}"
                        return 1
                fi
        done
}

sp() { berth secret "$@" --project "$PROJECT"; }

# ---- the master key ----
check "master key created 0600 in the data dir" test "$(stat -c %a "$DATA/master.key" 2>/dev/null)" = 600
check "master key has 32 bytes" test "$(stat -c %s "$DATA/master.key" 2>/dev/null)" = 32

# ---- set, list ----
out=$(sp set db-pass --from-literal "$V_LITERAL" 2>&1) || true
check "set from a literal: created, version 1" contains "$out" "db-pass created (version 1"
check "set does not echo the value" no_value "$out"
out=$(sp set api-key --from-file "$IN/file-value" 2>&1) || true
check "set from a file: created, version 1" contains "$out" "api-key created (version 1"
out=$(sp set tls-key --from-stdin <"$IN/stdin-value" 2>&1) || true
check "set from stdin: created, version 1" contains "$out" "tls-key created (version 1"

table=$(sp list 2>&1)
check "list names the secrets" bash -c "grep -q '^api-key ' <<<\"\$1\" && grep -q '^db-pass ' <<<\"\$1\" && grep -q '^tls-key ' <<<\"\$1\"" _ "$table"
check "list shows no value" no_value "$table"
json=$(sp list -o json 2>&1)
versions() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join("%s=%s" % (i["name"], i["version"]) for i in d["items"]))' <<<"$json"; }
check "list -o json: versions" test "$(versions)" = "api-key=1 db-pass=1 tls-key=1"
check "list -o json: no value field" bash -c "! grep -q '\"value\"' <<<\"\$1\"" _ "$json"
check "list -o json shows no value" no_value "$json"

# ---- versions ----
out=$(sp set db-pass --from-literal "$V_LITERAL" 2>&1) || true
check "the same value again: unchanged, same version" contains "$out" "db-pass unchanged (version 1"
out=$(sp set api-key --from-file "$IN/file-value" 2>&1) || true
check "the same file again: unchanged" contains "$out" "api-key unchanged (version 1"
out=$(sp set db-pass --from-literal "$V_NEW" 2>&1) || true
check "a different value: updated, version 2" contains "$out" "db-pass updated (version 2"
json=$(sp list -o json 2>&1)
check "list shows version 2" test "$(versions)" = "api-key=1 db-pass=2 tls-key=1"

# ---- the API ----
api="$BERTH_SERVER/api/v1/secrets"
out=$(curl -sS -X PUT -H 'Content-Type: application/json' --data "{\"value\": \"$V_JSON\"}" "$api/$PROJECT/json-one") || true
check "PUT with a JSON body: version 1" contains "$out" '"version":1'
check "PUT answers no value" no_value "$out"
code=$(curl -sS -o "$IT_TMP/put-raw.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' --data-binary "$V_JSON" "$api/$PROJECT/json-one")
check "PUT of the same raw bytes: 200 unchanged" bash -c "[[ $code == 200 ]] && grep -q '\"outcome\":\"unchanged\"' '$IT_TMP/put-raw.out'"
code=$(curl -sS -o "$IT_TMP/reveal.out" -w '%{http_code}' "$api/$PROJECT/db-pass")
check "one route reads a value back, for the owner (GET one secret: 200)" test "$code" = 200
check "... the current value and version" test "$(jq -r '"\(.version) \(.encoding) \(.value)"' "$IT_TMP/reveal.out")" = "2 utf-8 $V_NEW"
rm -f "$IT_TMP/reveal.out"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary '' "$api/$PROJECT/empty")
check "an empty value is refused (400)" test "$code" = 400
head -c 65537 /dev/zero | tr '\0' 'a' >"$IN/too-big"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$IN/too-big" "$api/$PROJECT/big")
check "a value over 64 KiB is refused (413)" test "$code" = 413
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$api/$PROJECT/Bad_Name")
check "an invalid name is refused" test "$code" -ge 400 -a "$code" -lt 500
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$api/$PROJECT/no-such")
check "delete of a missing secret: 404" test "$code" = 404

# ---- the CLI refuses bad invocations ----
berth_rc() { "$BERTH_BIN" "$@" >/dev/null 2>&1; echo $?; }
check "two sources: usage error" test "$(berth_rc secret set x --from-literal a --from-file "$IN/file-value" -p "$PROJECT")" = 2
check "no source: usage error" test "$(berth_rc secret set x -p "$PROJECT")" = 2
check "invalid name: usage error" test "$(berth_rc secret set Bad_Name --from-literal a -p "$PROJECT")" = 2
check "too large a file: failure" test "$(berth_rc secret set big --from-file "$IN/too-big" -p "$PROJECT")" = 1
check "delete of a missing secret: failure" test "$(berth_rc secret delete no-such -p "$PROJECT")" = 1

# ---- a spec that references a secret ----
apply_yaml >/dev/null <<'YAML'
kind: docker_service
metadata: {name: app, project: __PROJECT__}
spec:
  image: berth/busybox:latest
  type: worker
  command: [sleep, "3600"]
  replicas: 1
  secrets:
    DB_PASSWORD: {secret: db-pass}
    tls.key: {secret: tls-key, as: file}
YAML
uuid=$(psql_store main -c "select uuid from resources where project = '$PROJECT' and name = 'app'")
check "service with secrets stored" test -n "$uuid"

# A LISTEN session on the spec channel. psql prints the notifications it has received after each
# statement it runs, so a marker statement flushes them; two markers in a row flush everything
# sent before the first (the listening backend forwards a notification at the latest when it
# goes idle after the first marker).
mkfifo "$IT_TMP/listen.in"
psql "$(store_url main)" -XAtq <"$IT_TMP/listen.in" >"$IT_TMP/listen.out" 2>&1 &
listener=$!
exec 5>"$IT_TMP/listen.in"
echo "LISTEN berth_spec;" >&5
marks=0
flush_listener() {
        marks=$((marks + 1))
        echo "SELECT 'mark-$marks';" >&5
        wait_until 30 grep -q "^mark-$marks\$" "$IT_TMP/listen.out"
}
settle() { flush_listener && flush_listener; }
notified_is() { flush_listener && [[ $(grep -c "payload \"$uuid\"" "$IT_TMP/listen.out" || true) -eq $1 ]]; }
check "listening" settle
sp set db-pass --from-literal "$V_NEW" >/dev/null 2>&1 || true
settle || true
check "an unchanged secret notifies nothing" notified_is 0
sp set db-pass --from-literal "$V_LITERAL" >/dev/null 2>&1 || true
check "a changed secret notifies the service that uses it" wait_until 30 notified_is 1
sp set json-one --from-literal "$V_OTHER" >/dev/null 2>&1 || true
settle || true
check "a secret the service does not use notifies nothing" notified_is 1
exec 5>&-
wait "$listener" || true

rc=0
out=$(sp delete db-pass 2>&1) || rc=$?
check "delete of a referenced secret is refused" test "$rc" -eq 1
check "the refusal names the resource" contains "$out" 'docker_service "app"'
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$api/$PROJECT/tls-key")
check "the API answers 409 for it" test "$code" = 409
check "the secret is still there" contains "$(sp list 2>&1)" db-pass
berth delete docker_service app --project "$PROJECT" >/dev/null || true
out=$(sp delete db-pass 2>&1) || true
check "delete once the service is being deleted" contains "$out" "db-pass deleted"
check "delete an unreferenced secret" contains "$(sp delete api-key 2>&1)" "api-key deleted"
check "list no longer shows them" bash -c "! grep -qE '^(db-pass|api-key) ' <<<\"\$1\"" _ "$(sp list 2>&1)"

# ---- nothing holds a plaintext ----
dump=$IT_TMP/store.sql
pg_dump "$(store_url main)" >"$dump"
check "the dump has the secrets table with rows" test "$(psql_store main -c "select count(*) from secrets where project = '$PROJECT'")" -ge 2
check "the dump holds the secrets table" grep -q 'COPY public.secrets' "$dump"
count_in() { # FILE VALUE: occurrences of the value, its base64 and its hex
        local f=$1 v=$2 b64 hex n=0
        b64=$(printf %s "$v" | base64 -w0)
        hex=$(printf %s "$v" | od -An -tx1 | tr -d ' \n')
        n=$((n + $(grep -c -a -F -e "$v" "$f" || true)))
        n=$((n + $(grep -c -a -F -e "${b64%%=*}" "$f" || true)))
        n=$((n + $(grep -c -a -F -e "$hex" "$f" || true)))
        echo "$n"
}
for v in "${VALUES[@]}"; do
        check "pg_dump holds no plaintext, base64 or hex of ${v%%-*}" test "$(count_in "$dump" "$v")" = 0
        check "berthd.log holds no ${v%%-*} value" test "$(count_in "$DATA/berthd.log" "$v")" = 0
        check "no file of the data dir holds the ${v%%-*} value" test -z "$(grep -r -l -a -F -e "$v" "$DATA" 2>/dev/null)"
done
check "audit rows for secret changes" test "$(psql_store main -c "select count(*) from audit where action in ('secret_set', 'secret_delete')")" -ge 8

# Every GET of the API.
gets=(
        "/api/v1/secrets?project=$PROJECT"
        "/api/v1/resources?project=$PROJECT"
        "/api/v1/resources/docker_service/app?project=$PROJECT"
        "/api/v1/resources/docker_service/app/events?project=$PROJECT"
        "/api/v1/resources/docker_service/app/operations?project=$PROJECT"
        "/api/v1/events?project=$PROJECT"
        "/api/v1/events"
        "/metrics"
        "/readyz"
        "/"
)
all=""
for g in "${gets[@]}"; do all+=$(curl -sS "$BERTH_SERVER$g" 2>&1 || true); done
check "no GET of the API answers a value" no_value "$all"
check "the GETs answered" contains "$all" json-one
finish
