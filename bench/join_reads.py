#!/usr/bin/env python3
"""What each way of reading the caller's join costs the database server, measured in one run.

Starts a SecantusDB server of its own (in memory, a free loopback port), stores users shaped as
ours are (a user, two linked ids, details), then, alternating the strategies for --reps rounds,
reads the join N times each way from one client and reads the server's CPU time from /proc:

- `lookup`: one aggregation, `$match` by `_id` then two `$lookup`s (the caller's join before issue 26);
- `three finds`: `find_one` of the user by `_id`, the linked ids by `user` (indexed), the
  details by `user` (unique index): three indexed reads;
- `copy`: `find_one` of the user by `_id`, the document carrying the copy of its linked ids and
  details (what the join reads since issue 26);
- `bare`: `find_one` by `_id` of a user without the copy (what FastAPI-Users' /users/me reads).

    python bench/join_reads.py [-n 2000] [--reps 3]

Prints the database's CPU per join (median over the rounds) and its ratio to `bare`.
"""
import argparse
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bson import ObjectId
from pymongo import MongoClient

HZ = os.sysconf("SC_CLK_TCK")


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="joins per strategy and round (default 2000)")
    parser.add_argument("--reps", type=int, default=3, help="rounds, alternating the order (default 3)")
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        client = MongoClient(f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=30000, tz_aware=True)
        db = client.join_reads
        db.linked_ids.create_index([("user", 1), ("created_at", -1)])
        db.linked_ids.create_index("linked_id", unique=True)
        db.details.create_index("user", unique=True)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        ids = []
        for n in range(args.users):
            uid = ObjectId()
            links = [{"_id": ObjectId(), "linked_id": f"ext-{n}-{k}", "user": uid, "created_at": now} for k in range(2)]
            details = {"_id": ObjectId(), "user": uid, "address": f"{n} Seed Road", "phone": "+15550000000",
                       "preferences": {"theme": "light"}, "created_at": now, "updated_at": now, "v": 1}
            user = {"_id": uid, "username": f"user {n}", "username_key": f"user {n}", "email": f"u{n}@example.com",
                    "email_key": f"u{n}@example.com", "password": "argon2$argon2id$v=19$m=19456,t=2,p=1$" + "x" * 60,
                    "role": "user", "is_active": True, "in_trash": False, "token_version": 0, "session_ids": [ObjectId()],
                    "created_at": now, "updated_at": now}
            db.users_bare.insert_one(dict(user))
            db.users.insert_one({**user, "links_copy": [{k: link[k] for k in ("_id", "linked_id", "created_at")} for link in links],
                                 "details_copy": {"v": 1, "doc": details}})
            db.linked_ids.insert_many(links)
            db.details.insert_one(details)
            ids.append(uid)
        lookups = [
            {"$lookup": {"from": "linked_ids", "localField": "_id", "foreignField": "user", "as": "links"}},
            {"$lookup": {"from": "details", "localField": "_id", "foreignField": "user", "as": "details"}},
        ]
        strategies = {
            "lookup": lambda uid: next(db.users.aggregate([{"$match": {"_id": uid}}, *lookups])),
            "three finds": lambda uid: (db.users.find_one({"_id": uid}), list(db.linked_ids.find({"user": uid})), db.details.find_one({"user": uid})),
            "copy": lambda uid: db.users.find_one({"_id": uid}),
            "bare": lambda uid: db.users_bare.find_one({"_id": uid}),
        }
        measured = {name: [] for name in strategies}
        for name, read in strategies.items():  # warm-up
            for uid in ids:
                read(uid)
        print(f"load average at the start: {Path('/proc/loadavg').read_text().split()[0]}")
        for rep in range(args.reps):
            names = list(strategies) if rep % 2 == 0 else list(reversed(strategies))
            for name in names:
                time.sleep(0.3)
                before, t = cpu(server.pid), time.perf_counter()
                for i in range(args.n):
                    strategies[name](ids[i % len(ids)])
                wall = time.perf_counter() - t
                measured[name].append(((cpu(server.pid) - before) / args.n * 1e6, wall / args.n * 1e6))
        bare = statistics.median(c for c, _ in measured["bare"])
        print(f"{args.n} joins per strategy, {args.reps} rounds alternating; medians")
        print("| strategy | database CPU per join (µs) | / bare find_one | client wall per join (µs) |")
        print("|---|---:|---:|---:|")
        for name, runs in measured.items():
            c = statistics.median(x for x, _ in runs)
            w = statistics.median(y for _, y in runs)
            print(f"| {name} | {c:,.0f} | {c / bare:.2f}x | {w:,.0f} |")
        print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[0]}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
