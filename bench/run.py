#!/usr/bin/env python3
"""Our service against the old FastAPI path, on one SecantusDB server, with wrk, side by side.

    pip install -r requirements.txt -r bench/requirements.txt   # once; wrk from apt
    python bench/run.py                 # about 6 minutes; prints the table, writes bench/results/

In order (see bench/README.md):
1. starts a SecantusDB server (its own temporary folder) on loopback;
2. starts our service (`config.wsgi` under the production server, one process, DEBUG off, the
   production hasher, the request log on, throttles raised out of the way) on database
   `bench_ours`, and the old path (`bench/old_app.py`: FastAPI, synchronous pymongo, no auth,
   under uvicorn, one process) on database `bench_old`;
3. seeds the same users into each through its own HTTP API (register, login, link_id, add_details);
4. for each repetition, runs every row against one system and then the other (the order flips
   each repetition): the join (-c8), logins (-c8), a read (the join, -c1) while wrk keeps
   8 logins in flight, and register (-c8);
5. prints req/s, p50 and p99 of each system (medians of the repetitions) and the median of the
   per-repetition ratios ours/old, and writes them to bench/results/latest.md and .json;
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
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # loopback only, always
PASSWORD = "Bench-passphrase-42"  # passes Django's validators; never similar to the names below
ADMIN = {"username": "benchadmin", "email": "benchadmin@example.com", "password": "bench-admin-passphrase-9"}
HTTP_TIMEOUT = 60
THREADS = 16  # per process: 8 logins in flight leave threads free for reads

# The targets of issue 16.
TARGET_JOIN_RATIO = 1.0
TARGET_LOGIN_RATIO = 1.8
TARGET_BUSY_P99_MS = 50


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


def group_cpu_seconds(pgid: int) -> float:
    """CPU time used so far by the processes of one process group (all their threads)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLOCK_TICKS


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


def server_command(server: str, port: int, workers: int, app: str = "config.wsgi:application") -> list[str]:
    """Our WSGI application under a candidate production server."""
    if server == "granian":
        return [
            tool("granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port), "--workers", str(workers),
            "--blocking-threads", str(THREADS), "--no-ws", "--log-level", "warning", app,
        ]
    if server == "gunicorn":
        module, _, name = app.partition(":")
        return [
            tool("gunicorn"), f"{module}:{name}", "-w", str(workers), "-k", "gthread", "--threads", str(THREADS),
            "-b", f"{HOST}:{port}", "--timeout", "120", "--no-control-socket",
        ]
    raise ValueError(server)


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


# --- a small HTTP client for seeding (one keep-alive connection per thread) ------------------
class Client:
    _local = threading.local()

    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, body=None, token: str | None = None, timeout: float = HTTP_TIMEOUT):
        conn = getattr(self._local, "conn", None)
        # Servers close idle keep-alive connections after a few seconds: never reuse one idle for 1 s.
        if conn is None or getattr(self._local, "port", None) != self.port or time.monotonic() - self._local.used > 1:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
            self._local.conn, self._local.port = conn, self.port
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
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

    def expect(self, statuses: tuple[int, ...], method: str, path: str, body=None, token=None):
        got, data = self.call(method, path, body, token)
        if got not in statuses:
            raise RuntimeError(f"{method} {path}: expected {statuses}, got {got}: {data}")
        return data


def seed(client: Client, prefix: str, count: int, *, tokens: bool) -> list[dict]:
    """Register `count` users through a system's own API, link an id and add details to each.
    Ours needs a token for link_id and add_details (logged in first); the old path takes none."""

    def one(n: int) -> dict:
        email = f"{prefix}-{n}@example.com"
        body = {"username": f"{prefix} {n}", "email": email, "password": PASSWORD}
        user = {"email": email, "id": client.expect((200, 201), "POST", "/users/register", body)["user_id"], "token": None}
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


ROWS = {
    "join": "the join `GET /users/user_with_details/{id}`, -c8",
    "login": "logins `POST /login`, -c8",
    "busy": "a read (the join, -c1) while 8 logins are in flight",
    "register": "register `POST /users/register`, -c8",
}


