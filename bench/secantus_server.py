"""A SecantusDB server of a benchmark's own, started as the embedded one is
(config/embedded_mongodb.py `server_arguments`), on a free loopback port and a given folder."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo

from config.embedded_mongodb import server_arguments

SCRIPT = str(Path(sys.executable).parent / "secantusd-py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(folder: Path, durable: bool = True) -> tuple[subprocess.Popen, int]:
    """The server's process and port, once it answers a ping. `durable=False`: without
    `--sync-on-commit`."""
    port = free_port()
    args = server_arguments(host="127.0.0.1", port=port, data_dir=folder)
    if not durable:
        args.remove("--sync-on-commit")
    process = subprocess.Popen([SCRIPT, *args, "--log-level", "ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=300) as client:
                client.admin.command("ping")
            return process, port
        except pymongo.errors.PyMongoError:
            time.sleep(0.2)
    raise SystemExit("a database server did not start")
