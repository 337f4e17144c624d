"""Fault injection for tests that need a real crash, a frozen or a failing database server.

- `database_server()`: a SecantusDB server of the test alone (a child process on a free port, a
  temporary folder), started the way the embedded database is (`--sync-on-commit`, from
  config/embedded_mongodb.py) unless `durable=False`, optionally with `--enable-test-commands`
  (mongod's `configureFailPoint`: `fail_commands()` makes chosen commands fail with a chosen
  error code, as a full disk does). It can be frozen (SIGSTOP), killed (SIGKILL) and restarted
  on the same data.
- `manage()`: a `manage.py` command in a child process against such a server, with service
  failpoints armed through `USER_SERVICE_FAILPOINTS` (common/failpoints.py), so that a `kill`
  failpoint ends it with SIGKILL at exactly the chosen step.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymongo

from config.embedded_mongodb import server_arguments
from tests.live_server import ROOT, free_port

SERVER_SCRIPT = Path(sys.executable).parent / "secantusd-py"


@dataclass
class DatabaseServer:
    data_dir: Path
    durable: bool = True
    test_commands: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def db_uri(self, name: str) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        args = server_arguments(host="127.0.0.1", port=self.port, data_dir=self.data_dir)
        if not self.durable:
            args.remove("--sync-on-commit")
        if self.test_commands:
            args.append("--enable-test-commands")
        log = open(self.data_dir.with_suffix(".log"), "ab")
        self.process = subprocess.Popen([str(SERVER_SCRIPT), *args, "--log-level", "WARNING"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the database server exited: {self.data_dir.with_suffix('.log').read_text()[-2000:]}")
            try:
                with self.client(timeout_ms=500) as client:
                    client.admin.command("ping")
                return
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def client(self, timeout_ms: int = 5000, **options) -> pymongo.MongoClient:
        return pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=timeout_ms, socketTimeoutMS=timeout_ms, **options)

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer does: nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def fail_commands(self, commands: list[str], *, code: int = 1, mode: object = "alwaysOn") -> None:
        """Make `commands` fail with `code` (1, InternalError: SecantusDB's answer once its
        storage engine stopped on a full disk). `mode="off"` ends it."""
        with self.client() as client:
            client.admin.command(
                "configureFailPoint", "failCommand", mode=mode, data={"failCommands": commands, "errorCode": code}
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def database_server(*, durable: bool = True, test_commands: bool = False):
    root = Path(tempfile.mkdtemp(prefix="faults-db-"))
    server = DatabaseServer(data_dir=root / "data", durable=durable, test_commands=test_commands)
    server.data_dir.mkdir()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def service_env(uri: str, *, failpoints: str = "", **settings: str) -> dict[str, str]:
    """The environment of a child process of the service against `uri`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "TEST_MONGODB_URI", "USER_SERVICE_FAILPOINTS")}
    env.update(DEBUG="true", MONGODB_URI=uri, LOG_LEVEL="WARNING", **settings)
    if failpoints:
        env["USER_SERVICE_FAILPOINTS"] = failpoints
    return env


def manage(uri: str, *args: str, failpoints: str = "", timeout: float = 120, **settings: str) -> subprocess.CompletedProcess:
    """Run `manage.py *args` against the database `uri` in a child process."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=service_env(uri, failpoints=failpoints, **settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python(uri: str, code: str, *, failpoints: str = "", timeout: float = 120, **settings: str) -> subprocess.CompletedProcess:
    """Run `code` in a child Python with Django set up against `uri` (service settings)."""
    prelude = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.base'); django.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=service_env(uri, failpoints=failpoints, **settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
