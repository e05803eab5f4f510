# shellcheck shell=bash
# Helpers shared by the mysql_ha scenarios (tests/integration/mysql_*.sh), on top of lib.sh: the
# resource's JSON, its generated password, SQL through the proxy's ports as an application on
# the host would (a client container on the host's network: the host has no mariadb client), SQL
# as root inside a member, and a writer loop that records every acknowledged insert.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARIADB_IMAGE=${MARIADB_IMAGE:-berth/mariadb:10.11}
CLIENT=$PROJECT-client

my_json() { berth get mysql_ha "$1" --project "$PROJECT" -o json 2>/dev/null; }
my_jq() { my_json "$1" | jq -r "$2"; }
my_password() { berth secret get "$1-password" --project "$PROJECT" 2>/dev/null; }
member_of() { printf '%s-%s-db-%s' "$PROJECT" "$1" "$2"; }
proxy_of() { printf '%s-%s-proxy-0' "$PROJECT" "$1"; }

# converged NAME [PHASE]: the controller acted on the current generation and reports PHASE.
converged() {
        local j
        j=$(my_json "$1") || return 1
        [[ $(jq -r '"\(.status.phase) \(.status.observed_generation == .metadata.generation)"' <<<"$j") == "${2:-RUNNING} true" ]]
}

# start_client: a long-lived container on the host's network, labelled so cleanup removes it.
start_client() {
        docker rm -f "$CLIENT" >/dev/null 2>&1 || true
        docker run -d --name "$CLIENT" --label "berth.project=$PROJECT" --network host \
                --entrypoint sleep "$MARIADB_IMAGE" infinity >/dev/null
}

# app_sql PORT PASSWORD SQL [DB]: as the application, over 127.0.0.1:PORT (the proxy).
app_sql() {
        docker exec -e "MYSQL_PWD=$2" "$CLIENT" timeout 10 mariadb -h 127.0.0.1 -P "$1" -u app \
                --connect-timeout=3 -N -B -e "$3" "${4:-shop}"
}

# root_sql CONTAINER SQL: as root over the member's own socket.
root_sql() { docker exec "$1" mariadb -N -B -e "$2"; }

# writer_start PORT PASSWORD BASE: inserts BASE+1, BASE+2, ... into shop.w through PORT, each on
# a new connection, every 20 ms, and appends "id epoch-seconds" to /tmp/acked-BASE for each the
# server acknowledged. Bounded: stops at /tmp/stop-BASE, or after 4000 inserts.
writer_start() {
        docker exec -d -e "MYSQL_PWD=$2" "$CLIENT" sh -c '
                i=0; rm -f /tmp/acked-'"$3"' /tmp/stop-'"$3"'
                while [ $i -lt 4000 ] && [ ! -e /tmp/stop-'"$3"' ]; do
                        i=$((i + 1)); id=$(('"$3"' + i))
                        if timeout 5 mariadb -h 127.0.0.1 -P '"$1"' -u app --connect-timeout=2 shop \
                                -e "INSERT INTO w (id) VALUES ($id)" 2>/dev/null; then
                                echo "$id $(date +%s.%N)" >>/tmp/acked-'"$3"'
                        fi
                        sleep 0.02
                done
                touch /tmp/done-'"$3"''
}

writer_stop() {
        docker exec "$CLIENT" touch "/tmp/stop-$1"
        wait_until 30 docker exec "$CLIENT" test -e "/tmp/done-$1"
}

acked() { docker exec "$CLIENT" cat "/tmp/acked-$1" 2>/dev/null; }
acked_count() { acked "$1" | wc -l; }

# writes_after BASE EPOCH: acknowledged inserts after that time.
writes_after() { acked "$1" | awk -v t="$2" '$2 > t' | wc -l; }

# outage BASE EPOCH: the longest pause between two acknowledged inserts in the 30 s after EPOCH
# (the write downtime a client saw), in seconds.
outage() {
        acked "$1" | awk -v t="$2" 'NR > 1 && $2 > t && p < t + 30 { d = $2 - p; if (d > m) m = d } { p = $2 }
                END { printf "%.2f\n", m }'
}

# lost BASE CONTAINER: acknowledged ids of this writer missing on that member (acknowledged
# first, rows after: a writer still running adds rows, never acknowledgements, in between).
lost() {
        local ids rows
        ids=$(acked "$1" | awk '{print $1}' | sort)
        rows=$(root_sql "$2" "SELECT id FROM shop.w" | sort)
        comm -23 <(printf '%s\n' "$ids") <(printf '%s\n' "$rows") | grep -c . || true
}

# primary_name NAME: the member the status names primary.
primary_name() { my_jq "$1" .status.primary; }

# writable_count NAME: members whose read_only is OFF (asked directly, not through berth).
writable_count() {
        local c n=0
        for c in $(docker ps --filter "label=berth.project=$PROJECT" --filter "label=berth.role=db" \
                --format '{{.Names}}'); do
                [[ $(root_sql "$c" 'SELECT @@read_only' 2>/dev/null) == 0 ]] && n=$((n + 1))
        done
        echo "$n"
}

# follows_all NAME: every member but the primary streams from it (both threads Yes).
follows_all() {
        local j p
        j=$(my_json "$1") || return 1
        p=$(jq -r .status.primary <<<"$j")
        [[ $(jq -r --arg p "$p" '[.status.members[] | select(.name != $p) |
                (.replication.source == $p and .replication.io_thread == "Yes" and
                 .replication.sql_thread == "Yes")] | all' <<<"$j") == true ]] &&
                [[ $(jq '.status.members | length' <<<"$j") -ge 2 ]]
}

operations() { curl -sS "$BERTH_SERVER/api/v1/resources/mysql_ha/$1/operations?project=$PROJECT"; }
events() { curl -sS "$BERTH_SERVER/api/v1/resources/mysql_ha/$1/events?project=$PROJECT"; }
requests() { curl -sS "$BERTH_SERVER/api/v1/resources/mysql_ha/$1/requests?project=$PROJECT"; }
request_state() { requests "$1" | jq -r --argjson id "$2" '.items[] | select(.id == $id) | .state'; }
request_done() { [[ $(request_state "$1" "$2") == "$3" ]]; }
