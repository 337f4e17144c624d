"""Issue 22's second "done when", on the production server and the embedded database: a
registration followed at once by a SIGKILL of the service still delivers its verification mail
after the restart; and a worker (`manage.py outbox`) killed in the middle of a delivery loses
nothing: another worker delivers it once the lease runs out."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from accounts.events.tests.receivers import Receiver
from tests.live_server import ROOT, free_port

PASSWORD = "a long river stone"


def post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    with urllib.request.urlopen(urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers), timeout=30) as r:
        return json.loads(r.read() or b"{}")


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    pytest.fail(f"waited {seconds} s for {what}")


@pytest.fixture
def shared_database(tmp_path):
    """Environment for processes sharing one embedded database of this test alone (wiped after)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "TEST_MONGODB_URI")}
    env.update(
        DEBUG="true", MONGODB_URI="", LOG_LEVEL="INFO", EMBEDDED_MONGODB_PORT=str(free_port()),
        EMBEDDED_MONGODB_DIR=str(Path(tempfile.mkdtemp(prefix="live-db-")) / "mongodb"),
        EMAIL_URL=f"filemail:///{tmp_path / 'mail'}", JWT_KEY_FILE=str(tmp_path / "jwt.pem"),
        ADMIN_USERNAME="admin", ADMIN_EMAIL="admin@example.com", ADMIN_PASSWORD="a long admin passphrase",
        WEBHOOKS_ALLOW_PRIVATE="true", OUTBOX_POLL_SECONDS="0.2",
    )
    yield env
    subprocess.run([sys.executable, "manage.py", "embedded_db", "wipe", "--yes"], cwd=ROOT, env=env, capture_output=True)


@contextlib.contextmanager
def service(env: dict, port: int, log: Path, **extra):
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--blocking-threads", "8", "--no-ws", "config.wsgi:application"]
    with open(log, "a") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**env, **extra}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(f"{base}/health", timeout=2).status == 200
        except OSError:
            return process.poll() is not None and pytest.fail(log.read_text())

    try:
        wait_for(up, 90, "the service")
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def mails_to(folder: Path, address: str) -> int:
    return sum(address in p.read_text(errors="replace") for p in folder.glob("*")) if folder.exists() else 0


@pytest.mark.slow
@pytest.mark.own_servers
def test_registrations_followed_by_a_sigkill_still_get_their_mail_after_the_restart(shared_database, tmp_path):
    port, mail = free_port(), tmp_path / "mail"
    with service(shared_database, port, tmp_path / "service.log") as (base, process):
        for n in range(6):
            post(f"{base}/users/register", {"username": f"kill me {n}", "email": f"kill{n}@example.com", "password": PASSWORD})
        os.killpg(process.pid, signal.SIGKILL)  # at once: no chance to finish anything
        process.wait()
    sent_before = sum(mails_to(mail, f"kill{n}@example.com") for n in range(6))
    with service(shared_database, port, tmp_path / "service.log"):
        wait_for(lambda: all(mails_to(mail, f"kill{n}@example.com") for n in range(6)), 60, "six verification mails")
    assert sent_before <= 6  # some may have left before the kill; after the restart every one has


@pytest.mark.slow
@pytest.mark.own_servers
def test_a_worker_killed_mid_delivery_loses_nothing(shared_database, tmp_path):
    port = free_port()
    env = {**shared_database, "OUTBOX_WORKERS_IN_PROCESS": "0", "OUTBOX_LEASE_SECONDS": "3"}
    hang = {"first": True}

    with Receiver() as receiver, service(env, port, tmp_path / "service.log") as (base, _):
        # The receiver's first answer never comes (the worker is killed while it waits).
        original = receiver.server.RequestHandlerClass.do_POST

        def do_post(handler):
            if hang["first"]:
                hang["first"] = False
                time.sleep(30)
                return
            original(handler)

        receiver.server.RequestHandlerClass.do_POST = do_post
        admin = post(f"{base}/login", {"email": "admin@example.com", "password": "a long admin passphrase"})["access"]
        receiver.secret = post(f"{base}/webhooks", {"url": receiver.url, "events": ["user.created"]}, token=admin)["secret"]
        user_id = post(f"{base}/users/register", {"username": "carried", "email": "carried@example.com", "password": PASSWORD})["user_id"]
        worker_command = [sys.executable, "manage.py", "outbox", "--workers", "1"]
        first = subprocess.Popen(worker_command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: not hang["first"], 60, "the first worker to reach the receiver")
        first.send_signal(signal.SIGKILL)  # mid-delivery: it holds the job's lease
        first.wait()
        second = subprocess.Popen(worker_command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: user_id in {p["data"]["user_id"] for p in receiver.received}, 60, "the delivery by the second worker")
        finally:
            second.terminate()
            second.wait(timeout=30)
        # Every event the service wrote arrived (the first admin's sign-up too), the carried one
        # through the second worker; none was forged.
        assert set(receiver.types()) == {"user.created"} and user_id in {p["data"]["user_id"] for p in receiver.received}
        assert receiver.forged == 0