def summarize(runs: dict) -> dict:
    """Per row and system: medians of req/s, p50, p99 over the repetitions, and the median of the
    per-repetition ratios ours/old (req/s; for the read during logins, also p99 old/ours)."""
    summary = {}
    for row, reps in runs.items():
        entry = {}
        for system in ("ours", "old"):
            results = [rep[system] for rep in reps]
            entry[system] = {
                "rps": median([r["rps"] for r in results]),
                "p50_us": median([r["p50_us"] for r in results]),
                "p99_us": median([r["p99_us"] for r in results]),
                "errors": sum(r["errors"] for r in results),
                "lower_bound": any(r.get("lower_bound") for r in results),
            }
        entry["ratio"] = median([rep["ours"]["rps"] / rep["old"]["rps"] for rep in reps if rep["old"]["rps"]])
        entry["ratio_p99"] = median([rep["old"]["p99_us"] / rep["ours"]["p99_us"] for rep in reps if rep["ours"]["p99_us"]])
        entry["ratios"] = [round(rep["ours"]["rps"] / rep["old"]["rps"], 2) for rep in reps if rep["old"]["rps"]]
        summary[row] = entry
    return summary


def report(meta: dict, summary: dict, servers: list[dict]) -> str:
    m, args = meta["machine"], meta["args"]
    out = [
        "# Benchmark: our service against the old FastAPI path, one SecantusDB server",
        "",
        f"- date: {m['date']}; commit {m['commit']}",
        f"- machine: {m['nproc']} cores ({m['cpu']}), {m['os']}, Python {m['python']}, {m['wrk']}; "
        f"load average at the start: {m['loadavg']}, at the end: {Path('/proc/loadavg').read_text().split()[0]}",
        f"- command: `{meta['command']}`",
        f"- ours: `{shlex.join(Path(c).name if i == 0 else c for i, c in enumerate(meta['ours']))}`, DEBUG off, "
        "authenticated (JWT, owner-or-admin), request log on (to a file), Argon2",
        f"- old: `{shlex.join(Path(c).name if i == 0 else c for i, c in enumerate(meta['old']))}` (bench/old_app.py: "
        "FastAPI, synchronous pymongo, no auth, two `find_one`, bcrypt cost 12)",
        f"- database: SecantusDB {meta['secantus']} on loopback, one server for both (databases bench_ours, bench_old)",
        f"- data: {args.users} users seeded into each through its own API (register, login, link_id, add_details); "
        f"wrk -t1, {args.duration} s a row, {args.reps} repetitions, alternating which system goes first",
        "",
        "| row | ours req/s | ours p50 | ours p99 | old req/s | old p50 | old p99 | ours/old req/s: median (each repetition) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row, entry in summary.items():
        o, b = entry["ours"], entry["old"]
        errors = f" ({o['errors']} / {b['errors']} errors)" if o["errors"] or b["errors"] else ""
        at_least = {id(x): "≥ " if x["lower_bound"] else "" for x in (o, b)}
        if row == "busy":  # the read's latency is what counts: old p99 / ours p99
            ratio = f"p99 old/ours **{at_least[id(b)]}{entry['ratio_p99']:.0f}x**"
        else:
            ratio = f"**{entry['ratio']:.2f}x** ({', '.join(f'{r:.2f}' for r in entry['ratios'])})"
        out.append(
            f"| {ROWS[row]} | {rps(o['rps'])} | {at_least[id(o)]}{ms(o['p50_us'])} | {at_least[id(o)]}{ms(o['p99_us'])} "
            f"| {rps(b['rps'])} | {at_least[id(b)]}{ms(b['p50_us'])} | {at_least[id(b)]}{ms(b['p99_us'])} | {ratio}{errors} |"
        )

    def status(ok: bool) -> str:
        return "met" if ok else "**not met**"

    out += ["", "| target (issue 16) | measured | |", "|---|---|---|"]
    if "join" in summary:
        ratio = summary["join"]["ratio"]
        out.append(f"| the join ours/old ≥ {TARGET_JOIN_RATIO:.1f} | {ratio:.2f}x | {status(ratio >= TARGET_JOIN_RATIO)} |")
    if "login" in summary:
        ratio = summary["login"]["ratio"]
        out.append(f"| logins ours/old ≥ {TARGET_LOGIN_RATIO} | {ratio:.2f}x | {status(ratio >= TARGET_LOGIN_RATIO)} |")
    if "busy" in summary:
        p99 = summary["busy"]["ours"]["p99_us"]
        out.append(
            f"| a read's p99 during 8 logins < {TARGET_BUSY_P99_MS} ms | {ms(p99)} (old: {ms(summary['busy']['old']['p99_us'])}) "
            f"| {status(p99 < TARGET_BUSY_P99_MS * 1000)} |"
        )
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


# --- the run ------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk per row (default 8)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions, alternating the order (default 3)")
    parser.add_argument("--users", type=int, default=32, help="users seeded into each system (default 32)")
    parser.add_argument("--only", default=",".join(ROWS), help=f"comma-separated rows (default all: {','.join(ROWS)})")
    parser.add_argument("--server", default="granian", choices=["granian", "gunicorn"], help="our WSGI server (default granian)")
    parser.add_argument("--workers", type=int, default=1, help="our processes (default 1, as the old path)")
    parser.add_argument("--servers", action="store_true", help="also compare WSGI servers with 1 and 2 processes")
    parser.add_argument("--db-port", type=int, default=0, help="SecantusDB's port (default: a free one)")
    parser.add_argument("--ports", default="", help="three ports for ours, the old path and the server comparison (default: free ones)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.md")
    args = parser.parse_args()
    tool("wrk")
    rows = [r for r in args.only.split(",") if r]
    if set(rows) - set(ROWS):
        sys.exit(f"unknown rows: {', '.join(sorted(set(rows) - set(ROWS)))}")
    if not 1 <= args.duration <= 120 or not 1 <= args.reps <= 20 or not 1 <= args.users <= 1000:
        sys.exit("--duration is 1-120 s, --reps 1-20, --users 1-1000")
    ports = [int(p) for p in args.ports.split(",")] if args.ports else [free_port(), free_port(), free_port()]
    db_port = args.db_port or free_port()

    results = args.out.parent
    data = results / "data"
    data.mkdir(parents=True, exist_ok=True)
    tag = time.strftime("%H%M%S")
    meta = {"machine": machine(), "args": args, "command": shlex.join(["python", "bench/run.py", *sys.argv[1:]])}
    d = args.duration
    processes: list[Process] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    for sig in previous:
        signal.signal(sig, interrupted)
    storage = tempfile.mkdtemp(prefix="bench-secantus-")
    try:
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

        ours_cmd = server_command(args.server, ports[0], args.workers)
        ours = Process("ours", ours_cmd, ours_env(f"{uri}/bench_ours"), results / "ours.log", ports[0])
        old = Process("old", old_command(ports[1]), old_env(f"{uri}/bench_old"), results / "old.log", ports[1])
        meta["ours"], meta["old"] = ours.command, old.command
        for p in (ours, old):
            log(f"starting {p.name}: {shlex.join(p.command)}")
            processes.append(p.start())

        log(f"seeding {args.users} users into each, through its own API")
        ours_users = seed(Client(ours.port), f"seed{tag}", args.users, tokens=True)
        old_users = seed(Client(old.port), f"seed{tag}", args.users, tokens=False)
        files = {
            "ours": (write_rows(data / "ours_users.txt", [[u["id"], u["token"]] for u in ours_users]), ours.port),
            "old": (write_rows(data / "old_users.txt", [[u["id"]] for u in old_users]), old.port),
        }
        logins = write_rows(data / "logins.txt", [[u["email"], PASSWORD] for u in ours_users])

        def one_row(row: str, system: str) -> dict:
            # All three idle: nothing queued from the previous row, no database work left over
            # from seeding or from the other system's row.
            waited = ours.settle() + old.settle() + db.settle()
            if waited > 5:
                log(f"waited {waited:.0f} s for the servers and the database to go idle")
            users, port = files[system]
            if row == "join":
                result = wrk(wrk_command("join.lua", 8, d, port, users), d)
            elif row == "login":
                result = wrk(wrk_command("login.lua", 8, d, port, logins), d)
            elif row == "register":
                result = wrk(wrk_command("register.lua", 8, d, port, f"{system}{tag}r{time.monotonic_ns() % 10**9}", PASSWORD), d)
            else:
                result, busy = wrk_during_logins(
                    wrk_command("join.lua", 1, d, port, users), wrk_command("login.lua", 8, d + 3, port, logins), d
                )
                result["logins_rps"] = busy["rps"]
            log(f"{row:<8} {system:<4}: {rps(result['rps'])} req/s, p50 {ms(result['p50_us'])}, p99 {ms(result['p99_us'])}, errors {result['errors']}")
            return result

        for system, (users, port) in files.items():  # warm-up: code loaded, connections open
            wrk(wrk_command("join.lua", 8, 2, port, users), 2)
        runs: dict[str, list[dict]] = {row: [] for row in rows}
        for rep in range(args.reps):
            order = ("ours", "old") if rep % 2 == 0 else ("old", "ours")
            log(f"repetition {rep + 1}/{args.reps}: {order[0]} first")
            for row in rows:
                runs[row].append({system: one_row(row, system) for system in order})

        servers = []
        if args.servers:
            servers = compare_servers(args, ports[2], f"{uri}/bench_ours", files["ours"][0], processes)
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
