#!/usr/bin/python3
"""Measurement code for berth's benchmarks (Debian's python3, stdlib only).

Called by the bench/*.sh scripts, which own berthd's lifecycle and the cleanup trap:

    bench.py apply-to-running   berth apply -> RUNNING vs docker run / docker-compose + HTTP poll
    bench.py heal               docker kill -> answers again (berth) vs Docker's restart policy
    bench.py scale              N services: time to RUNNING, steady-state RSS/CPU, Docker calls/relist
    bench.py api-setup          apply M worker services and wait until RUNNING
    bench.py wrk|ab|hyperfine   parse a load generator's output into a markdown row

Environment: BERTH_URL, PROJECT, BENCH_TMP, BERTHD_PID, BERTH_DATA (set by lib.sh), BENCH_IMAGE.
Markdown goes to stdout, progress to stderr. Timings are reported, never asserted.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

IMAGE = os.environ.get("BENCH_IMAGE", "berth/busybox:latest")
HTTPD = "echo ok >/tmp/index.html && exec httpd -f -p 8080 -h /tmp"
POLL = 0.02  # every poll loop sleeps 20 ms between looks
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(BENCH_DIR, "results"))

now = time.monotonic


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


def git_rev():
    try:
        return subprocess.run(["git", "-C", BENCH_DIR, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def record(bench, metric, value, unit=""):
    """One line of bench/results/results.tsv (as lib.sh's record)."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "results.tsv"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')}\t{bench}\t{metric}\t{value}\t{unit}\t{git_rev()}\n")


# ---- statistics: nearest rank over sorted samples, as lib.sh ----

def percentile(samples, p):
    v = sorted(samples)
    if not v:
        return float("nan")
    k = p / 100 * len(v)
    i = int(k)
    if i < k:
        i += 1
    return v[max(i, 1) - 1]


def fmt(x, digits=3):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if x != x:  # nan
        return "–"
    return f"{x:.{digits}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


# ---- clients ----

