#!/usr/bin/env python3
"""Where the time goes on the hot paths: pyinstrument over N in-process requests through the
WSGI application (the same `config.wsgi.application` the server runs), with the production
settings and hashers, on a SecantusDB server of its own (started here on a free loopback port,
in memory, stopped at the end), or on the server BENCH_MONGODB_URI names.

    python bench/profile_join.py                       # join, /users/me and login
    python bench/profile_join.py --op join -n 2000 --html bench/results/join.html
    BENCH_MONGODB_URI=mongodb://127.0.0.1:27017/bench_profile python bench/profile_join.py --op join

On its own server it also reads that server's CPU time from /proc around the unprofiled pass, so
each operation prints the database's CPU per request next to the service's.

For each operation it prints the share of time per layer (our code, Django, DRF, MongoEngine,
mongomock, JWT, ...) and the functions with the most time of their own, then pyinstrument's
call tree. No server, no network: requests are WSGI calls in this process.
"""
import argparse
import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
os.environ["DEBUG"] = "true"
# A SecantusDB server of its own (never the developer's embedded database), or the server
# BENCH_MONGODB_URI names (SecantusDB or MongoDB).
os.environ.pop("MONGODB_URI", None)
DB_SERVER = None
if os.environ.get("BENCH_MONGODB_URI"):
    os.environ["MONGODB_URI"] = os.environ["BENCH_MONGODB_URI"]
