#!/usr/bin/env python3
"""The admin listing at 5k, 10k and 50k users, on the embedded database's server (SecantusDB).

    python bench/admin_listing.py                    # about 10 minutes on 2 cores
    python bench/admin_listing.py --sizes 5000,50000 --repeat 9

Starts a SecantusDB server (a temporary folder), inserts users in bulk (insert_many, one sign-up a
minute up to a minute ago, one in 50 trashed), serves the service with `python -m config.serve` (one process, DEBUG
off) on it, and times, through HTTP as an admin, the median of `--repeat` requests each of:
the first keyset page (`?cursor=`), a deep keyset page (the 200th, reached by following
`next_cursor`), a `starts_with` search, and for comparison the numbered pages 1 and 200 (exact
total: they count every user) and a `q` search (a substring: it reads every user). Then the
same at the next size (users added, same server). Prints a table with the ratio to the smallest
size and writes bench/results/admin_listing.md (and .json).
"""
import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pymongo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py: processes, ports, the admin's credentials)

# The newest user signed up a minute ago, the others one a minute before each other; each size
# adds older users, as a listing that has been growing looks from today.
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DEEP = 200
PASSWORD_HASH = "argon2$argon2id$v=19$m=102400,t=2,p=8$" + "x" * 22 + "$" + "y" * 43  # never used to log in


def seed(collection, first: int, last: int) -> None:
    """Users first..last-1, user n signed up n + 1 minutes ago, in batches of 5,000."""
    batch = []
    for n in range(first, last):
        name = f"member {n:06d}"
        batch.append({
            "username": name, "username_key": name, "username_skeleton": f"skel {n:06d}",
            "email": f"m{n:06d}@bench.example", "email_key": f"m{n:06d}@bench.example", "password": PASSWORD_HASH,
            "role": "user", "is_active": True, "in_trash": n % 50 == 7, "email_verified": True, "token_version": 0,
            "session_ids": [], "mfa_enabled": False, "created_at": NOW - dt.timedelta(minutes=n + 1), "updated_at": NOW - dt.timedelta(minutes=n + 1),
        })
        if len(batch) == 5000:
            collection.insert_many(batch, ordered=False)
            batch = []
    if batch:
        collection.insert_many(batch, ordered=False)


def timed(url: str, token: str, repeat: int) -> tuple[float | str, dict]:
    """The median time in ms, or the status of a refused request (a 503: the database's socket
    timeout, MONGODB_SOCKET_TIMEOUT_MS, cut a query short) with its time."""
    times, body = [], None
    for _ in range(repeat):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return f"{exc.code} after {(time.perf_counter() - started) * 1000:.0f} ms", {}
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,10000,50000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=run.BENCH / "results" / "admin_listing.md")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    storage = tempfile.mkdtemp(prefix="bench-listing-")
    db_port, port = run.free_port(), run.free_port()
    processes = []
    rows, started, load_start = [], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]
    try:
        db = run.Process("SecantusDB", [run.tool("secantusd-py"), "--host", run.HOST, "--port", str(db_port), "--storage-path", storage],
                         dict(os.environ), args.out.parent / "listing-secantus.log", db_port, ready_path=None)
        processes.append(db.start())
        uri = f"mongodb://{run.HOST}:{db_port}/bench_listing"
        env = run.ours_env(uri)
        env.update(WEB_CONCURRENCY="1", GRANIAN_HOST=run.HOST, GRANIAN_PORT=str(port), GRANIAN_LOG_LEVEL="warning", ACCESS_TOKEN_MINUTES="600", JWT_ALGORITHM="HS256")
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        service = run.Process("service", [sys.executable, "-m", "config.serve"], env, args.out.parent / "listing-serve.log", port)
        processes.append(service.start())  # creates the indexes and the admin
        client = run.Client(port)
        token = client.expect((200,), "POST", "/login", {"email": run.ADMIN["email"], "password": run.ADMIN["password"]})["access"]
        collection = pymongo.MongoClient(uri)["bench_listing"]["users"]
        seeded = 0
        base = f"http://{run.HOST}:{port}"
        for size in sizes:
            t = time.monotonic()
            seed(collection, seeded, size)
            seeded = size
            run.log(f"{size} users ({time.monotonic() - t:.0f} s to insert)")
            figures = {}
            figures["cursor page 1"], first = timed(f"{base}/users?cursor=&per_page=10", token, args.repeat)
            cursor = first["next_cursor"]
            for _ in range(DEEP - 2):
                _, body = timed(f"{base}/users?cursor={cursor}&per_page=10", token, 1)
                cursor = body["next_cursor"]
            figures[f"cursor page {DEEP}"], deep = timed(f"{base}/users?cursor={cursor}&per_page=10", token, args.repeat)
            assert len(deep["data"]) == 10, deep
            figures["starts_with=member 0001"], found = timed(f"{base}/users?starts_with=member%200001&per_page=10", token, args.repeat)
            assert found["total"] >= 1, found
            figures["page=1 (exact total)"], _ = timed(f"{base}/users?page=1&per_page=10", token, max(3, args.repeat // 2))
            figures[f"page={DEEP} (exact total)"], _ = timed(f"{base}/users?page={DEEP}&per_page=10", token, max(3, args.repeat // 2))
            figures["q=ber 0001 (substring)"], _ = timed(f"{base}/users?q=ber%200001&per_page=10", token, max(3, args.repeat // 2))
            rows.append({"users": size, **figures})
            run.log(f"{size}: " + ", ".join(f"{k} {v:.1f} ms" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
    finally:
        for p in reversed(processes):
            p.stop()
        shutil.rmtree(storage, ignore_errors=True)
    names = [k for k in rows[0] if k != "users"]
    lines = [
        f"measured {started}; {os.cpu_count()} CPUs; load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; medians of {args.repeat} requests",
        f"command: `python bench/admin_listing.py {' '.join(sys.argv[1:])}`".rstrip(),
        "",
        "| request | " + " | ".join(f"{r['users']:,} users" for r in rows) + f" | {rows[-1]['users']:,} / {rows[0]['users']:,} |",
        "|---|" + "---:|" * (len(rows) + 1),
    ]
    def cell(value) -> str:
        return f"{value:.1f} ms" if isinstance(value, float) else value

    for name in names:
        first, last = rows[0][name], rows[-1][name]
        ratio = f"**{last / first:.2f}x**" if isinstance(first, float) and isinstance(last, float) else "-"
        lines.append(f"| `{name}` | " + " | ".join(cell(r[name]) for r in rows) + f" | {ratio} |")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"started": started, "rows": rows}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
