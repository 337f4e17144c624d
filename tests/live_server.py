"""The service under granian (the production server) on a free port, for tests that need a real
server (the generated client's test, the browser's): DEBUG, the embedded database of this run
alone (a free port and a temporary folder, stopped and wiped afterwards), the first admin from
ADMIN_*, its log kept in a file."""
import contextlib
import os
import shutil
import tempfile
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_service(log_path: Path, workers: int = 1, port: int | None = None, **settings: str):
    """Yields the base URL of a fresh service of `workers` granian processes; `settings` are extra
    environment variables (a `{port}` in one is the service's port, for settings that name its
    origin). A `port` given keeps the URL across restarts (a key rotation: the issuer stays the same)."""
    port = port or free_port()
    settings = {name: value.replace("{port}", str(port)) for name, value in settings.items()}
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "TEST_MONGODB_URI")}
    db_dir = Path(tempfile.mkdtemp(prefix="live-db-"))
    env.update(DEBUG="true", MONGODB_URI="", LOG_LEVEL="INFO", EMBEDDED_MONGODB_PORT=str(free_port()), EMBEDDED_MONGODB_DIR=str(db_dir / "mongodb"))
    env.update(settings)
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--blocking-threads", "8", "--no-ws", "config.wsgi:application"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /health in 60 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # The service started the embedded server detached (it outlives the service): wipe it.
        subprocess.run([sys.executable, "manage.py", "embedded_db", "wipe", "--yes"], cwd=ROOT, env=env, check=False, capture_output=True)
        shutil.rmtree(db_dir, ignore_errors=True)
