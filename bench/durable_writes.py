"""What durable writes cost: register and the details write, before and after issue 20, in one run.

    python bench/durable_writes.py [--reps 5] [-n 40]

Two SecantusDB servers on free loopback ports and temporary folders: `before` started without
`--sync-on-commit` and written with the driver's default write concern (w=1, no journal);
`now` started as config/embedded_mongodb.py starts it (`--sync-on-commit`) and written with the
service's own options (config/mongo.py: j:true). The service runs in this process (Django's
test client through the whole stack: middleware, DRF, MongoEngine, pymongo over TCP), switched
from one server to the other between rows; each repetition runs both modes, in an order that
flips every repetition. Rows:
- `register`: `POST /users/register` with the production hasher (Argon2, Django's defaults), as
  a person signs up;
- `register (MD5 hasher)`: the same with the tests' fast hasher, so that the database's share
  shows;
- `add_details`: `POST /users/add_details` (an upsert plus the owner check), the details write.
Prints the median milliseconds per request of each mode and the median of the per-repetition
ratios now/before.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("THROTTLE_REGISTER", "1000000/s")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMAIL_URL", "dummymail://")  # the verification mails are not what is measured

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from config import mongo  # noqa: E402
import secantus_server  # noqa: E402 - bench/, beside this script

MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def use(port: int, durable: bool) -> None:
    settings.MONGODB_URI = f"mongodb://127.0.0.1:{port}/bench_durable"
    settings.MONGODB_DURABLE_WRITES = durable
    mongo.connect()


counter = iter(range(10**9))


def register(client: Client, n: int, hashers: list[str] | None) -> tuple[float, list[tuple[str, str]]]:
    made = []
    with override_settings(PASSWORD_HASHERS=hashers or settings.PASSWORD_HASHERS):
        start = time.perf_counter()
        for _ in range(n):
            i = next(counter)
            r = client.post("/users/register", {"username": f"bench{i}", "email": f"bench{i}@example.com", "password": "a long river stone"}, content_type="application/json")
            assert r.status_code == 201, r.content
            made.append((r.json()["user_id"], f"bench{i}@example.com"))
        return (time.perf_counter() - start) / n * 1000, made


def add_details(client: Client, n: int, user_id: str, access: str) -> float:
    start = time.perf_counter()
    for i in range(n):
        r = client.post(
            "/users/add_details", {"user_id": user_id, "phone": f"+1555{i:07d}"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {access}"
        )
        assert r.status_code == 200, r.content
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("-n", type=int, default=40, help="requests per row and repetition (register with Argon2: n/4)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-durable-writes-"))
    servers = {}
    try:
        for mode, durable in (("before", False), ("now", True)):
            (root / mode).mkdir()
            servers[mode] = (*secantus_server.start(root / mode, durable), durable)
        client = Client()
        tokens = {}
        for mode, (_, port, durable) in servers.items():
            use(port, durable)
            (user_id, email), = register(client, 1, MD5)[1]
            with override_settings(PASSWORD_HASHERS=MD5):
                r = client.post("/login", {"email": email, "password": "a long river stone"}, content_type="application/json")
            tokens[mode] = (user_id, r.json()["access"])
            add_details(client, 3, *tokens[mode])  # warm: indexes, connections
        rows = {"register": {}, "register (MD5 hasher)": {}, "add_details": {}}
        for rep in range(args.reps):
            order = ["before", "now"] if rep % 2 == 0 else ["now", "before"]
            for mode in order:
                _, port, durable = servers[mode]
                use(port, durable)
                rows["register"].setdefault(mode, []).append(register(client, max(2, args.n // 4), None)[0])
                rows["register (MD5 hasher)"].setdefault(mode, []).append(register(client, args.n, MD5)[0])
                rows["add_details"].setdefault(mode, []).append(add_details(client, args.n, *tokens[mode]))
        print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; {args.reps} repetitions, n={args.n}")
        print("| row | before: ms/request | now: ms/request | now/before: median (each repetition) |")
        print("|---|---:|---:|---|")
        for name, modes in rows.items():
            ratios = [now / before for now, before in zip(modes["now"], modes["before"])]
            print(
                f"| {name} | {statistics.median(modes['before']):.2f} | {statistics.median(modes['now']):.2f} | "
                f"**{statistics.median(ratios):.2f}x** ({', '.join(f'{r:.2f}' for r in ratios)}) |"
            )
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        for process, _, _ in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
