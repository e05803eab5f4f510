#!/usr/bin/env bash
# pg_single backup and restore throughput on a ~1 GiB database made with `pgbench -i -s 70`:
# berth's full backup (`backup` action, pgBackRest) and in-place restore (`restore` action), timed
# from their operations' started_at / finished_at; beside `pg_dump -Fc` to a file and `pg_restore`
# of it into a fresh database, run in the same container (docker exec, so under the same CPU and
# memory limits) in the same run. MB/s = pg_database_size of the pgbench database / duration
# (MB = 10^6 bytes). BENCH_PG_BACKUP_RUNS rounds (each: backup, dump, pg_restore, two restores); medians.
#   bash bench/pg-backup.sh
# Knobs: BENCH_PG_SCALE (pgbench scale, 70 ≈ 1.05 GiB), BENCH_PG_BACKUP_RUNS (3), BENCH_PG_PORT
# (15532), BENCH_PG_PLAN (dev_single), BENCH_PG_IMAGE (berth/postgres:15), BERTH_LOG_LEVEL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PROJECT=${PROJECT:-benchpg}
bench_init pg-backup
BENCH_PG_PORT=${BENCH_PG_PORT:-15532}
BENCH_PG_IMAGE=${BENCH_PG_IMAGE:-berth/postgres:15}
BENCH_PG_PLAN=${BENCH_PG_PLAN:-dev_single}
BENCH_PG_SCALE=${BENCH_PG_SCALE:-70}
BENCH_PG_BACKUP_RUNS=${BENCH_PG_BACKUP_RUNS:-3}
export BENCH_PG_PORT BENCH_PG_IMAGE BENCH_PG_PLAN BENCH_PG_SCALE BENCH_PG_BACKUP_RUNS

if ss -Htln "sport = :$BENCH_PG_PORT" | grep -q .; then
        blog "port $BENCH_PG_PORT is in use: set BENCH_PG_PORT"
        exit 1
fi
if ! docker info >/dev/null 2>&1; then
        blog "Docker is not reachable"
        exit 1
fi
if ! docker image inspect "$BENCH_PG_IMAGE" >/dev/null 2>&1; then
        blog "image $BENCH_PG_IMAGE is missing: images/build.sh postgres"
        exit 1
fi
bench_start_berthd --relist-interval 30
blog "pg-backup: scale $BENCH_PG_SCALE, $BENCH_PG_BACKUP_RUNS rounds, project $PROJECT, plan $BENCH_PG_PLAN"

$PY - "$BENCH_DIR" <<'PY'
import datetime, json, os, re, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import bench
from bench import log, now, percentile, fmt, table, record

E = os.environ
project, port, image, plan = E["PROJECT"], int(E["BENCH_PG_PORT"]), E["BENCH_PG_IMAGE"], E["BENCH_PG_PLAN"]
scale, runs = int(E["BENCH_PG_SCALE"]), int(E["BENCH_PG_BACKUP_RUNS"])
b = bench.Berth(E["BERTH_URL"])
C = f"{project}-db-primary-0"
BIN = "/usr/lib/postgresql/15/bin"
DUMP = "/var/lib/postgresql/bench.dump"  # on the data volume, as the repository is on its own
Q = f"?project={project}"
RES = f"/api/v1/resources/pg_single/db"


def dx(*argv, check=True):
    """docker exec as postgres in the primary; returns (seconds, stdout)."""
    t0 = now()
    r = subprocess.run(["docker", "exec", "-u", "postgres", C, *argv], capture_output=True, text=True)
    dt = now() - t0
    if check and r.returncode != 0:
        raise RuntimeError(f"{argv[0]}: exit {r.returncode}: {r.stderr.strip()[-500:]}")
    return dt, r.stdout.strip()


def sql(q, db="db"):
    return dx(f"{BIN}/psql", "-h", "/tmp", "-d", db, "-XAtqc", q)[1]


def ts(s):
    base, _, frac = s.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() + float("0." + (frac or "0"))


def get(path):
    st, data = b.req("GET", path)
    if st != 200:
        raise RuntimeError(f"GET {path}: HTTP {st}: {data[:200]!r}")
    return json.loads(data)


