#!/usr/bin/env bash
# pg_single provisioning: POST /api/v1/apply of a dev_single instance with `expose` → `psql -c
# 'select 1'` through the published 127.0.0.1 port succeeds as the app user with the generated
# password; beside the floor measured in the same run: `docker run -d` of the same image doing
# initdb + start (the environment notes' "PostgreSQL single" command), polled the same way as the
# superuser it creates; and that floor again under dev_single's limits (--cpus 0.5 --memory 512m).
# Fresh volumes every sample (berth: purge + volumes removed; floor: docker rm -f + volume rm).
# Cases alternate round by round; BENCH_WARMUP (1) rounds are not counted.
#   BENCH_RUNS=5 bash bench/pg-provision.sh
# Knobs: BENCH_RUNS (5), BENCH_WARMUP (1), BENCH_PG_PORT (berth's expose port, 15532),
# BENCH_PG_IMAGE (berth/postgres:15), BENCH_PG_PLAN (dev_single), BERTH_LOG_LEVEL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PROJECT=${PROJECT:-benchpg}
bench_init pg-provision
BENCH_PG_PORT=${BENCH_PG_PORT:-15532}
BENCH_PG_FLOOR_PORT=${BENCH_PG_FLOOR_PORT:-$(free_port)}
BENCH_PG_IMAGE=${BENCH_PG_IMAGE:-berth/postgres:15}
BENCH_PG_PLAN=${BENCH_PG_PLAN:-dev_single}
FLOOR=bench-pg-floor-$$
export BENCH_PG_PORT BENCH_PG_FLOOR_PORT BENCH_PG_IMAGE BENCH_PG_PLAN FLOOR

for p in "$BENCH_PG_PORT" "$BENCH_PG_FLOOR_PORT"; do
        if ss -Htln "sport = :$p" | grep -q .; then
                blog "port $p is in use: set BENCH_PG_PORT / BENCH_PG_FLOOR_PORT"
                exit 1
        fi
done
if ! docker info >/dev/null 2>&1; then
        blog "Docker is not reachable"
        exit 1
fi
if ! docker image inspect "$BENCH_PG_IMAGE" >/dev/null 2>&1; then
        blog "image $BENCH_PG_IMAGE is missing: images/build.sh postgres"
        exit 1
fi
# The floor's objects: containers and network are labelled (the EXIT trap removes them), the
# volumes docker run makes are not, so they go by name.
BENCH_CLEANUP_HOOKS+=("docker ps -aq --filter name=$FLOOR- | xargs -r docker rm -f >/dev/null 2>&1; docker volume ls -q --filter name=$FLOOR- | xargs -r docker volume rm -f >/dev/null 2>&1; docker network rm $FLOOR-net >/dev/null 2>&1")
docker network create --label "bench.project=$PROJECT" "$FLOOR-net" >/dev/null

bench_start_berthd --relist-interval 30
blog "pg-provision: ${BENCH_RUNS:-5} runs (+${BENCH_WARMUP:-1} warm-up), project $PROJECT, port $BENCH_PG_PORT, floor port $BENCH_PG_FLOOR_PORT"

$PY - "$BENCH_DIR" <<'PY'
import datetime, json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import bench
from bench import log, now, percentile, fmt, table, record

E = os.environ
project, port, fport = E["PROJECT"], int(E["BENCH_PG_PORT"]), int(E["BENCH_PG_FLOOR_PORT"])
image, plan, floor = E["BENCH_PG_IMAGE"], E["BENCH_PG_PLAN"], E["FLOOR"]
runs, warmup = int(E.get("BENCH_RUNS", "5")), int(E.get("BENCH_WARMUP", "1"))
berthd_pid = int(E["BERTHD_PID"])
b, d = bench.Berth(E["BERTH_URL"]), bench.Docker()
PG_BIN = "/usr/lib/postgresql/15/bin"
rss = []  # berthd VmRSS (kB), sampled at every poll of the berth case


