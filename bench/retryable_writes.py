"""What retryable writes cost on SecantusDB, as the writes pile up (why the embedded server is
written to without them, config/mongo.py `EMBEDDED_ONLY_OPTIONS`).

    .venv/bin/python bench/retryable_writes.py [--writes 16000] [--step 2000]

Two fresh SecantusDB servers, started as the embedded one is (config/embedded_mongodb.py
`server_arguments`: `--sync-on-commit`), each on a free loopback port and a temporary folder. One
client writes to each with the service's write concern (j:true, w:1), one with pymongo's default
`retryWrites=True`, the other with `retryWrites=False`; the two take turns, `--step` writes at a
time, so a busy moment of the shared machine hits both alike. Each write is an `insert_one` of a
small document. Prints the mean microseconds per write of each step and the ratio with/without.

SecantusDB keeps the record of every retryable write for 30 minutes, up to 10,000, and on each
write scans them all for stale ones and, once there are 10,000, sorts them all to drop the oldest
(secantus/transactions.py, `_prune_retryable_locked`): the cost of a write grows with the writes of
the last 30 minutes. Without retryable writes the driver sends no transaction number and no record
is kept.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymongo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import secantus_server  # noqa: E402 - bench/, beside this script

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=16000)
    parser.add_argument("--step", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-retryable-"))
    servers = []
    try:
        collections = {}
        for retry in (True, False):
            process, port = secantus_server.start(folder / str(retry))
            servers.append(process)
            client = pymongo.MongoClient("127.0.0.1", port, retryWrites=retry, journal=True, w=1)
            collections[retry] = client["bench_retryable"]["docs"]
        print(f"SecantusDB fresh servers, {args.writes} insert_one each, j:true, turns of {args.step} (mean µs per write)")
        print("| writes | retryWrites=True | retryWrites=False | with / without |")
        print("|---|---:|---:|---:|")
        for first in range(0, args.writes, args.step):
            cost = {}
            for retry in (True, False) if (first // args.step) % 2 == 0 else (False, True):
                started = time.perf_counter()
                for i in range(first, first + args.step):
                    collections[retry].insert_one({"i": i})
                cost[retry] = (time.perf_counter() - started) / args.step * 1e6
            print(f"| {first + 1}-{first + args.step} | {cost[True]:.0f} | {cost[False]:.0f} | {cost[True] / cost[False]:.1f}x |", flush=True)
    finally:
        for process in servers:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