def wait_running(timeout=600):
    deadline = now() + timeout
    while now() < deadline:
        st, doc = b.get("db", project, kind="pg_single")
        if st == 200 and bench.is_converged(doc):
            return doc
        time.sleep(0.2)
    raise RuntimeError("pg_single db not RUNNING")


def operations():
    return get(f"{RES}/operations{Q}")["items"]


def action(name, body):
    """POST the action, wait until its request is DONE; the operation that ran it."""
    t0 = now()
    st, data = b.req("POST", f"{RES}/actions/{name}{Q}", json.dumps(body).encode(), "application/json")
    if st >= 300:
        raise RuntimeError(f"{name}: HTTP {st}: {data[:300]!r}")
    ans = json.loads(data)
    rid = ans.get("request")
    while now() - t0 < 3600:
        if int(now() - t0) % 60 == 59:
            log(f"{name}: still waiting, request {rid}: {get(f'{RES}/requests{Q}')['items'][:1]}")
            time.sleep(1)
        reqs = get(f"{RES}/requests{Q}")["items"]
        mine = [r for r in reqs if r["action"] == name and (rid is None or r["id"] == rid)]
        r = max(mine, key=lambda r: r["id"]) if mine else None
        if r and r["state"] not in ("PENDING", "RUNNING"):
            t_done = now() - t0
            if r["state"] != "DONE":
                raise RuntimeError(f"{name}: {r['state']}: {r.get('message')}")
            # The request is marked done inside its operation (a restore still starts the server
            # after the mark): wait for the operation to end too.
            while now() - t0 < 3600:
                op = next((o for o in operations() if o["id"] == r.get("operation")), None)
                if op and op.get("finished_at"):
                    if op["state"] != "DONE":
                        raise RuntimeError(f"{name}: operation {op['state']}: {op.get('log', '')[-300:]}")
                    return op, t_done
                time.sleep(0.1)
        time.sleep(0.1)
    raise RuntimeError(f"{name}: not done within an hour")


