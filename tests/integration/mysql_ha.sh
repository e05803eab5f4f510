#!/usr/bin/env bash
# mysql_ha: one spec gives a MariaDB primary and two replicas with GTID replication and
# semi-synchronous commits (AFTER_SYNC), behind an HAProxy that publishes only the write and read
# ports on 127.0.0.1. A row written through the write port appears on both replicas; a read
# through the read port lands on a replica; replicas are read-only; berth's users have the least
# privileges they need and no password shows in a container's configuration. Bad input (semi-sync
# with no replica, ports that collide, flavor oracle) is each a 4xx naming its field and changes
# nothing. Delete removes the containers, the volumes and the network.
. "$(dirname "$0")/mysql-lib.sh"

start_berthd main
start_client
N=db
WP=$(free_port)
RP=$(free_port)
while [[ $RP == "$WP" ]]; do RP=$(free_port); done
P0=$(member_of $N 0)
P1=$(member_of $N 1)
P2=$(member_of $N 2)
PX=$(proxy_of $N)

spec() { # [extra spec lines, indented by two spaces] [topology] [proxy]
        cat <<YAML
kind: mysql_ha
metadata: {name: $N, project: $PROJECT}
spec:
  version: "10.11"
  topology: ${2:-{replicas: 2, semi_sync: true, max_replication_lag: 30s\}}
  proxy: ${3:-{write_port: $WP, read_port: $RP\}}
  initial_db_name: shop
${1:-}
YAML
}

spec | berth apply -f - >/dev/null
check "1 primary + 2 replicas with semi_sync converge to RUNNING" wait_until 150 converged $N
PW=$(my_password $N)
check "the password was generated into $N-password" test "${#PW}" -ge 16
check "three members and the proxy" test "$(containers | tr '\n' ' ')" = "$CLIENT $P0 $P1 $P2 $PX "

J=$(my_json $N)
check "status.endpoints.write is 127.0.0.1:$WP" test "$(jq -r .status.endpoints.write <<<"$J")" = "127.0.0.1:$WP"
check "status.endpoints.read is 127.0.0.1:$RP" test "$(jq -r .status.endpoints.read <<<"$J")" = "127.0.0.1:$RP"
check "status names the primary" test "$(jq -r .status.primary <<<"$J")" = "$P0"
check "status.nodes: primary, two replicas, proxy" test \
        "$(jq -r '[.status.nodes[] | .role] | sort | join(",")' <<<"$J")" = primary,proxy,replica,replica
check "no part of the resource's JSON holds the password" bash -c "! grep -qF -- \"\$2\" <<<\"\$1\"" _ "$J" "$PW"

# ---- only the proxy publishes, only its two ports ----
published() { docker inspect -f '{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{.HostIp}}:{{.HostPort}} {{end}}{{end}}' "$1"; }
check "no member publishes a port" test "$(published "$P0")$(published "$P1")$(published "$P2")" = ""
check "the proxy publishes exactly 127.0.0.1:$WP and 127.0.0.1:$RP" test \
        "$(published "$PX" | tr ' ' '\n' | sort -u | grep . | tr '\n' ' ')" = \
        "$(printf '127.0.0.1:%s\n127.0.0.1:%s\n' "$WP" "$RP" | sort | tr '\n' ' ')"

# ---- replication as configured ----
check "the primary is writable, the replicas read-only" test \
        "$(root_sql "$P0" 'SELECT @@read_only'),$(root_sql "$P1" 'SELECT @@read_only'),$(root_sql "$P2" 'SELECT @@read_only')" = 0,1,1
check "server_id per member" test \
        "$(root_sql "$P0" 'SELECT @@server_id'),$(root_sql "$P1" 'SELECT @@server_id'),$(root_sql "$P2" 'SELECT @@server_id')" = 1,2,3
check "log_bin, log_slave_updates, gtid_strict_mode, binlog_format=ROW" test \
        "$(root_sql "$P1" 'SELECT CONCAT_WS(",", @@log_bin, @@log_slave_updates, @@gtid_strict_mode, @@binlog_format)')" = ON,ON,ON,ROW
check "semi-sync wait point AFTER_SYNC" test \
        "$(root_sql "$P0" 'SELECT @@rpl_semi_sync_master_wait_point')" = AFTER_SYNC
