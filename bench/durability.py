"""Acknowledged writes lost to a SIGKILL of the database under a write load (issue 20).

    python bench/durability.py [--rounds 3] [--seconds 3] [--writers 8]

For each mode, each round: a fresh SecantusDB server on a free port and a temporary folder,
`--writers` threads inserting small documents as fast as the server acknowledges them for about
`--seconds`, then SIGKILL of the server mid-load, a restart on the same folder, and a count of
the acknowledged inserts that are not there. Modes:

- `before`: the server as the embedded database was started before issue 20 (no
  `--sync-on-commit`), the driver's default write concern (w=1, no journal);
- `journal in the URI`: the same server, `journal=true` on the client (what the issue tried);
- `now`: the server exactly as config/embedded_mongodb.py starts it now (`--sync-on-commit`),
  the service's own client options (config/mongo.py: j:true).
Prints one markdown table. Everything runs on loopback; every server started is stopped.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pymongo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from config import mongo  # noqa: E402
from config.embedded_mongodb import server_arguments  # noqa: E402

SCRIPT = str(Path(sys.executable).parent / "secantusd-py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, folder: Path, durable: bool) -> subprocess.Popen:
    args = server_arguments(host="127.0.0.1", port=port, data_dir=folder)
    if not durable:
        args.remove("--sync-on-commit")
    process = subprocess.Popen([SCRIPT, *args, "--log-level", "ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=300) as client:
                client.admin.command("ping")
            return process
        except pymongo.errors.PyMongoError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def one_round(*, durable: bool, options: dict, seconds: float, writers: int) -> tuple[int, int]:
    folder = Path(tempfile.mkdtemp(prefix="bench-durability-"))
    port = free_port()
    process = start(port, folder, durable)
    acknowledged: list[int] = []
    stop = threading.Event()

    def write(offset: int) -> None:
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=2000, socketTimeoutMS=2000, retryWrites=False, **options)
        collection = client["bench"]["writes"]
        n = offset
        while not stop.is_set():
            try:
                collection.insert_one({"_id": n, "pad": "x" * 200})
            except pymongo.errors.PyMongoError:
                break
            acknowledged.append(n)
            n += writers
        client.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        process.send_signal(signal.SIGKILL)
        process.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        process = start(port, folder, durable)
        with pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=10000) as client:
            stored = set(client["bench"]["writes"].distinct("_id"))
        return len(acknowledged), sum(1 for n in acknowledged if n not in stored)
    finally:
        stop.set()
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    service = {k: v for k, v in mongo.client_options("").items() if k in ("w", "journal")}
    modes = [
        ("before: no --sync-on-commit, w=1", False, {}),
        ("journal=true in the URI, no --sync-on-commit", False, {"journal": True}),
        (f"now: --sync-on-commit, the service's {service}", True, service),
    ]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds of {args.seconds} s, {args.writers} writers")
    print("| mode | acknowledged | lost after SIGKILL | per round (lost/acknowledged) |")
    print("|---|---:|---:|---|")
    for name, durable, options in modes:
        rounds = [one_round(durable=durable, options=options, seconds=args.seconds, writers=args.writers) for _ in range(args.rounds)]
        print(
            f"| {name} | {sum(a for a, _ in rounds):,} | {sum(lost for _, lost in rounds):,} | "
            + ", ".join(f"{lost}/{a}" for a, lost in rounds)
            + " |",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
