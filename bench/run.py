#!/usr/bin/env python3
"""Our service against the old FastAPI path and two peers, on one SecantusDB server, with wrk, side by side.

    pip install -r requirements.txt -r bench/requirements.txt   # once; wrk from apt
    python bench/run.py                 # about 12 minutes; prints the table, writes bench/results/

The peers are FastAPI-Users on Beanie (on the same SecantusDB server) and Djoser on Django's default
stack (SQLite). They run from their own virtual environment, bench/.peers-venv (git-ignored), which
this script makes on first use from bench/peers-requirements.txt, so that the service's
requirements stay as they are. `--systems ours,old` leaves them out.

In order (see bench/README.md):
1. starts a SecantusDB server (its own temporary folder) on loopback;
2. starts our service (`config.wsgi` under the production server, one process, DEBUG off, the
   production hasher, the request log on, throttles raised out of the way) on database
   `bench_ours`, the old path (`bench/old_app.py`: FastAPI, synchronous pymongo, no auth,
   under uvicorn, one process) on database `bench_old`, FastAPI-Users (bench/peers/fau_app.py,
   uvicorn, one process) on `bench_fau`, and Djoser (bench/peers/djoser_site, granian, one
   process, SQLite);
3. seeds the same users into each through its own HTTP API (register, login, and for ours and the
   old path link_id and add_details);
4. for each repetition, runs every row against each system that has it, one after the other (the
   order rotates each repetition): the join (-c8; ours, old), /users/me (-c8; ours, FastAPI-Users,
   Djoser), logins (-c8), a read (the join, -c1) while wrk keeps 8 logins in flight (ours, old),
   and register (-c8); around each wrk run it reads from /proc the CPU time used by the system's
   processes and by the database server, so each row also gives CPU per request;
5. prints req/s, p50, p99 and CPU per request of each system (medians of the repetitions) and the
   median of the per-repetition ratios ours/other, and writes them to bench/results/latest.md and .json;
6. with --servers, also serves our join under each candidate WSGI server with one and two
   processes (the production server's choice);
7. stops everything it started, whatever happened.

Only loopback addresses are used; every wrk run is bounded by -d and every HTTP call by a timeout.
"""
import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # loopback only, always
PASSWORD = "Bench-passphrase-42"  # passes Django's validators; never similar to the names below
ADMIN = {"username": "benchadmin", "email": "benchadmin@example.com", "password": "bench-admin-passphrase-9"}
HTTP_TIMEOUT = 60
THREADS = 16  # per process: 8 logins in flight leave threads free for reads

# The targets of issue 26 (and issue 16's read during logins).
TARGET_JOIN_RATIO = 1.3  # the join at one process, ours/old req/s
TARGET_SCALED_JOIN_RATIO = 2.0  # ours at the production process count (--workers) / the old path at one
TARGET_ME_RATIO = 1.2  # /users/me, ours/FastAPI-Users req/s
TARGET_ME_DB_CPU = 1.2  # /users/me, the database's CPU per request, ours/FastAPI-Users (at most)
TARGET_LOGINS_PER_CORE = 15  # Keycloak's sizing guide: 15 password logins/s per vCPU
TARGET_BUSY_P99_MS = 50