class Berth:
    """berthd's API on one keep-alive connection."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def req(self, method, path, body=None, ctype=None, timeout=60):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                headers = {"Content-Type": ctype} if ctype else {}
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if (r.getheader("Connection") or "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None

    def apply(self, text):
        st, data = self.req("POST", "/api/v1/apply", text.encode(), "application/yaml")
        if st >= 300:
            raise RuntimeError(f"apply: HTTP {st}: {data[:300]!r}")
        return json.loads(data)

    def get(self, name, project, kind="docker_service"):
        st, data = self.req("GET", f"/api/v1/resources/{kind}/{name}?project={project}")
        return st, (json.loads(data) if st == 200 else None)

    def delete(self, name, project, kind="docker_service"):
        st, data = self.req("DELETE", f"/api/v1/resources/{kind}/{name}?project={project}")
        if st not in (200, 202, 404):
            raise RuntimeError(f"delete {name}: HTTP {st}: {data[:300]!r}")

    def list(self, project):
        st, data = self.req("GET", f"/api/v1/resources?project={project}")
        if st != 200:
            raise RuntimeError(f"list: HTTP {st}")
        return json.loads(data)["items"]

    def metrics(self):
        st, data = self.req("GET", "/metrics")
        m = {}
        for line in data.decode().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, _, v = line.rpartition(" ")
            try:
                m[k] = float(v)
            except ValueError:
                pass
        return m


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Docker:
    """The Engine API on its unix socket: only for fast observation (inspect, list)."""

    def __init__(self, sock="/var/run/docker.sock"):
        self.sock = sock
        self.conn = None

    def req(self, method, path):
        for attempt in range(2):
            if self.conn is None:
                self.conn = UnixHTTPConnection(self.sock)
            try:
                self.conn.request(method, "/v1.41" + path)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def inspect(self, name):
        st, data = self.req("GET", f"/containers/{name}/json")
        return json.loads(data) if st == 200 else None

    def ps(self, label, all_=True):
        f = urllib.parse.quote(json.dumps({"label": [label]}))
        st, data = self.req("GET", f"/containers/json?all={1 if all_ else 0}&filters={f}")
        return json.loads(data) if st == 200 else []

    def network_exists(self, name):
        st, _ = self.req("GET", f"/networks/{name}")
        return st == 200


def container_ip(c):
    nets = (c or {}).get("NetworkSettings", {}).get("Networks") or {}
    for n in nets.values():
        if n.get("IPAddress"):
            return n["IPAddress"]
    return None


def http_ok(ip, port=8080, path="/", timeout=0.5):
    """One HTTP/1.0 GET on a new connection: True on a 200."""
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: {ip}\r\n\r\n".encode())
            buf = b""
            while len(buf) < 12:
                chunk = s.recv(64)
                if not chunk:
                    break
                buf += chunk
            return buf.startswith(b"HTTP/1.") and buf[9:12] == b"200"
    except OSError:
        return False


def wait_all_ok(ips, timeout=60):
    """Polls every IP every 20 ms until all answer 200; returns the monotonic time, or None."""
    pending = set(ips)
    deadline = now() + timeout
    while pending:
        for ip in list(pending):
            if http_ok(ip):
                pending.discard(ip)
        if not pending:
            break
        if now() > deadline:
            return None
        time.sleep(POLL)
    return now()


def docker_cli(*args, check=True):
    r = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}...: {r.stderr.strip()}")
    return r.stdout.strip()


def service_yaml(name, project, replicas, interval="1s", worker=False):
    if worker:
        return (f"kind: docker_service\nmetadata: {{name: {name}, project: {project}}}\n"
                f"spec:\n  image: {IMAGE}\n  type: worker\n  command: [sleep, \"3600\"]\n"
                f"  replicas: {replicas}\n")
    return (f"kind: docker_service\nmetadata: {{name: {name}, project: {project}}}\n"
            f"spec:\n  image: {IMAGE}\n  command: [sh, -c, \"{HTTPD}\"]\n"
            f"  ports: [{{container_port: 8080}}]\n"
            f"  healthcheck: {{type: http, path: /, interval: {interval}, timeout: 1s}}\n"
            f"  replicas: {replicas}\n")


def is_converged(doc, replicas=None):
    st = (doc or {}).get("status") or {}
    md = (doc or {}).get("metadata") or {}
    if st.get("phase") != "RUNNING" or st.get("observed_generation") != md.get("generation"):
        return False
    if replicas is not None and (st.get("replicas") or {}).get("running") != replicas:
        return False
    return True


def wait_running(b, name, project, replicas, timeout=120):
    deadline = now() + timeout
    while now() < deadline:
        st, doc = b.get(name, project)
        if st == 200 and is_converged(doc, replicas):
            return now(), doc
        time.sleep(POLL)
    return None, None


def berth_delete_and_wait(b, d, names, project, timeout=180):
    for n in names:
        b.delete(n, project)
    deadline = now() + timeout
    while now() < deadline:
        left = [n for n in names if b.get(n, project)[0] != 404]
        if not left and not d.ps(f"berth.project={project}"):
            return True
        time.sleep(0.1)
    log(f"warning: {project}: resources or containers still present after {timeout} s")
    return False


# ---- apply-to-running ----

class ApplyBench:
    def __init__(self, args):
        self.b = Berth(os.environ["BERTH_URL"])
        self.d = Docker()
        self.project = os.environ["PROJECT"]
        self.tmp = os.environ["BENCH_TMP"]
        self.label = f"bench.project={self.project}"

    # berth: POST the document, poll GET until RUNNING at the applied generation
    def berth(self, replicas):
        name = f"web{replicas}"
        doc = service_yaml(name, self.project, replicas)
        t0 = now()
        self.b.apply(doc)
        t_post = now()
        t_run, status = wait_running(self.b, name, self.project, replicas)
        if t_run is None:
            raise RuntimeError(f"berth {name}: not RUNNING within 120 s")
        # Sanity, not timed: every replica berth calls ready answers us too.
        hosts = [n.get("host") for n in status["status"].get("nodes", [])]
        bad = [h for h in hosts if not h or not http_ok(h)]
        if bad or len(hosts) != replicas:
            log(f"warning: berth {name} RUNNING but {len(bad)} of {len(hosts)} replicas do not answer")
        berth_delete_and_wait(self.b, self.d, [name], self.project)
        return {"total": t_run - t0, "post": t_post - t0}

    def _peer_cleanup(self):
        ids = [c["Id"] for c in self.d.ps(self.label)]
        if ids:
            docker_cli("rm", "-f", *ids, check=False)

    def _ips(self, ids):
        ips = []
        for i in ids:
            ip = container_ip(self.d.inspect(i))
            if not ip:
                raise RuntimeError(f"container {i[:12]} has no IP")
            ips.append(ip)
        return ips

    def _run_args(self, i, tag):
        return ["run", "-d", "--name", f"{self.project}-{tag}-{i}", "--label", self.label,
                IMAGE, "sh", "-c", HTTPD]

    def docker_run(self, n, parallel=False):
        tag = "par" if parallel else "seq"
        t0 = now()
        if parallel:
            procs = [subprocess.Popen(["docker", *self._run_args(i, tag)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for i in range(n)]
            ids = []
            for p in procs:
                out, err = p.communicate()
                if p.returncode != 0:
                    raise RuntimeError(f"docker run: {err.strip()}")
                ids.append(out.strip())
        else:
            ids = [docker_cli(*self._run_args(i, tag)) for i in range(n)]
        t_started = now()
        t_ok = wait_all_ok(self._ips(ids))
        self._peer_cleanup()
        if t_ok is None:
            raise RuntimeError("docker run: containers did not answer within 60 s")
        return {"total": t_ok - t0, "post": t_started - t0}

    def compose(self, n):
        cdir = os.path.join(self.tmp, "compose")
        os.makedirs(cdir, exist_ok=True)
        cproj = f"{self.project}-c".replace("-", "")
        with open(os.path.join(cdir, "docker-compose.yml"), "w") as f:
            f.write(f"""version: "2.4"