else:
    import atexit
    import signal
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secantusd = Path(sys.executable).parent / "secantusd-py"
    DB_SERVER = subprocess.Popen(
        [str(secantusd), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    atexit.register(lambda: DB_SERVER.poll() is None and os.killpg(DB_SERVER.pid, signal.SIGTERM))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    os.environ["MONGODB_URI"] = f"mongodb://127.0.0.1:{port}/bench_profile"
os.environ.setdefault("THROTTLE_LOGIN", "1000000/s")
os.environ.setdefault("THROTTLE_REGISTER", "1000000/s")
os.environ.setdefault("EMAIL_URL", "dummymail://")  # the sign-ups' verification mail goes nowhere

try:
    from pyinstrument import Profiler
except ImportError:
    sys.exit("pyinstrument is needed: pip install pyinstrument")

PASSWORD = "Bench-passphrase-42"
RUN = time.strftime("%H%M%S")  # fresh names each run, on a database that outlives it

# The layer a frame belongs to, by the first matching piece of its file path.
LAYERS = [
    ("mongomock", "/mongomock/"),
    ("mongoengine", "/mongoengine/"),
    ("pymongo/bson", "/pymongo/"),
    ("pymongo/bson", "/bson/"),
    ("argon2 (hashing)", "/argon2/"),
    ("argon2 (hashing)", "/_argon2_cffi_bindings/"),
    ("simplejwt", "/rest_framework_simplejwt/"),
    ("PyJWT", "/jwt/"),
    ("drf-spectacular", "/drf_spectacular/"),
    ("DRF", "/rest_framework/"),
    ("Django", "/django/"),
    ("our code: accounts", "/accounts/"),
    ("our code: profiles", "/profiles/"),
    ("our code: config", "/config/"),
    ("our code: bench", "/bench/"),
    ("logging (the request log)", "/logging/"),
    ("json (rendering, parsing)", "/json/"),
]


def db_cpu_seconds() -> float:
    """CPU time (user + system) used so far by the database server this script started; 0 otherwise."""
    if DB_SERVER is None:
        return 0.0
    fields = Path(f"/proc/{DB_SERVER.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def layer(path: str, caller: str) -> str:
    """The layer of a frame; the standard library's other frames and builtins (copy, isinstance,
    datetime...) count for the layer that called them."""
    for name, piece in LAYERS:
        if piece in (path or ""):
            return name
    if "site-packages" in (path or ""):
        return "other libraries"
    return caller


class WSGI:
    """Calls the WSGI application as a server would, one request at a time."""

    def __init__(self, application):
        self.app = application

    def __call__(self, method: str, path: str, body=None, token: str | None = None) -> tuple[int, bytes]:
        raw = b"" if body is None else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path.split("?")[0],
            "QUERY_STRING": path.split("?")[1] if "?" in path else "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(raw)),
        }
        if body is not None:
            environ["CONTENT_TYPE"] = "application/json"
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        status = []
        chunks = self.app(environ, lambda s, h, exc_info=None: status.append(int(s.split()[0])))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return status[0], content

    def expect(self, status: int, method: str, path: str, body=None, token=None) -> dict:
        got, content = self(method, path, body, token)
        if got != status:
            raise RuntimeError(f"{method} {path}: expected {status}, got {got}: {content[:300]!r}")
        return json.loads(content) if content else {}


def seed(call: WSGI, count: int) -> list[dict]:
    """Users as bench/run.py seeds them, through the API: register, login, link_id, add_details."""
    users = []
    for n in range(count):
        email = f"prof-{RUN}-{n}@example.com"
        uid = call.expect(201, "POST", "/users/register", {"username": f"prof {RUN} {n}", "email": email, "password": PASSWORD})["user_id"]
        token = call.expect(200, "POST", "/login", {"email": email, "password": PASSWORD})["access"]
        call.expect(200, "POST", "/users/link_id", {"user_id": uid, "linked_id": f"prof-ext-{RUN}-{n}"}, token)
        call.expect(200, "POST", "/users/add_details", {"user_id": uid, "address": f"{n} Seed Road", "phone": "+15550000000"}, token)
        users.append({"id": uid, "email": email, "token": token})
    return users


def summarize(profiler: Profiler, top: int) -> str:
    session = profiler.last_session
    root = session.root_frame()
    by_layer: Counter = Counter()
    by_function: Counter = Counter()

    def walk(frame, caller: str):
        if frame.is_synthetic:
            return  # pyinstrument's "[self]" leaves: counted in their parent's total_self_time
        here = layer(frame.file_path or "", caller)
        own = frame.total_self_time  # time in the frame itself, not in the frames it called
        if own > 0:
            by_layer[here] += own
            name = f"{frame.function} ({Path(frame.file_path or '?').name}:{frame.line_no})"
            by_function[(here, name)] += own
        for child in frame.children:
            walk(child, here)

    if root is not None:
        walk(root, "the profiling script and gunicorn's stand-in")
    total = sum(by_layer.values()) or 1
    lines = ["time of its own, by layer:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in by_layer.most_common()]
    lines.append(f"top {top} functions by time of their own:")
    lines += [f"  {t / total:6.1%}  [{lay}] {fn}" for (lay, fn), t in by_function.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="pyinstrument over the hot paths")
    parser.add_argument("--op", choices=["join", "me", "login", "add_details", "delete", "all"], default="all")
    parser.add_argument("-n", type=int, default=0, help="requests per operation (default: 3000 reads, 40 logins, 1000 writes, 150 deletes)")
    parser.add_argument("--users", type=int, default=32, help="seeded users (default 32, as bench/run.py)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML (one file per operation: NAME-op.html)")
    parser.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree")
    parser.add_argument("--cpu", action="store_true", help="also cProfile on the thread's CPU clock (waits on the database excluded): the top functions by cumulative CPU")
    args = parser.parse_args()

    import logging

    from django.conf import settings

    from config.wsgi import application  # sets Django up, as gunicorn does

    # The request log stays on (as in the server) but is written nowhere.
    devnull = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                handler.setStream(devnull)

    call = WSGI(application)
    from config import mongo

    print(f"hasher: {settings.PASSWORD_HASHERS[0]}; database: {mongo.describe()}")
    started = time.perf_counter()
    users = seed(call, args.users)
    print(f"seeded {len(users)} users through the API in {time.perf_counter() - started:.1f} s")

    def join(i):
        u = users[i % len(users)]
        return call("GET", f"/users/user_with_details/{u['id']}", token=u["token"])

    def me(i):
        return call("GET", "/users/me", token=users[i % len(users)]["token"])

    def login(i):
        u = users[i % len(users)]
        return call("POST", "/login", {"email": u["email"], "password": PASSWORD})

    def add_details(i):
        u = users[i % len(users)]
        body = {"user_id": u["id"], "address": f"{i} Bench Street", "phone": "+15550000001", "preferences": {"theme": "dark", "n": i}}
        return call("POST", "/users/add_details", body, u["token"])

    victims: list[dict] = []

    def delete(i):
        v = victims[i]
        return call("DELETE", f"/users/delete_user/{v['id']}", token=v["token"])

    ops = {"join": (join, 3000, 200), "me": (me, 3000, 200), "login": (login, 40, 200), "add_details": (add_details, 1000, 200), "delete": (delete, 150, 200)}
    wanted = ["join", "me", "login"] if args.op == "all" else [args.op]
    for name in wanted:
        fn, default_n, ok = ops[name]
        n = args.n or default_n
        if name == "delete":
            # Victims with a linked id and details, written directly (their registration's hash
            # is not what is measured here), each deleted with its own token.
            from accounts.users.documents import LinkedId, User, casefold_key
            from accounts.sessions.tokens import token_pair_for
            from profiles.documents import Details

            stored_hash = User.objects.get(id=users[0]["id"]).password
            victims.clear()
            for k in range(2 * n):
                name_k = f"victim {k}"
                user = User(username=name_k, username_key=casefold_key(name_k), email=f"victim-{k}@example.com",
                            email_key=f"victim-{k}@example.com", password=stored_hash).save(force_insert=True)
                LinkedId(linked_id=f"victim-ext-{k}", user=user.id).save(force_insert=True)
                Details(user=user.id, address="1 Victim Road").save(force_insert=True)
                victims.append({"id": str(user.id), "token": str(token_pair_for(user).access_token)})
        for i in range(min(20, n) if name not in ("login", "delete") else 0):
            fn(i)  # warm-up
        t, cpu, db = time.perf_counter(), time.process_time(), db_cpu_seconds()
        for i in range(n):
            fn(i + n)
        plain = time.perf_counter() - t
        cpu, db = time.process_time() - cpu, db_cpu_seconds() - db
        profiler = Profiler(interval=0.0002)
        t = time.perf_counter()
        profiler.start()
        for i in range(n):
            status, body = fn(i)
            if status != ok:
                profiler.stop()
                raise RuntimeError(f"{name}: {status} {body[:300]!r}")
        profiler.stop()
        elapsed = time.perf_counter() - t
        db_text = f", database {db / n * 1e6:,.0f} µs" if DB_SERVER is not None else ""
        print(f"\n=== {name}: {plain / n * 1e6:,.0f} µs per request without the profiler ({n / plain:,.0f} req/s in one thread); "
              f"CPU per request: service {cpu / n * 1e6:,.0f} µs{db_text}; {elapsed / n * 1e6:,.0f} µs under the profiler")
        print(summarize(profiler, args.top))
        if args.cpu:
            import cProfile
            import pstats

            cpu_profile = cProfile.Profile(time.thread_time)
            cpu_profile.enable()
            for i in range(n):
                fn(i)
            cpu_profile.disable()
            print(f"--- cProfile, CPU time of the thread, {n} requests: cumulative")
            pstats.Stats(cpu_profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top * 3)
        if args.tree:
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            out = args.html.with_name(f"{args.html.stem}-{name}{args.html.suffix or '.html'}")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(profiler.output_html())
            print(f"HTML: {out}")


if __name__ == "__main__":
    main()