PEERS_VENV = BENCH / ".peers-venv"
PEERS_REQUIREMENTS = BENCH / "peers-requirements.txt"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        sys.exit(f"{name} not found: pip install -r requirements.txt -r bench/requirements.txt (wrk: apt-get install wrk)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- processes: each in its own session, stopped by its own process group -----------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def group_stats(pgid: int):
    """(pid, the fields of /proc/<pid>/stat after the command's name) of each process of one
    process group; a process gone meanwhile is skipped."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            yield int(entry), fields


def group_cpu_seconds(pgid: int) -> float:
    """CPU time used so far by the processes of one process group (all their threads)."""
    return sum(int(fields[11]) + int(fields[12]) for _, fields in group_stats(pgid)) / CLOCK_TICKS  # utime + stime


class Process:
    def __init__(self, name: str, command: list[str], env: dict, log_path: Path, port: int, ready_path: str = "/health"):
        self.name, self.command, self.env, self.log_path, self.port, self.ready_path = name, command, env, log_path, port, ready_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "Process":
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 - open while the process runs
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up (code {self.proc.returncode}); see {self.log_path}")
            if self.ready():
                return self
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} was not ready within {timeout} s; see {self.log_path}")

    def ready(self) -> bool:
        try:
            if self.ready_path is None:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return True
            status, _ = Client(self.port).call("GET", self.ready_path, timeout=2)
            return status == 200
        except OSError:
            return False

    def settle(self, limit: float = 90) -> float:
        """Wait until this process group is idle (under 5% of a core over half a second): a
        server may still be working through requests queued by the previous row (the old path
        serves one request at a time). Returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            before = group_cpu_seconds(self.proc.pid)
            time.sleep(0.5)
            if group_cpu_seconds(self.proc.pid) - before < 0.025:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # the process we started and its workers: its own group
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.log_file.close()


def server_command(server: str, port: int, workers: int, app: str = "config.wsgi:application", threads: int = THREADS) -> list[str]:
    """Our WSGI application under a candidate production server."""
    if server == "granian":
        return [
            tool("granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port), "--workers", str(workers),
            "--blocking-threads", str(threads), "--no-ws", "--log-level", "warning", app,
        ]
    if server == "gunicorn":
        module, _, name = app.partition(":")
        return [
            tool("gunicorn"), f"{module}:{name}", "-w", str(workers), "-k", "gthread", "--threads", str(threads),
            "-b", f"{HOST}:{port}", "--timeout", "120", "--no-control-socket",
        ]
    raise ValueError(server)


def _bench_signing_key() -> str:
    """A fresh ES256 (P-256) private key in PEM, for this run only."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def ours_env(mongodb_uri: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "CACHE_URL", "DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",  # the production settings, DEBUG off
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback
        MONGODB_URI=mongodb_uri,
        # Out of the way, but still running: every login and registration passes the throttle.
        THROTTLE_LOGIN="1000000/s",
        THROTTLE_REGISTER="1000000/s",
        ACCESS_TOKEN_MINUTES="120",  # tokens issued while seeding outlive the run
        # The registrations' verification mails are delivered at once (no mail server here): an
        # undeliverable mail is retried by the outbox, whose work would run through every row.
        EMAIL_URL="dummymail://",
        # The production default, ES256, with a key made for this run (required with DEBUG off).
        JWT_SIGNING_KEYS=os.environ.get("JWT_SIGNING_KEYS") or _bench_signing_key(),
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_EMAIL=ADMIN["email"],
        ADMIN_PASSWORD=ADMIN["password"],
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def old_command(port: int) -> list[str]:
    return [
        tool("uvicorn"), "--app-dir", str(BENCH), "old_app:app", "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]


def old_env(mongodb_uri: str) -> dict:
    return {**os.environ, "MONGODB_URI": mongodb_uri, "PYTHONUNBUFFERED": "1"}


# --- the peers, from their own virtual environment ---------------------------------------------
def peers_venv() -> Path:
    """bench/.peers-venv/bin, made (or brought up to date) from bench/peers-requirements.txt:
    the peers' dependencies never enter the service's environment."""
    stamp = PEERS_VENV / "requirements.stamp"
    wanted = PEERS_REQUIREMENTS.read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        log(f"making {PEERS_VENV.relative_to(ROOT)} from {PEERS_REQUIREMENTS.name} (once; a minute or two)")
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(PEERS_VENV / "bin" / "pip"), "install", "-q", "-r", str(PEERS_REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return PEERS_VENV / "bin"


def fau_command(port: int) -> list[str]:
    return [
        str(peers_venv() / "uvicorn"), "--app-dir", str(BENCH / "peers"), "fau_app:app", "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]


def djoser_command(port: int) -> list[str]:
    return [
        str(peers_venv() / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port), "--workers", "1",
        "--blocking-threads", str(THREADS), "--no-ws", "--log-level", "warning", "djoser_site.wsgi:application",
    ]


def djoser_env(sqlite_path: str) -> dict:
    return {**os.environ, "DJOSER_DB": sqlite_path, "PYTHONPATH": str(BENCH / "peers"), "PYTHONUNBUFFERED": "1"}


def djoser_migrate(env: dict) -> None:
    subprocess.run(
        [str(peers_venv() / "python"), str(BENCH / "peers" / "djoser_manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT
    )


# What each system calls its endpoints, and how its login and registration bodies look.
SYSTEM_NAMES = {"ours": "ours", "old": "old path", "fau": "FastAPI-Users", "djoser": "Djoser"}
ENDPOINTS = {
    "ours": {"me": "/users/me", "login": ("/login", "json-email"), "register": ("/users/register", "username")},
    "old": {"login": ("/login", "json-email"), "register": ("/users/register", "username")},
    "fau": {"me": "/users/me", "login": ("/auth/jwt/login", "form"), "register": ("/auth/register", "email")},
    "djoser": {"me": "/auth/users/me/", "login": ("/auth/jwt/create/", "json-username"), "register": ("/auth/users/", "username")},
}


# --- a small HTTP client for seeding (one keep-alive connection per thread) ------------------
class Client:
    _local = threading.local()

    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, body=None, token: str | None = None, timeout: float = HTTP_TIMEOUT, form: bool = False):
        conn = getattr(self._local, "conn", None)
        # Servers close idle keep-alive connections after a few seconds: never reuse one idle for 1 s.
        if conn is None or getattr(self._local, "port", None) != self.port or time.monotonic() - self._local.used > 1:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
            self._local.conn, self._local.port = conn, self.port
        headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            body = urllib.parse.urlencode(body) if form else json.dumps(body)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            self._local.used = time.monotonic()
        except (OSError, http.client.HTTPException):
            conn.close()
            self._local.conn = None
            raise
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return response.status, data

    def expect(self, statuses: tuple[int, ...], method: str, path: str, body=None, token=None, form: bool = False):
        got, data = self.call(method, path, body, token, form=form)
        if got not in statuses:
            raise RuntimeError(f"{method} {path}: expected {statuses}, got {got}: {data}")
        return data


def seed(client: Client, prefix: str, count: int, *, tokens: bool, details: bool = True) -> list[dict]:
    """Register `count` users through a system's own API, link an id and add details to each
    (unless `details` is off: users who only log in). Ours needs a token for link_id and
    add_details (logged in first); the old path takes none."""

    def one(n: int) -> dict:
        email = f"{prefix}-{n}@example.com"
        body = {"username": f"{prefix} {n}", "email": email, "password": PASSWORD}
        user = {"email": email, "login": email, "id": client.expect((200, 201), "POST", "/users/register", body)["user_id"], "token": None}
        if not details:
            return user
        if tokens:
            user["token"] = client.expect((200,), "POST", "/login", {"email": email, "password": PASSWORD})["access"]
        client.expect((200,), "POST", "/users/link_id", {"user_id": user["id"], "linked_id": f"{prefix}-ext-{n}"}, user["token"])
        client.expect(
            (200,), "POST", "/users/add_details",
            {"user_id": user["id"], "address": f"{n} Seed Road", "phone": "+15550000000", "preferences": {"theme": "light"}},
            user["token"],
        )
        return user

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(1, count + 1)))


def seed_peer(client: Client, system: str, prefix: str, count: int) -> list[dict]:
    """Register and log in `count` users of a peer through its own API (a peer has no details)."""

    def one(n: int) -> dict:
        email = f"{prefix}-{n}@example.com"
        if system == "fau":
            user_id = client.expect((201,), "POST", "/auth/register", {"email": email, "password": PASSWORD})["id"]
            token = client.expect((200,), "POST", "/auth/jwt/login", {"username": email, "password": PASSWORD}, form=True)["access_token"]
            return {"email": email, "login": email, "id": user_id, "token": token}
        username = f"{prefix}_{n}"
        body = {"username": username, "email": email, "password": PASSWORD}
        user_id = client.expect((201,), "POST", "/auth/users/", body)["id"]
        token = client.expect((200,), "POST", "/auth/jwt/create/", {"username": username, "password": PASSWORD})["access"]
        return {"email": email, "login": username, "id": str(user_id), "token": token}

    # One at a time into SQLite (Djoser): a fresh database file and several writers can time out.
    with concurrent.futures.ThreadPoolExecutor(1 if system == "djoser" else 4) as pool:
        return list(pool.map(one, range(1, count + 1)))


# --- wrk ----------------------------------------------------------------------------------
def wrk_command(script: str, connections: int, duration: float, port: int, *args) -> list[str]:
    return [
        "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency",
        "-s", str(Path("bench/lua") / script), f"http://{HOST}:{port}", "--", *map(str, args),
    ]


def wrk_result(proc: subprocess.Popen, command: list[str], timeout: float) -> dict:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line[len("BENCH_JSON "):])
            break
    else:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    seconds = result["duration_us"] / 1e6
    if result["requests"] == 0:
        # Nothing answered within -d: the latency is at least the duration (wrk records none).
        result.update(p50_us=result["duration_us"], p99_us=result["duration_us"], lower_bound=True)
    result.update(
        command=shlex.join(command),
        rps=result["requests"] / seconds if seconds else 0.0,
        errors=sum(result[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")),
    )
    return result


def wrk(command: list[str], duration: float) -> dict:
    return wrk_result(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), command, duration + 60)


def wrk_during_logins(read: list[str], logins: list[str], duration: float) -> tuple[dict, dict]:
    """`read` while `logins` keeps 8 logins in flight (started first, ending after it)."""
    busy = subprocess.Popen(logins, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.5)
        result = wrk(read, duration)
    finally:
        login_result = wrk_result(busy, logins, duration + 60)
    return result, login_result


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join(" ".join(row) + "\n" for row in rows))
    return path


# --- the report ---------------------------------------------------------------------------
def machine() -> dict:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no")
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0].split(" [")[0]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "commit": (git("rev-parse", "--short", "HEAD") or "?") + (" with uncommitted changes" if dirty else ""),
        "wrk": wrk_version,
        "loadavg": Path("/proc/loadavg").read_text().split()[0],
    }


def ms(us: float) -> str:
    value = us / 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def median(values):
    return statistics.median(values) if values else float("nan")


# Each row: what it measures, and the systems that have it (ours first: ratios are ours/other).
ROWS = {
    "join": ("the join `GET /users/user_with_details/{id}`, -c8", ("ours", "old")),
    "me": ("the caller `GET /users/me` (theirs: their own path), -c8", ("ours", "fau", "djoser")),
    "login": ("logins (one password hash each), -c8", ("ours", "old", "fau", "djoser")),
    "busy": ("a read (the join, -c1) while 8 logins are in flight", ("ours", "old")),
    "register": ("register, -c8", ("ours", "old", "fau", "djoser")),
}


def summarize(runs: dict) -> dict:
    """Per row and system: medians of req/s, p50, p99 and CPU per request (service, database) over
    the repetitions, and per other system the median of the per-repetition ratios ours/other
    (req/s; for the read during logins, p99 other/ours)."""
    summary = {}
    for row, reps in runs.items():
        if not reps:
            continue
        systems = list(reps[0])
        entry = {"systems": {}, "ratios": {}}
        for system in systems:
            results = [rep[system] for rep in reps]
            entry["systems"][system] = {
                "rps": median([r["rps"] for r in results]),
                "p50_us": median([r["p50_us"] for r in results]),
                "p99_us": median([r["p99_us"] for r in results]),
                "cpu_service_us": median([r["cpu_service_us"] for r in results]),
                "cpu_db_us": median([r["cpu_db_us"] for r in results]),
                "errors": sum(r["errors"] for r in results),
                "lower_bound": any(r.get("lower_bound") for r in results),
            }
        for other in systems[1:]:
            if row == "busy":
                each = [rep[other]["p99_us"] / rep["ours"]["p99_us"] for rep in reps if rep["ours"]["p99_us"]]
            else:
                each = [rep["ours"]["rps"] / rep[other]["rps"] for rep in reps if rep[other]["rps"]]
            entry["ratios"][other] = {"median": median(each), "each": [round(r, 2) for r in each]}
        summary[row] = entry
    return summary


def cpu_text(us: float) -> str:
    return "-" if us != us else f"{us / 1000:.2f}"  # nan: not measured


def report(meta: dict, summary: dict, servers: list[dict]) -> str:
    m, args = meta["machine"], meta["args"]

    def shown(command: list[str]) -> str:
        return shlex.join(Path(c).name if i == 0 else c for i, c in enumerate(command))

    out = [
        "# Benchmark: our service against the old path, FastAPI-Users and Djoser, one SecantusDB server",
        "",
        f"- date: {m['date']}; commit {m['commit']}",
        f"- machine: {m['nproc']} cores ({m['cpu']}), {m['os']}, Python {m['python']}, {m['wrk']}; "
        f"load average at the start: {m['loadavg']}, at the end: {Path('/proc/loadavg').read_text().split()[0]}",
        f"- command: `{meta['command']}`",
        f"- ours: `{shown(meta['commands']['ours'])}`, DEBUG off, authenticated (JWT, owner-or-admin), request log on "
        f"(to a file), hasher {meta.get('hasher', {}).get('algorithm', '?')} {meta.get('hasher', {}).get('params', '')}",
    ]
    if "old" in meta["commands"]:
        out.append(f"- old: `{shown(meta['commands']['old'])}` (bench/old_app.py: FastAPI, synchronous pymongo, no auth, two `find_one`, bcrypt cost 12)")
    if "fau" in meta["commands"]:
        out.append(f"- FastAPI-Users: `{shown(meta['commands']['fau'])}` (bench/peers/fau_app.py: FastAPI-Users {meta['peer_versions'].get('fastapi-users', '?')} "
                   f"on Beanie {meta['peer_versions'].get('beanie', '?')}, JWT bearer, its default password hashing)")
    if "djoser" in meta["commands"]:
        out.append(f"- Djoser: `{shown(meta['commands']['djoser'])}` (bench/peers/djoser_site: Djoser {meta['peer_versions'].get('djoser', '?')}, "
                   "Django's ORM User on SQLite, simplejwt, Django's default hasher PBKDF2)")
    out += [
        f"- database: SecantusDB {meta['secantus']} on loopback, one server for all (databases bench_ours, bench_old, bench_fau); Djoser on SQLite",
        f"- data: {args.users} users seeded into each through its own API; wrk -t1, {args.duration} s a row, {args.reps} repetition(s), "
        "the order of the systems rotating each repetition",
        "- CPU per request: CPU time (user + system, from /proc) of the system's processes and of the database server "
        "during the row and until it is idle again, divided by the requests it served (those wrk counted, and the 8 in flight when wrk stopped); in ms",
        "",
        "| row | system | req/s | p50 | p99 | CPU/request: service | database | ours/this: median (each repetition) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row, entry in summary.items():
        for system, o in entry["systems"].items():
            at_least = "≥ " if o["lower_bound"] else ""
            errors = f" ({o['errors']} errors)" if o["errors"] else ""
            if system == "ours":
                ratio = ""
            elif row == "busy":
                ratio = f"p99 this/ours **{at_least}{entry['ratios'][system]['median']:.0f}x**"
            else:
                r = entry["ratios"][system]
                ratio = f"**{r['median']:.2f}x** ({', '.join(f'{x:.2f}' for x in r['each'])})" if r["each"] else "- (none answered)"
            db_cpu = "(SQLite, in the service)" if system == "djoser" else cpu_text(o["cpu_db_us"])
            out.append(
                f"| {ROWS[row][0] if system == 'ours' else ''} | {SYSTEM_NAMES[system]} | {rps(o['rps'])} | {at_least}{ms(o['p50_us'])} "
                f"| {at_least}{ms(o['p99_us'])} | {cpu_text(o['cpu_service_us'])} | {db_cpu} | {ratio}{errors} |"
            )

    def status(ok: bool) -> str:
        return "met" if ok else "**not met**"

    out += ["", "| target (issue 26) | measured | |", "|---|---|---|"]
    join = summary.get("join", {}).get("ratios", {}).get("old")
    workers = getattr(args, "workers", 1)
    if join and workers == 1:
        out.append(f"| the join at 1 process, ours/old ≥ {TARGET_JOIN_RATIO} | {join['median']:.2f}x | {status(join['median'] >= TARGET_JOIN_RATIO)} |")
    elif join:  # ours at the production process count against the old path at its one
        out.append(
            f"| the join, ours at {workers} processes / the old path at 1, ≥ {TARGET_SCALED_JOIN_RATIO} "
            f"| {join['median']:.2f}x | {status(join['median'] >= TARGET_SCALED_JOIN_RATIO)} |"
        )
    me = summary.get("me")
    if me and "fau" in me["ratios"]:
        r = me["ratios"]["fau"]["median"]
        out.append(f"| /users/me, ours/FastAPI-Users ≥ {TARGET_ME_RATIO} | {r:.2f}x | {status(r >= TARGET_ME_RATIO)} |")
        ours_db, fau_db = me["systems"]["ours"]["cpu_db_us"], me["systems"]["fau"]["cpu_db_us"]
        if fau_db:
            q = ours_db / fau_db
            out.append(
                f"| /users/me, database CPU per request ours/FastAPI-Users ≤ {TARGET_ME_DB_CPU} | {q:.2f}x "
                f"({ours_db / 1000:.2f} ms / {fau_db / 1000:.2f} ms) | {status(q <= TARGET_ME_DB_CPU)} |"
            )
    login = summary.get("login")
    if login:
        o = login["systems"]["ours"]
        cpu = (o["cpu_service_us"] + o["cpu_db_us"]) / 1e6
        per_core = 1 / cpu if cpu else float("nan")
        owasp = meta.get("hasher", {}).get("owasp_floor_met")
        out.append(
            f"| logins per core ≥ {TARGET_LOGINS_PER_CORE} (1 / CPU per login, service + database), "
            f"at the defaults meeting OWASP's floor | {per_core:.1f} (OWASP floor met: {'yes' if owasp else 'no'}) "
            f"| {status(per_core >= TARGET_LOGINS_PER_CORE and bool(owasp))} |"
        )
    if "busy" in summary:
        p99 = summary["busy"]["systems"]["ours"]["p99_us"]
        out.append(f"| a read's p99 during 8 logins < {TARGET_BUSY_P99_MS} ms | {ms(p99)} | {status(p99 < TARGET_BUSY_P99_MS * 1000)} |")
    if servers:
        out += [
            "",
            "Production server candidates, each with 1 and 2 processes: our join (-c8) on the same SecantusDB "
            "server, and GET /health (-c16) on the in-memory store (no database server competing for the 2 cores); "
            f"{args.duration} s each, {args.reps} repetitions alternating, medians:",
            "",
            "| server | processes | load | req/s | p50 | p99 |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for s in servers:
            out.append(f"| {s['server']} | {s['workers']} | {s['load']} | {rps(s['rps'])} | {ms(s['p50_us'])} | {ms(s['p99_us'])} |")
    out += [
        "",
        "The read during logins is the join, one connection, while a second wrk keeps 8 logins in flight "
        "on the same server. Ratios are taken within each repetition (same minute, same machine load), "
        "then their median is shown. ≥: in at least one repetition no request of that row was answered "
        "within the row's duration, so its latency is at least that long.",
    ]
    return "\n".join(out) + "\n"


def hasher_check(env: dict) -> dict:
    """bench/hashcheck.py in the server's environment: the hasher and its parameters, one hash's time."""
    done = subprocess.run([sys.executable, str(BENCH / "hashcheck.py")], env={**env, "HASHCHECK_ROUNDS": "3"}, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": done.stderr[-500:]}


# --- the run ------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk per row (default 8)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions, rotating the order (default 3)")
    parser.add_argument("--users", type=int, default=32, help="users seeded into each system (default 32)")
    parser.add_argument("--only", default=",".join(ROWS), help=f"comma-separated rows (default all: {','.join(ROWS)})")
    parser.add_argument("--systems", default="ours,old,fau,djoser", help="comma-separated systems (default all: ours,old,fau,djoser)")
    parser.add_argument("--server", default="granian", choices=["granian", "gunicorn"], help="our WSGI server (default granian)")
    parser.add_argument("--workers", type=int, default=1, help="our processes (default 1, as the others)")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"our threads per process (default {THREADS})")
    parser.add_argument("--servers", action="store_true", help="also compare WSGI servers with 1 and 2 processes")
    parser.add_argument("--db-port", type=int, default=0, help="SecantusDB's port (default: a free one)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.md")
    args = parser.parse_args()
    tool("wrk")
    rows = [r for r in args.only.split(",") if r]
    systems = [s for s in args.systems.split(",") if s]
    if set(rows) - set(ROWS):
        sys.exit(f"unknown rows: {', '.join(sorted(set(rows) - set(ROWS)))}")
    if set(systems) - set(SYSTEM_NAMES) or "ours" not in systems:
        sys.exit("--systems: ours and any of old, fau, djoser")
    if not 1 <= args.duration <= 120 or not 1 <= args.reps <= 20 or not 1 <= args.users <= 1000:
        sys.exit("--duration is 1-120 s, --reps 1-20, --users 1-1000")
    db_port = args.db_port or free_port()

    results = args.out.parent
    data = results / "data"
    data.mkdir(parents=True, exist_ok=True)
    tag = time.strftime("%H%M%S")
    meta = {"machine": machine(), "args": args, "command": shlex.join(["python", "bench/run.py", *sys.argv[1:]]), "commands": {}, "peer_versions": {}}
    d = args.duration
    processes: list[Process] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    for sig in previous:
        signal.signal(sig, interrupted)
    storage = tempfile.mkdtemp(prefix="bench-secantus-")
    try:
        if {"fau", "djoser"} & set(systems):
            bin_dir = peers_venv()
            for name in ("fastapi-users", "beanie", "djoser"):
                meta["peer_versions"][name] = subprocess.run(
                    [str(bin_dir / "python"), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
                    capture_output=True, text=True, check=False,
                ).stdout.strip()
        db = Process(
            "SecantusDB", [tool("secantusd-py"), "--host", HOST, "--port", str(db_port), "--storage-path", storage],
            dict(os.environ), results / "secantus.log", db_port, ready_path=None,
        )
        processes.append(db.start())
        meta["secantus"] = subprocess.run(
            [sys.executable, "-c", "import importlib.metadata as m; print(m.version('SecantusDB'))"], capture_output=True, text=True, check=False
        ).stdout.strip()
        uri = f"mongodb://{HOST}:{db_port}"
        log(f"SecantusDB on {uri} (folder {storage})")
        # Every system writes without retryable writes, as the service writes to its embedded
        # SecantusDB server (config/mongo.py EMBEDDED_ONLY_OPTIONS): with them, that server's cost per
        # write grows with the writes of the last 30 minutes (bench/retryable_writes.py).
        options = "?retryWrites=false"

        env = ours_env(f"{uri}/bench_ours{options}")
        meta["hasher"] = hasher_check(env)
        log(f"hasher: {meta['hasher']}")
        started: dict[str, Process] = {}
        ports = {system: free_port() for system in systems}
        for system in systems:
            port = ports[system]
            if system == "ours":
                p = Process("ours", server_command(args.server, port, args.workers, threads=args.threads), env, results / "ours.log", port)
            elif system == "old":
                p = Process("old", old_command(port), old_env(f"{uri}/bench_old{options}"), results / "old.log", port)
            elif system == "fau":
                p = Process("fau", fau_command(port), {**os.environ, "MONGODB_URI": f"{uri}/bench_fau{options}"}, results / "fau.log", port)
            else:
                sqlite_env = djoser_env(str(Path(storage) / "djoser.sqlite3"))
                djoser_migrate(sqlite_env)
                p = Process("djoser", djoser_command(port), sqlite_env, results / "djoser.log", port)
            meta["commands"][system] = p.command
            log(f"starting {system}: {shlex.join(p.command)}")
            processes.append(p.start())
            started[system] = p

        # Two sets of users: the reads use the first set's tokens, the login rows log the second set
        # in. A user logged in ~50 times in a run would reach SESSIONS_MAX_PER_USER, whose oldest
        # sessions then end (as designed): the readers' tokens must not be among them.
        log(f"seeding 2 x {args.users} users into each (readers, and users who log in), through its own API")
        users: dict[str, list[dict]] = {}
        login_users: dict[str, list[dict]] = {}
        for system, p in started.items():
            if system in ("ours", "old"):
                users[system] = seed(Client(p.port), f"seed{tag}", args.users, tokens=system == "ours")
                login_users[system] = seed(Client(p.port), f"login{tag}", args.users, tokens=False, details=False)
            else:
                users[system] = seed_peer(Client(p.port), system, f"seed{tag}", args.users)
                login_users[system] = seed_peer(Client(p.port), system, f"login{tag}", args.users)
        files = {system: write_rows(data / f"{system}_users.txt", [[u["id"], *([u["token"]] if u["token"] else [])] for u in us]) for system, us in users.items()}
        logins = {system: write_rows(data / f"{system}_logins.txt", [[u.get("login", u["email"]), PASSWORD] for u in us]) for system, us in login_users.items()}

        def one_row(row: str, system: str) -> dict:
            # All idle: nothing queued from the previous row, no database work left over
            # from seeding or from the other system's row.
            waited = sum(p.settle() for p in started.values()) + db.settle()
            if waited > 5:
                log(f"waited {waited:.0f} s for the servers and the database to go idle")
            p = started[system]
            port = p.port
            login_path, login_form = ENDPOINTS[system]["login"]
            login_cmd = wrk_command("login.lua", 8, d, port, logins[system], login_path, login_form)
            cpu_before = group_cpu_seconds(p.proc.pid), group_cpu_seconds(db.proc.pid)
            if row == "join":
                result = wrk(wrk_command("join.lua", 8, d, port, files[system]), d)
            elif row == "me":
                result = wrk(wrk_command("get.lua", 8, d, port, ENDPOINTS[system]["me"], files[system]), d)
            elif row == "login":
                result = wrk(login_cmd, d)
            elif row == "register":
                path, fields = ENDPOINTS[system]["register"]
                result = wrk(wrk_command("register.lua", 8, d, port, f"{system}{tag}r{time.monotonic_ns() % 10**9}", PASSWORD, path, fields), d)
            else:
                result, busy = wrk_during_logins(
                    wrk_command("join.lua", 1, d, port, files[system]), wrk_command("login.lua", 8, d + 3, port, logins[system], login_path, login_form), d
                )
                result["logins_rps"] = busy["rps"]
            # When wrk stops, each of its 8 connections has one request in flight, which the server
            # still serves: let them finish, and count them (they matter for slow rows: logins).
            p.settle()
            db.settle()
            cpu_after = group_cpu_seconds(p.proc.pid), group_cpu_seconds(db.proc.pid)
            served = result["requests"] + 8
            result["cpu_service_us"] = (cpu_after[0] - cpu_before[0]) * 1e6 / served
            result["cpu_db_us"] = (cpu_after[1] - cpu_before[1]) * 1e6 / served if system != "djoser" else float("nan")
            if row == "busy":  # a mix of reads and logins: CPU per request means little
                result["cpu_service_us"] = result["cpu_db_us"] = float("nan")
            log(
                f"{row:<8} {system:<6}: {rps(result['rps'])} req/s, p50 {ms(result['p50_us'])}, p99 {ms(result['p99_us'])}, "
                f"CPU/request {cpu_text(result['cpu_service_us'])} + {cpu_text(result['cpu_db_us'])} ms, errors {result['errors']}"
            )
            return result

        for system, p in started.items():  # warm-up: code loaded, connections open
            if system in ("ours", "old"):
                wrk(wrk_command("join.lua", 8, 2, p.port, files[system]), 2)
            else:
                wrk(wrk_command("get.lua", 8, 2, p.port, ENDPOINTS[system]["me"], files[system]), 2)
        runs: dict[str, list[dict]] = {row: [] for row in rows}
        for rep in range(args.reps):
            log(f"repetition {rep + 1}/{args.reps}")
            for row in rows:
                present = [s for s in ROWS[row][1] if s in started]
                if len(present) < 2:
                    continue
                shift = rep % len(present)
                order = present[shift:] + present[:shift]  # a different system goes first each repetition
                measured = {system: one_row(row, system) for system in order}
                runs[row].append({system: measured[system] for system in present})

        servers = []
        if args.servers:
            servers = compare_servers(args, free_port(), f"{uri}/bench_ours{options}", files["ours"], processes)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        for p in reversed(processes):
            p.stop()
        shutil.rmtree(storage, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    summary = summarize(runs)
    text = report(meta, summary, servers)
    args.out.write_text(text)
    meta["args"] = vars(args) | {"out": str(args.out)}
    args.out.with_suffix(".json").write_text(json.dumps({**meta, "summary": summary, "runs": runs, "servers": servers}, indent=1, default=str))
    print(text)
    log(f"written to {args.out} (and {args.out.with_suffix('.json').name})")


def compare_servers(args, port: int, mongodb_uri: str, users: Path, processes: list) -> list[dict]:
    """Each candidate server with 1 and 2 processes, alternating: our join on the wire (the data
    seeded above; every process reads the same users and tokens), and GET /health on the
    in-memory store (the service's own CPU path with no database server taking a core, which is
    what shows whether a second process uses the second core)."""
    candidates = [(server, workers, load) for server in ("gunicorn", "granian") for workers in (1, 2) for load in ("join", "health")]
    measured: dict[tuple, list[dict]] = {c: [] for c in candidates}
    for rep in range(args.reps):
        for server, workers, load in candidates if rep % 2 == 0 else list(reversed(candidates)):
            env = ours_env(mongodb_uri if load == "join" else "")
            p = Process(f"{server} x{workers}", server_command(server, port, workers), env, BENCH / "results" / "servers.log", port)
            processes.append(p.start())
            try:
                command = wrk_command("join.lua", 8, args.duration, port, users) if load == "join" else wrk_command("get.lua", 16, args.duration, port, "/health")
                wrk(command[:3] + ["-d2s"] + command[4:], 2)  # warm-up: every process has loaded its code
                result = wrk(command, args.duration)
            finally:
                p.stop()
                processes.remove(p)
            log(f"server {server} x{workers} {load}: {rps(result['rps'])} req/s, p99 {ms(result['p99_us'])}")
            measured[(server, workers, load)].append(result)
    return [
        {
            "server": server,
            "workers": workers,
            "load": load,
            "rps": median([r["rps"] for r in rs]),
            "p50_us": median([r["p50_us"] for r in rs]),
            "p99_us": median([r["p99_us"] for r in rs]),
        }
        for (server, workers, load), rs in measured.items()
    ]


if __name__ == "__main__":
    main()
