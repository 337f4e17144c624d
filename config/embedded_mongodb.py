"""The embedded database: one local SecantusDB server shared by every process of this project.

With `MONGODB_URI` unset, the service (runserver, its autoreloader child, gunicorn workers) and
every `manage.py` command talk to one SecantusDB server (a single-node, MongoDB-wire-compatible
server on WiredTiger, PyPI `SecantusDB`) listening on 127.0.0.1:`EMBEDDED_MONGODB_PORT`, whose
data lives in `EMBEDDED_MONGODB_DIR` (default `.data/mongodb/`, git-ignored).

Decisions:
- SecantusDB is GPL-2.0: it runs as its own process (its `secantusd-py` script), never imported.
- Durable: started with `--sync-on-commit` (`server_arguments`), so what it acknowledged is on
  disk; the service's writes ask for the journal too (config/mongo.py).
- The first process that needs the database and finds nothing listening starts the server
  *detached* (its own session, output to `.data/mongodb.log`), so it outlives that process and
  is shared by all the others, as a real MongoDB would be; the others just connect. Starting is
  guarded by an exclusive lock on `.data/mongodb.start.lock`, so two processes racing to start
  it start one server (WiredTiger also locks its folder: a second server on it would fail).
- The server's pid is kept in `.data/mongodb.pid`. A server answering on the port whose pid is
  not that one is somebody else's (another checkout, another program): refused with a clear
  message rather than silently writing into another project's data.
- It keeps running after the service stops (the next start is instant). Stop it with
  `python manage.py embedded_db stop`; wipe everything with `python manage.py embedded_db wipe`.
- Every failure is an `EmbeddedDatabaseError` whose message is one line saying what to do;
  manage.py and config/wsgi.py print it and exit non-zero, without a traceback.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pymongo
from pymongo.errors import PyMongoError

SERVER_SCRIPT = "secantusd-py"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 30
KILL_TIMEOUT_SECONDS = 10


def server_arguments(*, host: str, port: int, data_dir: Path | str) -> list[str]:
    """The arguments a durable SecantusDB server is started with. `--sync-on-commit` fsyncs its
    WiredTiger log at every commit, so a write it acknowledged survives a SIGKILL or a power
    cut (without it, 6 of 3,908 acknowledged writes were lost to a SIGKILL under load; with it,
    0; README "Durability"). Also used by the tests and bench/ that start servers of their own."""
    return ["--host", host, "--port", str(port), "--storage-path", str(data_dir), "--sync-on-commit"]


class EmbeddedDatabaseError(RuntimeError):
    """The embedded database cannot be started or reached. The message says what to do."""


@dataclass(frozen=True)
class EmbeddedServer:
    """Where the embedded server listens and keeps its data (from settings, see `from_settings`)."""

    port: int
    data_dir: Path
    host: str = "127.0.0.1"

    @classmethod
    def from_settings(cls) -> EmbeddedServer:
        from django.conf import settings

        return cls(port=settings.EMBEDDED_MONGODB_PORT, data_dir=Path(settings.EMBEDDED_MONGODB_DIR).resolve())

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid_file(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".pid")

    @property
    def log_file(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".log")

    @property
    def lock_file(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".start.lock")

    # --- Looking ------------------------------------------------------------------------------
    def _answering_pid(self, timeout_ms: int = 500) -> int | None:
        """The pid of the server answering on the port, or None if nothing answers."""
        client = pymongo.MongoClient(
            self.host, self.port, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, directConnection=True
        )
        try:
            return int(client.admin.command("serverStatus").get("pid") or -1)
        except PyMongoError:
            return None
        finally:
            client.close()

    def _recorded_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def running_pid(self) -> int | None:
        """The pid of this project's server when it answers; None when nothing answers.
        Raises when the port is held by a server that is not this project's."""
        pid = self._answering_pid()
        if pid is None:
            return None
        if pid != self._recorded_pid():
            raise EmbeddedDatabaseError(
                f"Port {self.port} is used by another database server (pid {pid}), not the embedded one whose data is "
                f"in {self.data_dir}: stop it, or set EMBEDDED_MONGODB_PORT to a free port (or MONGODB_URI to use that server)."
            )
        return pid

    # --- Starting -----------------------------------------------------------------------------
    def _script(self) -> str:
        here = Path(sys.executable).parent / SERVER_SCRIPT
        found = str(here) if here.exists() else shutil.which(SERVER_SCRIPT)
        if not found:
            raise EmbeddedDatabaseError(
                f"{SERVER_SCRIPT} is not installed: run `.venv/bin/pip install -r requirements.txt` "
                "(it comes with the SecantusDB package), or set MONGODB_URI to a MongoDB server."
            )
        return found

    def ensure_running(self) -> tuple[int, bool]:
        """Start the server unless it already answers. Returns (pid, started_now)."""
        pid = self.running_pid()
        if pid is not None:
            return pid, False
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "w") as lock:
            # Whoever holds the lock starts the server; the others wait, then find it running.
            fcntl.flock(lock, fcntl.LOCK_EX)
            pid = self.running_pid()
            if pid is not None:
                return pid, False
            recorded = self._recorded_pid()
            if recorded is not None and _alive(recorded):
                raise EmbeddedDatabaseError(
                    f"The embedded database of {self.data_dir} runs (pid {recorded}) but does not answer on port {self.port}: "
                    "was EMBEDDED_MONGODB_PORT changed? Stop it with `python manage.py embedded_db stop` under the old port."
                )
            return self._start(), True

    def _start(self) -> int:
        script = self._script()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [script, *server_arguments(host=self.host, port=self.port, data_dir=self.data_dir), "--log-level", "WARNING"]
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C in the terminal that started it does not stop it, and it
                # outlives the process that started it.
                start_new_session=True,
                close_fds=True,
                # Run where no secantusd.toml of the caller's working directory is picked up.
                cwd=self.data_dir,
            )
        # Recorded before it answers, so a process that finds it answering knows it is ours.
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise EmbeddedDatabaseError(
                    f"The embedded database did not start ({self._last_log_line()}; log: {self.log_file}): "
                    f"is {self.data_dir} in use by another server, or port {self.port} taken? "
                    "Set EMBEDDED_MONGODB_PORT / EMBEDDED_MONGODB_DIR, or MONGODB_URI to use another MongoDB."
                )
            if self._answering_pid(timeout_ms=250) == process.pid:
                # The server outlives its starter; while the starter (a runserver, say) runs, this
                # thread reaps the server when `embedded_db stop` in another terminal ends it, so no
                # `secantusd-py <defunct>` stays behind. Once the starter exits, init reaps it.
                threading.Thread(target=process.wait, name="embedded-database-reaper", daemon=True).start()
                return process.pid
            time.sleep(0.2)
        process.terminate()
        self.pid_file.unlink(missing_ok=True)
        raise EmbeddedDatabaseError(
            f"The embedded database did not answer within {START_TIMEOUT_SECONDS} s (log: {self.log_file}); "
            "try again, or set MONGODB_URI to a MongoDB server."
        )

    def _last_log_line(self) -> str:
        try:
            lines = [line.strip() for line in self.log_file.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        return lines[-1][-160:] if lines else "no output"

    # --- Stopping and wiping ------------------------------------------------------------------
    def stop(self) -> int | None:
        """Stop the server: SIGTERM, and wait for it to close its files (usually under 3 s).
        One that has not stopped after STOP_TIMEOUT_SECONDS (seen once on a machine under heavy
        load) is killed: WiredTiger replays its journal at the next start, and what the server
        acknowledged is in that journal (written at each commit, only its fsync is deferred).
        Returns its pid, or None when it was not running."""
        pid = self.running_pid() or self._recorded_pid()
        if pid is None or not _alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return None
        for sig, seconds in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, KILL_TIMEOUT_SECONDS)):
            os.kill(pid, sig)
            deadline = time.monotonic() + seconds
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not _alive(pid):
                self.pid_file.unlink(missing_ok=True)
                return pid
        raise EmbeddedDatabaseError(f"The embedded database (pid {pid}) did not stop, even killed; stop it by hand.")

    def wipe(self) -> None:
        """Stop the server and delete its data folder and log: every database in it is gone."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """True while `pid` runs. A server that exited but whose parent (the process that started
    it, a runserver still running, say) has not reaped it is a zombie: not running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it if it exited
        if waited:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