def app_select(pw, q):
    env = dict(os.environ, PGPASSWORD=pw, PGCONNECT_TIMEOUT="2")
    r = subprocess.run(["psql", f"host=127.0.0.1 port={port} user=app dbname=db", "-XAtqc", q],
                       env=env, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def archive_idle(timeout=600):
    """No WAL segment waiting for archive-push: backups then time only themselves."""
    deadline = now() + timeout
    while now() < deadline:
        n = sql("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'", "postgres")
        if n == "0":
            return
        time.sleep(1)
    log("warning: WAL archiving still behind")


# 1. the instance, its first (scheduled, empty) backup done
doc = f"""kind: pg_single
metadata: {{name: db, project: {project}}}
spec:
  plan: {plan}
  expose: {{host_port: {port}}}
  backup: {{enabled: true}}
"""
b.apply(doc)
wait_running()
pw = json.loads(b.req("GET", f"/api/v1/secrets/{project}/db-password")[1])["value"]
deadline = now() + 300
while now() < deadline and not any(o["kind"] == "backup" and o["state"] == "DONE" for o in operations()):
    time.sleep(0.5)
log("instance RUNNING, first scheduled backup done")

# 2. the data
t_init, out = dx(f"{BIN}/pgbench", "-h", "/tmp", "-U", "app", "-i", "-q", "-s", str(scale), "db")
sql("CHECKPOINT", "postgres")
archive_idle()
size = int(sql("SELECT pg_database_size('db')"))
accounts = sql("SELECT count(*) FROM pgbench_accounts")
log(f"pgbench -i -s {scale}: {t_init:.1f} s; pg_database_size = {size / 2**20:.0f} MiB; {accounts} accounts")
if app_select(pw, "SELECT count(*) FROM pgbench_accounts") != accounts:
    log("warning: the app user does not see pgbench_accounts through the exposed port")

samples = {k: [] for k in ("backup", "backup_wall", "backrest", "dump", "pg_restore", "restore",
                           "restore_wall", "restore_ready", "restore_running", "restore_same",
                           "restore_same_wall", "restore_same_ready", "restore_same_running")}
extra = {}
for rnd in range(runs):
    # berth backup (full)
    op, wall = action("backup", {"type": "full"})
    dur = ts(op["finished_at"]) - ts(op["started_at"])
    m = re.search(r"backup command end: completed successfully \((\d+)ms\)", op.get("log", ""))
    sz = re.search(r"full backup size = ([\d.]+\w+)", op.get("log", ""))
    label = re.findall(r"new backup label = (\S+)", op.get("log", ""))[-1]
    samples["backup"].append(dur)
    samples["backup_wall"].append(wall)
    if m:
        samples["backrest"].append(int(m.group(1)) / 1000)
    extra["backup_size"] = sz.group(1) if sz else "?"
    extra.setdefault("labels", []).append(label)
    log(f"round {rnd + 1}/{runs}: berth backup {label}: operation {dur:.2f} s, action → done {wall:.2f} s"
        f", pgbackrest {m.group(1) if m else '?'} ms, {extra['backup_size']}")
    archive_idle()

    # pg_dump -Fc to a file, pg_restore into a fresh database
    dx("rm", "-f", DUMP)
    t_dump, _ = dx(f"{BIN}/pg_dump", "-h", "/tmp", "-Fc", "-f", DUMP, "db")
    extra["dump_size"] = int(dx("stat", "-c", "%s", DUMP)[1])
    dx(f"{BIN}/dropdb", "-h", "/tmp", "--if-exists", "restored")
    dx(f"{BIN}/createdb", "-h", "/tmp", "restored")
    t_rest, _ = dx(f"{BIN}/pg_restore", "-h", "/tmp", "-d", "restored", DUMP)
    got = sql("SELECT count(*) FROM pgbench_accounts", "restored")
    if got != accounts:
        log(f"warning: pg_restore gave {got} accounts, not {accounts}")
    dx(f"{BIN}/dropdb", "-h", "/tmp", "restored")
    dx("rm", "-f", DUMP)
    samples["dump"].append(t_dump)
    samples["pg_restore"].append(t_rest)
    log(f"round {rnd + 1}/{runs}: pg_dump -Fc {t_dump:.2f} s ({extra['dump_size'] / 1e6:.0f} MB file), "
        f"pg_restore {t_rest:.2f} s")
    sql("CHECKPOINT", "postgres")
    archive_idle()

    # berth restore in place, to the backup just made: first after an accidental
    # DROP TABLE pgbench_accounts (its files are gone: pgBackRest copies them back), then with
    # nothing changed (--delta reads and checksums every file, copies none).
    for key, damage in (("restore", "DROP TABLE pgbench_accounts CASCADE"), ("restore_same", None)):
        if damage:
            app_select(pw, damage)
            if app_select(pw, "SELECT count(*) FROM pgbench_accounts") is not None:
                log("warning: pgbench_accounts is still there after the DROP")
            sql("CHECKPOINT", "postgres")
            archive_idle()
        t0 = now()
        op, wall = action("restore", {"backup": label})
        dur = ts(op["finished_at"]) - ts(op["started_at"])
        while now() - t0 < 300 and app_select(pw, "SELECT count(*) FROM pgbench_accounts") != accounts:
            time.sleep(0.1)
        ready = now() - t0
        if app_select(pw, "SELECT count(*) FROM pgbench_accounts") != accounts:
            raise RuntimeError(f"after the restore pgbench_accounts does not have {accounts} rows")
        wait_running(600)  # berth may take a new full backup (new timeline) before RUNNING
        running = now() - t0
        samples[key].append(dur)
        samples[key + "_wall"].append(wall)
        samples[key + "_ready"].append(ready)
        samples[key + "_running"].append(running)
        log(f"round {rnd + 1}/{runs}: berth restore ({damage or 'nothing changed'}): operation {dur:.2f} s, "
            f"action → done {wall:.2f} s, {accounts} accounts readable through the port {ready:.2f} s, "
            f"RUNNING {running:.2f} s")
        archive_idle()

repo = [bk.get("repo_size_bytes") for bk in get(f"{RES}/backups{Q}").get("backups", [])
        if bk.get("label") in extra.get("labels", []) and bk.get("repo_size_bytes")]
if repo:
    extra["repo_size"] = percentile(repo, 50)
b.req("DELETE", f"{RES}{Q}")
b.req("POST", f"{RES}/actions/purge{Q}")


def med(k):
    return percentile(samples[k], 50) if samples[k] else None


def rng(k):
    return f"{min(samples[k]):.2f} – {max(samples[k]):.2f}" if samples[k] else "–"


def mbs(k):
    m = med(k)
    return f"{size / 1e6 / m:.1f}" if m else "–"


print(f"### pg_single: backup and restore throughput, {size / 2**30:.2f} GiB database (pgbench -s {scale})\n")
print(f"`pg_database_size('db')` = {size} bytes ({size / 1e6:.0f} MB); plan {plan}; "
      f"{runs} round{'s' if runs != 1 else ''}, medians (min – max).\n")
print(table(["what", "how timed", "median s", "min – max s", "MB/s"], [
    ["berth full backup (pgBackRest, lz4, process-max 2)", "operation started_at → finished_at",
     fmt(med("backup"), 2), rng("backup"), mbs("backup")],
    ["`pg_dump -Fc` to a file in the container", "docker exec wall time",
     fmt(med("dump"), 2), rng("dump"), mbs("dump")],
    ["berth restore in place (`backup=LABEL`) after `DROP TABLE pgbench_accounts`",
     "operation started_at → finished_at", fmt(med("restore"), 2), rng("restore"), mbs("restore")],
    ["berth restore in place, nothing changed (`--delta`: checksums only)",
     "operation started_at → finished_at", fmt(med("restore_same"), 2), rng("restore_same"),
     mbs("restore_same")],
    ["`pg_restore` into a fresh database", "docker exec wall time",
     fmt(med("pg_restore"), 2), rng("pg_restore"), mbs("pg_restore")],
]))
print()
rs = extra.get("repo_size")
print(f"Also: berth backup from POST …/actions/backup to its request DONE {fmt(med('backup_wall'), 2)} s "
      f"(pgBackRest's own `backup command end` {fmt(med('backrest'), 2)} s; backup size {extra.get('backup_size')}"
      + (f", {rs / 1e6:.0f} MB in the repository" if rs else "") + "). "
      f"Restore after the drop: POST to request DONE {fmt(med('restore_wall'), 2)} s, to every row readable "
      f"as the app user through the exposed port {fmt(med('restore_ready'), 2)} s "
      f"({size / 1e6 / med('restore_ready'):.1f} MB/s end to end), to RUNNING {fmt(med('restore_running'), 2)} s "
      f"(berth reports RUNNING after the full backup it takes on the new timeline); nothing changed: "
      f"readable {fmt(med('restore_same_ready'), 2)} s, RUNNING {fmt(med('restore_same_running'), 2)} s. "
      f"pgbench -i took {t_init:.0f} s; the pg_dump file is {extra.get('dump_size', 0) / 1e6:.0f} MB.\n")
for k, unit in (("backup", "MB/s"), ("dump", "MB/s"), ("restore", "MB/s"), ("restore_same", "MB/s"),
                ("pg_restore", "MB/s")):
    if med(k):
        record("pg-backup", f"{k}_throughput", f"{size / 1e6 / med(k):.1f}", unit)
PY
cat <<MD
The instance: \`{kind: pg_single, spec: {plan: $BENCH_PG_PLAN, expose: {host_port: $BENCH_PG_PORT},
backup: {enabled: true}}}\`; its first scheduled (empty) backup is left to finish, then \`docker exec
-u postgres C pgbench -h /tmp -U app -i -q -s $BENCH_PG_SCALE db\` (the app user owns the tables), CHECKPOINT, and every step waits until no WAL
segment waits for archive-push. Each round: \`berth do\`'s POST …/actions/backup \`{"type": "full"}\`;
\`pg_dump -h /tmp -Fc -f /var/lib/postgresql/bench.dump db\` (the data volume); \`createdb restored\`
(not timed), \`pg_restore -h /tmp -d restored bench.dump\`, row count checked, dropped; then
\`DROP TABLE pgbench_accounts CASCADE\` as the app user and POST …/actions/restore \`{"backup": LABEL}\`
(stop, pgBackRest restore --delta in a one-shot container, start and recover), every row checked
through the exposed port as the app user; then the same restore again with nothing changed. pg_dump and
pg_restore run via docker exec inside the primary, so under the same \`$BENCH_PG_PLAN\` CPU/memory limits as
pgBackRest (which berth also execs there; its restore container has the same limits).

MD
