#!/usr/bin/env python3
"""`manage.py delete_users` over many users on a SecantusDB server: time and peak memory per
batch size (issue 16 item 5).

    python bench/bulk_delete_wire.py                          # 2,000 users at 50/100/200/500, then 10,000 at 100
    python bench/bulk_delete_wire.py --plan 10000:100,10000:250

For each `users:batch` of the plan: starts from an empty database on its own SecantusDB server
(temporary folder, loopback), inserts that many users with a linked id and details each (raw
inserts: registering them over HTTP would measure Argon2), then runs
`manage.py delete_users --email-domain bulk.example --yes --batch-size B` as a child process and
reports its wall time, the peak resident memory of that process (ru_maxrss), and that nothing of
those users is left. SecantusDB's `$in` is super-linear in the number of values (see DESIGN.md),
which is what the batch size trades against the number of queries.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from bulk_users import users_insert  # noqa: E402
from run import HOST, Process, free_port, tool  # noqa: E402

DB = "bench_bulk_delete"


def seed(db, n: int) -> None:
    from datetime import datetime, timezone

    users_insert(db, n, stamp=datetime.fromtimestamp(time.time(), timezone.utc), batch=1000)


def run_delete(uri: str, batch: int) -> tuple[float, float, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DEBUG": "true", "MONGODB_URI": uri, "MONGODB_DB": DB}
    command = [sys.executable, "manage.py", "delete_users", "--email-domain", "bulk.example", "--yes", "--batch-size", str(batch)]
    started = time.perf_counter()
    with open(BENCH / "results" / "bulk_delete.log", "a") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"delete_users failed ({proc.returncode}); see bench/results/bulk_delete.log")
    return seconds, usage.ru_maxrss / 1024, " ".join(command[1:])  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plan", default="2000:50,2000:100,2000:200,2000:500,10000:100", help="users:batch,... (default %(default)s)")
    parser.add_argument("--db-port", type=int, default=0)
    args = parser.parse_args()
    plan = [tuple(int(x) for x in step.split(":")) for step in args.plan.split(",")]
    (BENCH / "results").mkdir(exist_ok=True)
    port = args.db_port or free_port()
    storage = tempfile.mkdtemp(prefix="bench-bulk-")
    server = Process("SecantusDB", [tool("secantusd-py"), "--host", HOST, "--port", str(port), "--storage-path", storage],
                     dict(os.environ), BENCH / "results" / "secantus-bulk.log", port, ready_path=None)
    rows = []
    try:
        server.start()
        uri = f"mongodb://{HOST}:{port}/{DB}"
        client = MongoClient(uri)
        for users, batch in plan:
            client.drop_database(DB)
            seed(client[DB], users)
            seconds, peak_mib, command = run_delete(uri, batch)
            left = sum(client[DB][name].count_documents({}) for name in ("users", "linked_ids", "details"))
            records = client[DB]["deletion_records"].count_documents({})
            rows.append((users, batch, seconds, peak_mib, left, records))
            print(f"{users:>6} users, batch {batch:>4}: {seconds:7.1f} s, peak RSS {peak_mib:6.1f} MiB, "
                  f"left {left}, deletion records {records}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(storage, ignore_errors=True)
    print("\n| users | --batch-size | seconds | users/s | peak RSS of the command | left behind |")
    print("|---:|---:|---:|---:|---:|---:|")
    for users, batch, seconds, peak, left, _ in rows:
        print(f"| {users:,} | {batch} | {seconds:.1f} | {users / seconds:,.0f} | {peak:.0f} MiB | {left} |")
    print(f"\ncommand: {command}")


if __name__ == "__main__":
    main()