services:
  web:
    image: {IMAGE}
    command: [sh, -c, "{HTTPD}"]
    labels: {{bench.project: "{self.project}"}}
networks:
  default:
    labels: {{bench.project: "{self.project}"}}
""")
        base = ["docker-compose", "-p", cproj, "-f", os.path.join(cdir, "docker-compose.yml")]
        t0 = now()
        r = subprocess.run([*base, "up", "-d", "--scale", f"web={n}"], capture_output=True, text=True)
        t_up = now()
        if r.returncode != 0:
            raise RuntimeError(f"docker-compose up: {r.stderr.strip()[-300:]}")
        ids = [c["Id"] for c in self.d.ps(f"com.docker.compose.project={cproj}")]
        t_ok = wait_all_ok(self._ips(ids))
        subprocess.run([*base, "down", "-t", "0"], capture_output=True)
        self._peer_cleanup()
        if t_ok is None or len(ids) != n:
            raise RuntimeError(f"compose: {len(ids)} containers, answered: {t_ok is not None}")
        return {"total": t_ok - t0, "post": t_up - t0}

    def run(self, runs, warmup):
        cases = [
            ("berth apply, 1 replica", "POST /apply → GET says RUNNING (http probe passed)",
             lambda: self.berth(1)),
            ("`docker run -d` ×1", "run → HTTP 200 on the bridge IP", lambda: self.docker_run(1)),
            ("berth apply, 10 replicas", "POST /apply → GET says RUNNING, 10/10 ready",
             lambda: self.berth(10)),
            ("`docker run -d` ×10, sequential loop", "first run → all 10 answer 200",
             lambda: self.docker_run(10)),
            ("`docker run -d` ×10, in parallel", "10 concurrent runs → all 10 answer 200",
             lambda: self.docker_run(10, parallel=True)),
            ("`docker-compose up -d --scale web=10`", "up → all 10 answer 200",
             lambda: self.compose(10)),
        ]
        samples = {c[0]: [] for c in cases}
        for rnd in range(warmup + runs):
            for title, _, fn in cases:
                try:
                    s = fn()
                except Exception as e:  # report, go on
                    log(f"round {rnd}: {title}: FAILED: {e}")
                    self._peer_cleanup()
                    continue
                tag = "warm-up" if rnd < warmup else f"run {rnd - warmup + 1}/{runs}"
                log(f"{tag}: {title}: {s['total']:.3f} s (command returned after {s['post']:.3f} s)")
                if rnd >= warmup:
                    samples[title].append(s)
        rows = []
        for title, ready, _ in cases:
            tot = [s["total"] for s in samples[title]]
            post = [s["post"] for s in samples[title]]
            rows.append([title, ready, len(tot), fmt(percentile(tot, 50)), fmt(min(tot) if tot else None),
                         fmt(max(tot) if tot else None), fmt(percentile(post, 50))])
            record("apply-to-running", re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_"),
                   fmt(percentile(tot, 50)), "s")
        print("### Apply → running (1 and 10 replicas) vs `docker run` / `docker-compose`\n")
        print(table(["case", "ready means", "n", "median s", "min s", "max s",
                     "command returned (median s)"], rows))
        print()


# ---- heal ----

def wait_new_instance(d, name, old_pid, t0, timeout, probe=True):
    """After a kill: first time Docker says running with a new PID, and first HTTP 200."""
    t_run = None
    deadline = t0 + timeout
    while now() < deadline:
        c = d.inspect(name)
        st = (c or {}).get("State") or {}
        if st.get("Running") and st.get("Pid") and st.get("Pid") != old_pid:
            if t_run is None:
                t_run = now()
            if not probe:
                return t_run, None
            ip = container_ip(c)
            if ip and http_ok(ip, timeout=0.2):
                return t_run, now()
        time.sleep(POLL)
    return t_run, None


def wait_answering(d, name, timeout=30):
    deadline = now() + timeout
    while now() < deadline:
        c = d.inspect(name)
        if c and c["State"].get("Running") and http_ok(container_ip(c) or "0.0.0.0", timeout=0.2):
            return c
        time.sleep(POLL)
    raise RuntimeError(f"{name} does not answer")


class HealBench:
    def __init__(self, args):
        self.b = Berth(os.environ["BERTH_URL"])
        self.d = Docker()
        self.project = os.environ["PROJECT"]
        self.label = f"bench.project={self.project}"
        self.kills = args.kills
        self.worker_kills = args.worker_kills
        self.timeout = args.timeout
        self.worker_timeout = args.worker_timeout

    def berth_kill(self, name, doc, kills, http=True):
        """docker kill of the replica, `kills` times: until running with a new PID (and answering)."""
        self.b.apply(doc)
        t, status = wait_running(self.b, name, self.project, 1)
        if t is None:
            raise RuntimeError(f"{name} not RUNNING")
        cname = status["status"]["nodes"][0]["name"]
        runs, oks = [], []
        for i in range(kills):
            # Kill at a random phase of berth's probe cycle (interval 1 s).
            time.sleep(random.uniform(0.5, 1.5))
            c = wait_answering(self.d, cname) if http else self.d.inspect(cname)
            old = c["State"]["Pid"]
            t0 = now()
            docker_cli("kill", cname)
            if http:
                t_run, t_ok = wait_new_instance(self.d, cname, old, t0, self.timeout)
            else:
                t_run, _ = wait_new_instance(self.d, cname, old, t0, self.worker_timeout, probe=False)
                t_ok = t_run
            if t_ok is None:
                log(f"berth {name} kill {i + 1}: not back within {self.timeout} s")
                oks.append(None)
            else:
                runs.append(t_run - t0)
                oks.append(t_ok - t0)
                log(f"berth {name} kill {i + 1}/{kills}: running after {t_run - t0:.3f} s"
                    + (f", answers after {t_ok - t0:.3f} s" if http else ""))
            # the next kill starts from a converged state
            wait_running(self.b, name, self.project, 1, timeout=60)
        berth_delete_and_wait(self.b, self.d, [name], self.project)
        return runs, oks

    def docker_run_always(self, name):
        docker_cli("run", "-d", "--restart=always", "--name", name, "--label", self.label,
                   IMAGE, "sh", "-c", HTTPD)
        return wait_answering(self.d, name)

    def docker_kill(self):
        name = f"{self.project}-always-kill"
        c = self.docker_run_always(name)
        t0 = now()
        docker_cli("kill", name)
        t_run, t_ok = wait_new_instance(self.d, name, c["State"]["Pid"], t0, 10)
        docker_cli("rm", "-f", name, check=False)
        log(f"docker --restart=always, docker kill: {'never (10 s)' if t_ok is None else f'{t_ok - t0:.3f} s'}")
        return None if t_ok is None else t_ok - t0

    def docker_crash(self):
        runs, oks = [], []
        for i in range(self.kills):
            name = f"{self.project}-always-crash-{i}"
            c = self.docker_run_always(name)
            time.sleep(0.3)
            pid = c["State"]["Pid"]
            t0 = now()
            os.kill(pid, signal.SIGKILL)
            t_run, t_ok = wait_new_instance(self.d, name, pid, t0, self.timeout)
            docker_cli("rm", "-f", name, check=False)
            if t_ok is None:
                oks.append(None)
                log(f"docker crash {i + 1}: not back within {self.timeout} s")
                continue
            runs.append(t_run - t0)
            oks.append(t_ok - t0)
            log(f"docker crash {i + 1}/{self.kills}: running after {t_run - t0:.3f} s, "
                f"answers after {t_ok - t0:.3f} s")
        return runs, oks

    def run(self):
        b_runs, b_oks = self.berth_kill("web", service_yaml("web", self.project, 1, interval="1s"),
                                        self.kills)
        w_runs, w_oks = [], []
        if self.worker_kills > 0:
            w_runs, w_oks = self.berth_kill("wk", service_yaml("wk", self.project, 1, worker=True),
                                            self.worker_kills, http=False)
        dk = self.docker_kill()
        d_runs, d_oks = self.docker_crash()

        def row(title, how, runs, oks):
            ok = [x for x in oks if x is not None]
            lost = len(oks) - len(ok)
            return [title, how, f"{len(ok)}/{len(oks)}" + (f" ({lost} never)" if lost else ""),
                    fmt(percentile(runs, 50)), fmt(percentile(ok, 50)), fmt(percentile(ok, 95)),
                    fmt(max(ok) if ok else None)]

        rows = [
            row("berth (1 replica, http probe every 1 s)", "`docker kill` (user kill)", b_runs, b_oks),
        ] + ([
            row("berth (1-replica worker, no healthcheck)", "`docker kill` (user kill); \"answers\" = running",
                w_runs, w_oks)] if self.worker_kills > 0 else []) + [
            ["`docker run --restart=always`", "`docker kill` (user kill)", f"{0 if dk is None else 1}/1",
             "never" if dk is None else fmt(dk), "never (10 s timeout)" if dk is None else fmt(dk),
             "–", "–"],
            row("`docker run --restart=always`", "`kill -9` of the main process from the host "
                "(fresh container each time)", d_runs, d_oks),
        ]
        record("heal", "berth_docker_kill_answers_median", fmt(percentile([x for x in b_oks if x], 50)), "s")
        record("heal", "berth_docker_kill_answers_p95", fmt(percentile([x for x in b_oks if x], 95)), "s")
        record("heal", "docker_crash_answers_median", fmt(percentile([x for x in d_oks if x], 50)), "s")
        print("### Self-heal: killed container → answers HTTP again\n")
        print(table(["who restarts", "event", "back", "running (median s)", "answers (median s)",
                     "answers (p95 s)", "answers (max s)"], rows))
        print()


# ---- scale ----

def proc_ticks(pid, children=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # fields[0] is state (field 3); utime 14, stime 15, cutime 16, cstime 17
    t = int(fields[11]) + int(fields[12])
    if children:
        t += int(fields[13]) + int(fields[14])
    return t


def proc_status_kb(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def proc_pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pg_pids(data_dir):
    try:
        with open(os.path.join(data_dir, "state", "postmaster.pid")) as f:
            pm = int(f.readline())
    except (OSError, ValueError):
        return None, []
    kids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pm:
            kids.append(int(p))
    return pm, kids


def pg_ticks(data_dir):
    """The embedded server's CPU so far: postmaster (with its reaped children) + live children."""
    pm, kids = pg_pids(data_dir)
    if pm is None:
        return 0
    t = proc_ticks(pm, children=True)
    for k in kids:
        try:
            t += proc_ticks(k)
        except OSError:
            pass
    return t