def vmrss(key="VmRSS"):
    return bench.proc_status_kb(berthd_pid, key) if hasattr(bench, "proc_status_kb") else 0


def psql_ok(port, user, db, pw):
    """One `psql -c 'select 1'` over TCP, as a user would connect."""
    env = dict(os.environ, PGPASSWORD=pw, PGCONNECT_TIMEOUT="2")
    r = subprocess.run(["psql", f"host=127.0.0.1 port={port} user={user} dbname={db}",
                        "-XAtqc", "select 1"], env=env, capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == "1"


def wall(ts):
    """Docker's RFC 3339 nanosecond time → epoch seconds."""
    if not ts or ts.startswith("0001"):
        return None
    base, _, frac = ts.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() + float("0." + (frac or "0")[:9])


def container_cpu(name):
    """CPU seconds used so far inside the container's cgroup (its processes and everything
    docker exec ran there); None where the cgroup layout is unknown."""
    cid = (d.inspect(name) or {}).get("Id")
    for path, scale in ((f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage", 1e-9),
                        (f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat", 1e-6)):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        if path.endswith("cpu.stat"):
            text = dict(l.split() for l in text.splitlines()).get("usage_usec", "0")
        return int(text) * scale
    return None


def container_times(name, w0):
    """Created, started, and the server's "ready to accept connections" log line, seconds after
    the wall-clock start w0 (Engine API inspect; `docker logs -t`)."""
    c = d.inspect(name) or {}
    cr, st = wall(c.get("Created")), wall((c.get("State") or {}).get("StartedAt"))
    r = subprocess.run(["docker", "logs", "-t", name], capture_output=True, text=True)
    rd = None
    for line in (r.stdout + r.stderr).splitlines():
        if "ready to accept connections" in line:
            rd = wall(line.split()[0])
    return tuple(t - w0 if t else None for t in (cr, st, rd))


DOC = f"""kind: pg_single
metadata: {{name: db, project: {project}}}
spec:
  plan: {plan}
  expose: {{host_port: {port}}}
"""


def berth_gone(timeout=120):
    """DELETE, purge (where the kind keeps data after a delete), wait until the resource and its
    containers are gone, then remove what is left of its volumes and network: the next sample
    starts from nothing."""
    b.req("DELETE", f"/api/v1/resources/pg_single/db?project={project}")
    b.req("POST", f"/api/v1/resources/pg_single/db/actions/purge?project={project}")
    deadline = now() + timeout
    while now() < deadline:
        st, _ = b.get("db", project, kind="pg_single")
        if st == 404 and not d.ps(f"berth.project={project}"):
            break
        time.sleep(0.1)
    else:
        log("warning: pg_single db still present after the purge")
    for kind in ("volume", "network"):
        ids = bench.docker_cli(kind, "ls", "-q", "--filter", f"label=berth.project={project}", check=False)
        if ids.split():
            bench.docker_cli(kind, "rm", *ids.split(), check=False)


def berth_sample():
    berth_gone()
    pw = cpu = None
    t_pw = t_ok = t_run = None
    w0, t0 = time.time(), now()
    b.apply(DOC)
    t_post = now() - t0
    while now() - t0 < 120:
        rss.append(vmrss())
        if t_run is None:
            st, doc = b.get("db", project, kind="pg_single")
            if st == 200 and bench.is_converged(doc):
                t_run = now() - t0
        if pw is None:
            st, data = b.req("GET", f"/api/v1/secrets/{project}/db-password")
            if st == 200:
                pw, t_pw = json.loads(data)["value"], now() - t0
        if pw is not None and t_ok is None and psql_ok(port, "app", "db", pw):
            t_ok = now() - t0
            cpu = container_cpu(f"{project}-db-primary-0")
        if t_ok is not None and t_run is not None:
            break
        time.sleep(bench.POLL)
    if t_ok is None:
        raise RuntimeError("berth: no `select 1` as app within 120 s")
    created, started, ready = container_times(f"{project}-db-primary-0", w0)
    return {"total": t_ok, "post": t_post, "secret": t_pw, "running": t_run, "created": created,
            "started": started, "ready": ready, "cpu": cpu}


FLOOR_SH = ('test -s "$PGDATA/PG_VERSION" || { echo "$PW" >/tmp/pw; initdb -E UTF8 -U postgres '
            '--pwfile=/tmp/pw --auth-host=scram-sha-256 "$PGDATA" && echo "host all all 0.0.0.0/0 '
            'scram-sha-256" >>"$PGDATA/pg_hba.conf"; }\n'
            'exec postgres -c listen_addresses="*" -c unix_socket_directories=/tmp')


def floor_cmd(name, limits):
    return ["docker", "run", "-d", "--name", name, "--label", f"bench.project={project}",
            "--network", f"{floor}-net", "-p", f"127.0.0.1:{fport}:5432", "--user", "postgres",
            "-v", f"{name}:/var/lib/postgresql", *limits,
            "-e", "LANG=C.UTF-8", "-e", "PGDATA=/var/lib/postgresql/data",
            "-e", f"PATH={PG_BIN}:/usr/bin:/bin", "-e", "PW=secret",
            image, "sh", "-c", FLOOR_SH]


def floor_sample(limits, tag):
    name = f"{floor}-{tag}"
    bench.docker_cli("rm", "-f", name, check=False)
    bench.docker_cli("volume", "rm", "-f", name, check=False)
    w0, t0 = time.time(), now()
    r = subprocess.run(floor_cmd(name, limits), capture_output=True, text=True)
    t_post = now() - t0
    if r.returncode != 0:
        raise RuntimeError(f"docker run: {r.stderr.strip()[-300:]}")
    t_ok = None
    while now() - t0 < 120:
        if psql_ok(fport, "postgres", "postgres", "secret"):
            t_ok = now() - t0
            cpu = container_cpu(name)
            break
        time.sleep(bench.POLL)
    created, started, ready = container_times(name, w0)
    bench.docker_cli("rm", "-f", name, check=False)
    bench.docker_cli("volume", "rm", "-f", name, check=False)
    if t_ok is None:
        raise RuntimeError("floor: no `select 1` within 120 s")
    return {"total": t_ok, "post": t_post, "created": created, "started": started, "ready": ready,
            "cpu": cpu}


LIMITS = {"dev_single": ["--cpus", "0.5", "--memory", "512m"],
          "small_single": ["--cpus", "1", "--memory", "2g"],
          "medium_single": ["--cpus", "2", "--memory", "4g"]}.get(plan, [])
cases = [
    (f"berth apply, pg_single {plan}", "POST /apply → `select 1` as the app user", berth_sample),
    ("floor: `docker run -d` initdb + postgres", "run → `select 1` as postgres",
     lambda: floor_sample([], "plain")),
]
if LIMITS:
    cases.append((f"floor with {plan}'s limits (`{' '.join(LIMITS)}`)", "run → `select 1` as postgres",
                  lambda: floor_sample(LIMITS, "limits")))
samples = {c[0]: [] for c in cases}
for rnd in range(warmup + runs):
    for title, _, fn in cases:
        try:
            s = fn()
        except Exception as e:
            log(f"round {rnd}: {title}: FAILED: {e}")
            continue
        tag = "warm-up" if rnd < warmup else f"run {rnd - warmup + 1}/{runs}"
        log(f"{tag}: {title}: {s['total']:.3f} s " + " ".join(
            f"{k}={fmt(v)}" for k, v in s.items() if k != "total"))
        if rnd >= warmup:
            samples[title].append(s)
berth_gone()


def med(title, key):
    v = [s[key] for s in samples[title] if s.get(key) is not None]
    return percentile(v, 50) if v else None


rows = []
for title, ready, _ in cases:
    tot = [s["total"] for s in samples[title]]
    rows.append([title, ready, len(tot), fmt(percentile(tot, 50)), fmt(min(tot) if tot else None),
                 fmt(max(tot) if tot else None)])
bt, ft = cases[0][0], cases[1][0]
mb, mf = med(bt, "total"), med(ft, "total")
ratio = mb / mf if mb and mf else None
print(f"### pg_single: apply → accepting connections, vs `docker run` initdb + start\n")
print(table(["case", "ready means", "n", "median s", "min s", "max s"], rows))
print()
if ratio:
    print(f"berth / floor (medians): **{ratio:.2f}×** (target ≤ 1.3×)"
          + (f"; against the floor under the same limits: **{mb / med(cases[2][0], 'total'):.2f}×**."
             if LIMITS and med(cases[2][0], "total") else "."))
    print()
print("Where the time goes (medians, seconds after the POST or `docker run`; container times from "
      "the Engine API's Created / State.StartedAt, server ready = the `docker logs -t` time of "
      "PostgreSQL's \"database system is ready to accept connections\"; CPU = the container cgroup's "
      "cpuacct.usage when `select 1` first succeeded, docker exec'd processes included: unlike the "
      "times, it barely depends on other load on the machine):\n")
brows = [[bt, fmt(med(bt, "post")), fmt(med(bt, "secret")), fmt(med(bt, "created")),
          fmt(med(bt, "started")), fmt(med(bt, "ready")), fmt(mb), fmt(med(bt, "running")),
          fmt(med(bt, "cpu"))]]
for title, _, _ in cases[1:]:
    brows.append([title, fmt(med(title, "post")), "–", fmt(med(title, "created")),
                  fmt(med(title, "started")), fmt(med(title, "ready")), fmt(med(title, "total")), "–",
                  fmt(med(title, "cpu"))])
print(table(["case", "POST / run returned", "password readable", "container created",
             "container started", "server ready (its log)", "`select 1` OK", "GET says RUNNING",
             "CPU s in the container by then"], brows))
print()
if rss and rss[0]:
    hwm = vmrss("VmHWM")
    print(f"berthd RSS (VmRSS, sampled at every poll of the berth samples): "
          f"{min(rss) / 1024:.1f} – {max(rss) / 1024:.1f} MiB, peak VmHWM {hwm / 1024:.1f} MiB.\n")
    record("pg-provision", "berthd_rss", f"{max(rss) / 1024:.1f}", "MiB")
for title, key in ((bt, "berth"), (ft, "floor")):
    record("pg-provision", f"{key}_select1", fmt(med(title, "total")), "s")
if ratio:
    record("pg-provision", "ratio_to_floor", f"{ratio:.2f}", "x")
PY
cat <<MD
berth: POST /api/v1/apply of \`{kind: pg_single, spec: {plan: $BENCH_PG_PLAN, expose: {host_port: $BENCH_PG_PORT}}}\`
(image $BENCH_PG_IMAGE); then every 20 ms on one keep-alive connection: GET the resource (RUNNING at
the applied generation), GET /api/v1/secrets/$PROJECT/db-password until the generated password exists,
then \`psql "host=127.0.0.1 port=$BENCH_PG_PORT user=app dbname=db" -c 'select 1'\` until it answers 1.
Between samples (not timed): DELETE + purge, wait until the resource and container are gone, remove
its volumes and network. Floor: the ENVIRONMENT.md command with the same image, \`docker run -d --name
bench-pg-floor-PID-plain --network bench-pg-floor-PID-net -p 127.0.0.1:PORT:5432 --user postgres -v
NEWVOL:/var/lib/postgresql -e PGDATA=... -e PW=secret $BENCH_PG_IMAGE sh -c 'initdb ... --auth-host=scram-sha-256
&& echo "host all all 0.0.0.0/0 scram-sha-256" >>pg_hba.conf; exec postgres -c listen_addresses=*'\`,
polled with the same psql as postgres; its network is made once before the run (berth makes one per
instance, inside its time); \`docker rm -f\` + \`docker volume rm\` between samples. The third row
adds dev_single's \`--cpus 0.5 --memory 512m\`, which berth sets on its container. berth also runs
initdb with \`--data-checksums --locale=C.UTF-8\`, and creates the app user and database after start.

MD