semi_on() {
        [[ $(root_sql "$P0" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS'") == ON &&
                $(root_sql "$P0" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'") == 2 ]]
}
check "semi-sync is on at the primary, with both replicas acknowledging" wait_until 30 semi_on
slave_status() { docker exec "$1" mariadb -e 'SHOW SLAVE STATUS\G'; }
uses_gtid() { slave_status "$1" | grep -qE 'Using_Gtid: (Slave|Current)_Pos'; }
both_gtid() { uses_gtid "$P1" && uses_gtid "$P2" && slave_status "$P2" | grep -q "Master_Host: $P0"; }
check "both replicas replicate by GTID from the primary" both_gtid

# ---- writes go to the primary and reach the replicas; reads land on a replica ----
app_sql "$WP" "$PW" 'CREATE TABLE t (id int PRIMARY KEY, note varchar(32))' >/dev/null
app_sql "$WP" "$PW" "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')" >/dev/null
check "a write through 127.0.0.1:$WP lands on the primary (server_id 1)" test "$(app_sql "$WP" "$PW" 'SELECT @@server_id')" = 1
row_on() { [[ $(root_sql "$1" 'SELECT note FROM shop.t WHERE id = 3' 2>/dev/null) == three ]]; }
check "the row appears on replica 1" wait_until 20 row_on "$P1"
check "the row appears on replica 2" wait_until 20 row_on "$P2"
ids=""
for _ in 1 2 3 4 5 6; do ids+="$(app_sql "$RP" "$PW" 'SELECT @@server_id') "; done
log "reads through the read port: server_id $ids"
check "reads through 127.0.0.1:$RP land on replicas (server_id 2 or 3), both in turn" \
        bash -c "[[ ! ' $ids' =~ ' 1 ' ]] && [[ ' $ids' =~ ' 2 ' ]] && [[ ' $ids' =~ ' 3 ' ]]"
rc=0
out=$(app_sql "$RP" "$PW" "INSERT INTO t VALUES (9, 'nine')" 2>&1) || rc=$?
check "a write through the read port is refused (read-only replica)" bash -c "[[ $rc != 0 ]] && grep -q read-only <<<\"\$1\"" _ "$out"
rc=0
out=$(docker exec -e "MYSQL_PWD=not-$PW" "$CLIENT" mariadb -h 127.0.0.1 -P "$WP" -u app --connect-timeout=3 -e 'SELECT 1' shop 2>&1) || rc=$?
check "a wrong password is refused" bash -c "[[ $rc != 0 ]] && grep -q 'Access denied' <<<\"\$1\"" _ "$out"

# ---- users: least privileges; passwords only in files ----
check "the replication user may only replicate" test \
        "$(root_sql "$P0" "SHOW GRANTS FOR 'berth_repl'@'%'" | head -1 | sed 's/ IDENTIFIED BY.*//')" = \
        "GRANT REPLICATION SLAVE ON *.* TO \`berth_repl\`@\`%\`"
check "the monitor user may only look" test \
        "$(root_sql "$P0" "SHOW GRANTS FOR 'berth_monitor'@'%'" | head -1 | sed 's/ IDENTIFIED BY.*//')" = \
        "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO \`berth_monitor\`@\`%\`"
check "the application user has its database only" bash -c "[[ \$(docker exec $P0 mariadb -N -e \"SHOW GRANTS FOR 'app'@'%'\") == *'ALL PRIVILEGES ON \`shop\`.*'* ]]"
REPL_PW=$(berth secret get "$N-replication" --project "$PROJECT" 2>/dev/null)
check "the replication password is a berth secret" test "${#REPL_PW}" -ge 16
check "no password in any container's configuration (env, command)" bash -c \
        "! docker inspect $P0 $P1 $P2 $PX | grep -qF -e \"\$1\" -e \"\$2\"" _ "$PW" "$REPL_PW"
check "... it is a 0400 file inside" test "$(docker exec "$P0" stat -c %a /run/berth/password)" = 400

# ---- bad input: each a 4xx with a code and the field, and nothing changes ----
GEN=$(my_jq $N .metadata.generation)
bad() { # DESCRIPTION FIELD EXTRA-SPEC-LINES [TOPOLOGY] [PROXY]
        local code body
        body=$(spec "$3" "${4:-}" "${5:-}")
        code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
                --data-binary "$body" "$BERTH_SERVER/api/v1/apply")
        if [[ $code == 4?? && -n $(jq -r '.code // empty' "$IT_TMP/body") &&
                $(jq -r .field "$IT_TMP/body") == "$2" ]]; then
                ok "$1: $code $(jq -r .code "$IT_TMP/body") on $2"
        else
                not_ok "$1: got $code $(tr '\n' ' ' <"$IT_TMP/body")"
        fi
        if spec "$3" "${4:-}" "${5:-}" | berth apply -f - >/dev/null 2>&1; then not_ok "$1: berth apply succeeded"; else ok "$1: berth apply fails"; fi
}
bad "replicas: 0 with semi_sync: true" spec.topology.semi_sync '' '{replicas: 0, semi_sync: true}'
bad "write and read ports that collide" spec.proxy.read_port '' '' "{write_port: $WP, read_port: $WP}"
bad "flavor: oracle" spec.flavor '  flavor: oracle'
bad "proxy.type: proxysql (not supported yet)" spec.proxy.type '' '' '{type: proxysql}'

check "bad input left the generation as it was" test "$(my_jq $N .metadata.generation)" = "$GEN"
check "bad input created no container" test "$(containers | wc -l)" = 5
check "still RUNNING" converged $N

# ---- an unchanged spec plans nothing ----
plan=$(spec | curl -sS -X POST -H 'Content-Type: application/yaml' --data-binary @- "$BERTH_SERVER/api/v1/apply?dry_run=true")
check "a dry run of the unchanged spec: unchanged, no action" test \
        "$(jq -r '.results[0].outcome + " " + (.results[0].plan | length | tostring)' <<<"$plan")" = "unchanged 0"

# ---- delete ----
berth delete mysql_ha $N --project "$PROJECT" >/dev/null
gone() { [[ -z $(docker ps -aq --filter "label=berth.project=$PROJECT" --filter "label=berth.name=$N") &&
        -z $(docker volume ls -q --filter "label=berth.project=$PROJECT" --filter "label=berth.name=$N") ]] &&
        ! docker network inspect "berth-$PROJECT-$N" >/dev/null 2>&1; }
check "delete removes the members, the proxy, the volumes and the network" wait_until 90 gone
row_gone() { ! berth get mysql_ha $N -p "$PROJECT" >/dev/null 2>&1; }
check "... and the resource" wait_until 30 row_gone

finish
