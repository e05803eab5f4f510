#!/usr/bin/env bash
# Every example a user may copy applies and converges; the quickstart answers on its port.
. "$(dirname "$0")/lib.sh"

start_berthd main
shopt -s nullglob
files=("$SRC_ROOT"/examples/*.yaml "$SRC_ROOT"/examples/*/*.yaml)
for f in "${files[@]}"; do
        # Each example under this test's project, so parallel scenarios never collide.
        sed -E "s/^([[:space:]]*project:[[:space:]]*)[a-z0-9-]+/\1$PROJECT/; s/(project:[[:space:]]*)[a-z0-9-]+([,}])/\1$PROJECT\2/" "$f" >"$IT_TMP/ex.yaml"
        name=${f#"$SRC_ROOT"/examples/}
        if ! grep -q "project:" "$IT_TMP/ex.yaml"; then
                not_ok "$name: sets metadata.project"
                continue
        fi
        check "$name applies" berth apply -f "$IT_TMP/ex.yaml"
done
wait_all() {
        berth get --project "$PROJECT" -o json |
                python3 -c 'import json,sys; it=json.load(sys.stdin)["items"]; sys.exit(0 if it and all(i["phase"]=="RUNNING" for i in it) else 1)'
}
# The database examples (a Patroni cluster, a MariaDB trio, replicas) take their time, more so
# beside the other scenarios on a small machine.
if wait_until 300 wait_all; then
        ok "every example reaches RUNNING"
else
        not_ok "every example reaches RUNNING"
        log "$(berth get --project "$PROJECT" 2>&1)"
fi
port=$(python3 -c 'import re,sys; m=re.search(r"host_port:\s*(\d+)", open(sys.argv[1]).read()); print(m.group(1))' "$SRC_ROOT/examples/quickstart/web.yaml")
check "the quickstart answers on 127.0.0.1:$port" wait_until 30 curl -fsS "http://127.0.0.1:$port/"
finish