def pg_mem(data_dir):
    pm, kids = pg_pids(data_dir)
    rss = pss = 0
    for p in ([pm] if pm else []) + kids:
        try:
            rss += proc_status_kb(p)
            pss += proc_pss_kb(p)
        except OSError:
            pass
    return rss, pss, len(kids) + (1 if pm else 0)


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z .*?\b(GET|POST|DELETE|PUT|HEAD) "
                      r"(\S+) -> (-?\d+) \(")


def classify_docker_call(method, path):
    p = urllib.parse.unquote(path)
    if "/containers/json" in p:
        if "berth.resource=" in p:
            return "container list (one resource)"
        if "berth.installation=" in p:
            return "container list (relist, all)"
        return "container list (other)"
    if method == "GET" and re.search(r"/networks/[^/]+$", p):
        return "network inspect"
    if "/events" in p:
        return "events stream"
    return f"{method} {re.sub(r'/[0-9a-f]{12,}', '/ID', p.split('?')[0])}"


class ScaleBench:
    def __init__(self, args):
        self.b = Berth(os.environ["BERTH_URL"])
        self.d = Docker()
        self.project = os.environ["PROJECT"]
        self.pid = int(os.environ["BERTHD_PID"])
        self.data = os.environ["BERTH_DATA"]
        self.n = args.services
        self.batch = args.batch
        self.steady = args.steady
        self.relist = args.relist_interval
        self.names = [f"w{i:04d}" for i in range(self.n)]

    def count_running(self):
        items = self.b.list(self.project)
        return sum(1 for it in items if it.get("phase") == "RUNNING"
                   and it.get("observed_generation") == it.get("generation")), len(items)

    def run(self):
        out = []
        # 1. apply in batches
        t0 = now()
        posts = []
        for i in range(0, self.n, self.batch):
            docs = "---\n".join(service_yaml(n, self.project, 1, worker=True)
                                for n in self.names[i:i + self.batch])
            ts = now()
            self.b.apply(docs)
            posts.append(now() - ts)
        t_applied = now() - t0
        log(f"{self.n} services applied in {len(posts)} POSTs, {t_applied:.2f} s")
        deadline = now() + max(600, self.n * 3)
        running = total = 0
        last = 0
        t_first = None
        while now() < deadline:
            running, total = self.count_running()
            if running > 0 and t_first is None:
                t_first = now() - t0
            if running == self.n:
                break
            if now() - last > 10:
                log(f"{running}/{self.n} RUNNING")
                last = now()
            time.sleep(0.5)
        t_running = now() - t0
        containers = len(self.d.ps(f"berth.project={self.project}", all_=False))
        log(f"{running}/{self.n} RUNNING after {t_running:.1f} s; {containers} containers running")

        # 2. settle: queue empty, then a few relist passes pass by
        settle_deadline = now() + 60
        while now() < settle_deadline and self.b.metrics().get("berth_queue_depth", 0) > 0:
            time.sleep(0.5)
        time.sleep(2 * self.relist)

        # 3. one steady window
        hz = os.sysconf("SC_CLK_TCK")
        try:
            dockerd = int(subprocess.run(["pidof", "dockerd"], capture_output=True, text=True)
                          .stdout.split()[0])
        except (IndexError, ValueError):
            dockerd = None
        logf = os.path.join(self.data, "berthd.log")
        m0 = self.b.metrics()
        log_off = os.path.getsize(logf)
        c0 = proc_ticks(self.pid)
        p0 = pg_ticks(self.data)
        k0 = proc_ticks(dockerd) if dockerd else 0
        w0 = now()
        rss, pg_rss, pg_pss = [], [], []
        log(f"steady window: {self.steady} s")
        while now() - w0 < self.steady:
            rss.append(proc_status_kb(self.pid))
            r, p, nproc = pg_mem(self.data)
            pg_rss.append(r)
            pg_pss.append(p)
            time.sleep(min(5, max(0.1, self.steady - (now() - w0))))
        wall = now() - w0
        c1 = proc_ticks(self.pid)
        p1 = pg_ticks(self.data)
        k1 = proc_ticks(dockerd) if dockerd else 0
        m1 = self.b.metrics()
        rss.append(proc_status_kb(self.pid))
        hwm = proc_status_kb(self.pid, "VmHWM")
        threads = proc_status_kb(self.pid, "Threads")
        r, p, nproc = pg_mem(self.data)
        pg_rss.append(r)
        pg_pss.append(p)
        with open(logf, "rb") as f:
            f.seek(log_off)
            lines = f.read().decode(errors="replace").splitlines()

        calls = {}
        stamps = []
        for line in lines:
            mm = LOG_LINE.match(line)
            if not mm:
                continue
            cat = classify_docker_call(mm.group(2), mm.group(3))
            calls[cat] = calls.get(cat, 0) + 1
            if cat != "events stream":
                ts = time.mktime(time.strptime(mm.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
                stamps.append(ts + int(mm.group(1)[20:]) / 1000)
        passes = calls.get("container list (relist, all)", 0)
        d_calls = m1.get("berth_docker_api_calls_total", 0) - m0.get("berth_docker_api_calls_total", 0)
        d_rec = sum(v for k, v in m1.items() if k.startswith("berth_reconciles_total")) - \
            sum(v for k, v in m0.items() if k.startswith("berth_reconciles_total"))
        # Bursts: Docker calls separated by less than 1 s (a relist and the reconciles it queued;
        # nothing else calls Docker here); the window may cut the first and last.
        bursts, start = [], None
        for i, ts in enumerate(stamps):
            if start is None:
                start = ts
            if i + 1 == len(stamps) or stamps[i + 1] - ts > 1.0:
                bursts.append(ts - start)
                start = None
        bursts = bursts[1:-1] if len(bursts) > 2 else bursts

        def pct(ticks):
            return 100.0 * ticks / hz / wall

        mem_rows = [
            ["berthd RSS (VmRSS)", f"{min(rss) / 1024:.1f} – {max(rss) / 1024:.1f} MiB",
             f"peak VmHWM {hwm / 1024:.1f} MiB, {threads} threads"],
            ["embedded PostgreSQL, summed RSS", f"{min(pg_rss) / 1024:.1f} – {max(pg_rss) / 1024:.1f} MiB",
             f"{nproc} processes; RSS counts shared buffers once per process"],
            ["embedded PostgreSQL, summed PSS", f"{min(pg_pss) / 1024:.1f} – {max(pg_pss) / 1024:.1f} MiB",
             "shared pages split between processes (closer to real use)"],
            ["berthd CPU", f"{pct(c1 - c0):.1f} % of one core", f"utime+stime over {wall:.0f} s"],
            ["embedded PostgreSQL CPU", f"{pct(p1 - p0):.1f} % of one core", "postmaster + backends"],
            ["dockerd CPU (the engine answering berth)", f"{pct(k1 - k0):.1f} % of one core" if dockerd else "–",
             "whole dockerd, not only berth's calls"],
        ]
        out.append(f"### {self.n} services (1 replica each, `sleep 3600` workers): steady state\n")
        out.append(table(["what", "value", "note"], [
            ["apply", f"{t_applied:.2f} s", f"{len(posts)} POSTs of up to {self.batch} documents, median "
             f"{percentile(posts, 50):.3f} s each"],
            ["all RUNNING", f"{t_running:.1f} s" if running == self.n else f"{running}/{self.n} after {t_running:.0f} s",
             f"from the first POST; {containers} containers running; the first service was RUNNING "
             f"after {fmt(t_first, 1)} s (polled every 0.5 s)"],
        ] + mem_rows))
        out.append("")
        call_rows = []
        for cat, v in sorted(calls.items(), key=lambda kv: -kv[1]):
            call_rows.append([cat, v, fmt(v / passes, 1) if passes else "–",
                              fmt(v / passes / self.n, 2) if passes else "–"])
        out.append(f"Docker Engine API calls in the {wall:.0f} s window, `--relist-interval {self.relist}` "
                   f"(±10 % jitter): {passes} relist passes, "
                   f"`berth_docker_api_calls_total` +{d_calls:.0f} = **{d_calls / passes:.1f} per pass** "
                   f"({d_calls / passes / self.n:.2f} per resource), `berth_reconciles_total` +{d_rec:.0f} "
                   f"({d_rec / passes:.1f} per pass). Breakdown from berthd's debug log:\n"
                   if passes else "No relist pass seen in the window (log level must be debug).\n")
        out.append(table(["call", "in window", "per pass", "per pass per resource"], call_rows))
        if bursts:
            out.append(f"\nEach relist pass and the reconciles it queues come as one burst of Docker calls "
                       f"(calls less than 1 s apart): {len(bursts)} whole bursts in the window, lasting median "
                       f"{percentile(bursts, 50):.2f} s, max {max(bursts):.2f} s.")
        out.append("")
        print("\n".join(out))
        record("scale", f"all_running_{self.n}", fmt(t_running, 1), "s")
        record("scale", "berthd_rss", f"{max(rss) / 1024:.1f}", "MiB")
        record("scale", "berthd_cpu", f"{pct(c1 - c0):.2f}", "%")
        if passes:
            record("scale", "docker_calls_per_relist", f"{d_calls / passes:.1f}", "calls")

        # 4. delete everything, timed
        t0 = now()
        for n in self.names:
            self.b.delete(n, self.project)
        ok = berth_delete_and_wait(self.b, self.d, self.names, self.project, timeout=max(300, self.n * 2))
        log(f"deleted {self.n} services in {now() - t0:.1f} s ({'complete' if ok else 'INCOMPLETE'})")
        print(f"Deleting all {self.n}: {now() - t0:.1f} s until every resource and container was gone.\n")


# ---- api ----

def api_setup(args):
    b = Berth(os.environ["BERTH_URL"])
    project = os.environ["PROJECT"]
    names = [f"w{i:03d}" for i in range(args.services)]
    if args.write_doc:
        with open(args.write_doc, "w") as f:
            f.write(service_yaml(names[0], project, 1, worker=True))
    for i in range(0, len(names), 25):
        b.apply("---\n".join(service_yaml(n, project, 1, worker=True) for n in names[i:i + 25]))
    deadline = now() + 300
    while now() < deadline:
        items = b.list(project)
        if sum(1 for it in items if it.get("phase") == "RUNNING") == len(names):
            log(f"{len(names)} services RUNNING")
            return
        time.sleep(0.5)
    raise SystemExit("api-setup: services did not reach RUNNING")


def parse_wrk(text):
    def dur(s):
        m = re.match(r"([\d.]+)(us|ms|s|m)", s)
        v = float(m.group(1))
        return v * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[m.group(2)]
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    r["rps"] = float(m.group(1)) if m else None
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", text, re.M)
        r[f"p{p}"] = dur(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", text)
    r["n"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    r["errors"] = m.group(1).strip() if m else "none"
    return r


def parse_ab(text):
    r = {}
    m = re.search(r"Requests per second:\s+([\d.]+)", text)
    r["rps"] = float(m.group(1)) if m else None
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}%\s+(\d+)", text, re.M)
        r[f"p{p}"] = float(m.group(1)) if m else None
    m = re.search(r"Complete requests:\s+(\d+)", text)
    r["n"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx responses:\s+(\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Failed requests:\s+(\d+)", text)
    r["errors"] = f"failed {m.group(1)}" if m else "?"
    return r


def load_row(args):
    text = open(args.file).read()
    r = parse_wrk(text) if args.tool == "wrk" else parse_ab(text)
    record("api", re.sub(r"[^a-z0-9]+", "_", args.title.lower()).strip("_") + "_rps", fmt(r["rps"], 0), "req/s")
    print("| " + " | ".join([args.title, f"`{args.command}`", str(r["n"]), fmt(r["rps"], 0),
                             fmt(r["p50"], 2), fmt(r["p99"], 2),
                             f"{r['non2xx']} non-2xx; {r['errors']}"]) + " |")


def hyperfine_row(args):
    d = json.load(open(args.file))
    for res in d["results"]:
        t = res["times"]
        print("| " + " | ".join([f"`{res['command']}`", str(len(t)), fmt(percentile(t, 50) * 1000, 1),
                                 fmt(percentile(t, 95) * 1000, 1), fmt(min(t) * 1000, 1)]) + " |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("apply-to-running")
    a.add_argument("--runs", type=int, default=5)
    a.add_argument("--warmup", type=int, default=1)
    h = sub.add_parser("heal")
    h.add_argument("--kills", type=int, default=20)
    h.add_argument("--timeout", type=float, default=30)
    h.add_argument("--worker-kills", type=int, default=3)
    h.add_argument("--worker-timeout", type=float, default=60)
    s = sub.add_parser("scale")
    s.add_argument("--services", type=int, default=200)
    s.add_argument("--batch", type=int, default=20)
    s.add_argument("--steady", type=float, default=60)
    s.add_argument("--relist-interval", type=float, default=5)
    x = sub.add_parser("api-setup")
    x.add_argument("--services", type=int, default=50)
    x.add_argument("--write-doc", help="write the first service's document here")
    w = sub.add_parser("load-row")
    w.add_argument("tool", choices=["wrk", "ab"])
    w.add_argument("title")
    w.add_argument("command")
    w.add_argument("file")
    y = sub.add_parser("hyperfine-row")
    y.add_argument("file")
    args = ap.parse_args()

    if args.cmd == "apply-to-running":
        ApplyBench(args).run(args.runs, args.warmup)
    elif args.cmd == "heal":
        HealBench(args).run()
    elif args.cmd == "scale":
        ScaleBench(args).run()
    elif args.cmd == "api-setup":
        api_setup(args)
    elif args.cmd == "load-row":
        load_row(args)
    elif args.cmd == "hyperfine-row":
        hyperfine_row(args)


if __name__ == "__main__":
    main()
