"""The embedded database (config/embedded_mongodb.py, config/mongo.py, `manage.py embedded_db`).

The suite itself runs on mongomock or TEST_MONGODB_URI and never on the project's embedded server;
these tests start real SecantusDB servers of their own, each on a free port with a temporary data
folder, and stop them, to check the launcher: one server for racing starters, detached, shared,
data kept across a restart, and one clear line (no traceback) when it cannot start.
"""
import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pymongo
import pytest
from mongoengine.connection import get_connection, get_db
from pymongo import monitoring
from django.core.management import call_command
from django.core.management.base import CommandError

from config import mongo
from config.embedded_mongodb import EmbeddedDatabaseError, EmbeddedServer
from tests.roundtrips import suite_database_back

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A launcher for a server of this module (not started yet); stopped at the end."""
    embedded = EmbeddedServer(port=free_port(), data_dir=tmp_path_factory.mktemp("embedded") / "mongodb")
    yield embedded
    embedded.wipe()


@pytest.fixture(scope="module")
def other_server(tmp_path_factory):
    """Somebody else's server (another checkout's), running."""
    embedded = EmbeddedServer(port=free_port(), data_dir=tmp_path_factory.mktemp("other") / "mongodb")
    embedded.ensure_running()
    yield embedded
    embedded.wipe()


pytestmark = [pytest.mark.slow, pytest.mark.own_servers]  # each server start takes a few seconds


def test_racing_first_users_start_one_server(server):
    results, barrier = [], threading.Barrier(4)

    def use():
        barrier.wait()
        results.append(server.ensure_running())

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({pid for pid, _ in results}) == 1, results
    assert sorted(started for _, started in results) == [False, False, False, True]
    pid = results[0][0]
    assert server.pid_file.read_text().strip() == str(pid)
    assert server.ensure_running() == (pid, False)


def test_it_is_detached_from_its_starter(server):
    pid, _ = server.ensure_running()
    # Its own session and process group: Ctrl-C in the starter's terminal does not reach it.
    assert os.getsid(pid) == pid and os.getpgid(pid) != os.getpgid(0)


def test_data_survives_a_restart(server):
    server.ensure_running()
    client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=10000)
    client.kept.things.insert_one({"name": "kept"})
    client.close()
    stopped = server.stop()
    assert stopped and server.running_pid() is None and not server.pid_file.exists()
    assert server.stop() is None  # stopping twice is harmless
    pid, started = server.ensure_running()
    assert started and pid != stopped
    client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=10000)
    assert client.kept.things.find_one({}, {"_id": 0}) == {"name": "kept"}
    client.close()


def test_the_command_reports_stops_starts_and_wipes(server, settings, capsys):
    settings.EMBEDDED_MONGODB_PORT, settings.EMBEDDED_MONGODB_DIR = server.port, str(server.data_dir)
    server.ensure_running()
    call_command("embedded_db", "status")
    assert f"running (pid {server.running_pid()})" in capsys.readouterr().out
    call_command("embedded_db", "start")
    assert "Already running" in capsys.readouterr().out
    call_command("embedded_db", "stop")
    assert "Stopped" in capsys.readouterr().out and server.running_pid() is None
    call_command("embedded_db", "status")
    assert "not running" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--yes"):
        call_command("embedded_db", "wipe")  # no terminal to confirm
    call_command("embedded_db", "wipe", "--yes")
    assert "deleted" in capsys.readouterr().out
    assert not server.data_dir.exists() and server.running_pid() is None


def test_a_port_held_by_another_server_is_refused(server, other_server):
    stranger = EmbeddedServer(port=other_server.port, data_dir=server.data_dir)
    with pytest.raises(EmbeddedDatabaseError, match=f"Port {other_server.port} is used by another database server"):
        stranger.ensure_running()


def test_a_missing_server_script_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr("config.embedded_mongodb.SERVER_SCRIPT", "no-such-secantusd")
    with pytest.raises(EmbeddedDatabaseError, match="pip install -r requirements.txt"):
        EmbeddedServer(port=free_port(), data_dir=tmp_path / "db").ensure_running()


def test_a_command_that_cannot_reach_it_prints_one_line_and_exits_4(other_server, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "MONGODB_URI", "TEST_MONGODB_URI")}
    env.update(DEBUG="true", EMBEDDED_MONGODB_PORT=str(other_server.port), EMBEDDED_MONGODB_DIR=str(tmp_path / "mine"))
    done = subprocess.run([sys.executable, "manage.py", "check_integrity"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "EMBEDDED_MONGODB_PORT" in done.stderr


@pytest.mark.parametrize("command", [["check"], ["spectacular", "--validate", "--fail-on-warn", "--file", "{tmp}/schema.yml"]])
def test_commands_that_need_no_database_start_none(command, tmp_path):
    """CI's schema and deploy checks (and the Docker build's collectstatic) must not leave a
    database server running: nothing they do opens the connection."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "MONGODB_URI", "TEST_MONGODB_URI")}
    data_dir = tmp_path / "db" / "mongodb"
    env.update(DEBUG="true", EMBEDDED_MONGODB_PORT=str(free_port()), EMBEDDED_MONGODB_DIR=str(data_dir))
    argv = [part.format(tmp=tmp_path) for part in command]
    done = subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not data_dir.parent.exists(), f"manage.py {command[0]} started the embedded database"


# --- config/mongo.py ----------------------------------------------------------------------------
def test_the_embedded_client_starts_the_server_on_first_use(server, settings, caplog):
    settings.EMBEDDED_MONGODB_PORT, settings.EMBEDDED_MONGODB_DIR = server.port, str(server.data_dir)
    server.stop()
    with caplog.at_level(logging.WARNING, logger="config.mongo"):
        client = mongo.EmbeddedMongoClient(server.uri, serverSelectionTimeoutMS=10000)
        assert client.admin.command("ping")["ok"] == 1
        client.close()
    assert "Started the embedded database" in caplog.text and str(server.data_dir) in caplog.text


def test_startup_names_the_database_and_where_its_data_lives(server, settings, caplog):
    settings.EMBEDDED_MONGODB_PORT, settings.EMBEDDED_MONGODB_DIR = server.port, str(server.data_dir)
    settings.MONGODB_URI, settings.MONGODB_CLIENT_CLASS = "", ""
    try:
        mongo.connect()
        with caplog.at_level(logging.WARNING, logger="config.mongo"):
            mongo.startup()
        assert f"embedded SecantusDB at {server.uri}" in caplog.text and str(server.data_dir) in caplog.text
        assert "embedded_db wipe" in caplog.text
    finally:
        suite_database_back(settings)


def test_the_embedded_server_is_written_to_without_retryable_writes(server, settings):
    """SecantusDB's cost per retryable write grows with the writes of the last 30 minutes
    (config/mongo.py EMBEDDED_ONLY_OPTIONS): a write to the embedded server carries no transaction
    number, so none is recorded; a MONGODB_URI keeps pymongo's default (retryable writes on)."""
    commands = []

    class Listener(monitoring.CommandListener):
        def started(self, event):
            commands.append(event.command)

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    settings.EMBEDDED_MONGODB_PORT, settings.EMBEDDED_MONGODB_DIR = server.port, str(server.data_dir)
    settings.MONGODB_URI, settings.MONGODB_CLIENT_CLASS = "", ""
    try:
        mongo.connect(event_listeners=(Listener(),))
        get_db()["retry_probe"].insert_one({"probe": 1})
        get_db()["retry_probe"].update_one({"probe": 1}, {"$set": {"probe": 2}})
        writes = [c for c in commands if "insert" in c or "update" in c]
        assert len(writes) == 2 and not any("txnNumber" in c for c in writes), writes
        settings.MONGODB_URI = "mongodb://db.example.com:27017/app"
        mongo.connect()
        assert get_connection().options.retry_writes is True
        settings.MONGODB_URI = "mongodb://db.example.com:27017/app?retryWrites=false"  # a URI may say otherwise
        mongo.connect()
        assert get_connection().options.retry_writes is False
    finally:
        suite_database_back(settings)


def test_startup_of_an_unreachable_embedded_server_is_one_line(settings, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.EMBEDDED_MONGODB_PORT, settings.EMBEDDED_MONGODB_DIR = taken.getsockname()[1], str(tmp_path / "db")
        settings.MONGODB_URI, settings.MONGODB_CLIENT_CLASS = "", ""
        try:
            mongo.connect()
            with pytest.raises(Exception) as caught:
                mongo.startup()
            line = mongo.problem(caught.value)
            assert "did not start" in line and "\n" not in line
            assert not (tmp_path / "db.pid").exists()
        finally:
            suite_database_back(settings)


def test_describe_never_shows_a_password(settings):
    settings.MONGODB_URI, settings.MONGODB_CLIENT_CLASS = "mongodb://app:s3cret-pass@db.example.com:27017/?replicaSet=rs0", ""
    try:
        mongo.connect()
        line = mongo.describe()
    finally:
        suite_database_back(settings)
    assert "db.example.com:27017" in line and "s3cret" not in line and "app:" not in line


def test_problem_explains_database_errors_only():
    from mongoengine.connection import ConnectionFailure as MongoEngineConnectionFailure
    from pymongo.errors import ServerSelectionTimeoutError

    try:
        try:
            raise EmbeddedDatabaseError("do this")
        except EmbeddedDatabaseError as inner:
            raise MongoEngineConnectionFailure("Cannot connect to database default") from inner
    except MongoEngineConnectionFailure as wrapped:
        assert mongo.problem(wrapped) == "do this"
    assert "Cannot reach" in mongo.problem(ServerSelectionTimeoutError("no server"))
    assert mongo.problem(ValueError("unrelated")) is None


def test_a_server_that_ignores_sigterm_is_killed(tmp_path, monkeypatch):
    """A stand-in process that ignores SIGTERM (as a stuck server would), recorded as the server."""
    import signal as signals

    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stubborn.stdout.readline().strip() == "ready"
    embedded = EmbeddedServer(port=free_port(), data_dir=tmp_path / "db")
    embedded.pid_file.write_text(f"{stubborn.pid}\n")
    monkeypatch.setattr("config.embedded_mongodb.STOP_TIMEOUT_SECONDS", 0.5)
    sent = []
    real_kill = os.kill
    monkeypatch.setattr("config.embedded_mongodb.os.kill", lambda pid, sig: (sent.append(sig), real_kill(pid, sig)))
    assert embedded.stop() == stubborn.pid
    assert [s for s in sent if s] == [signals.SIGTERM, signals.SIGKILL] and not embedded.pid_file.exists()
    stubborn.wait(timeout=10)  # reaped already by the launcher's liveness check, or now


def test_a_server_that_exited_but_was_not_reaped_counts_as_stopped():
    """The process that started the server (runserver) may still run and never reap it."""
    from config.embedded_mongodb import _alive

    code = "import os, sys, time; pid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        zombie = int(parent.stdout.readline())
        deadline = __import__("time").monotonic() + 10
        while Path(f"/proc/{zombie}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert __import__("time").monotonic() < deadline
        assert _alive(zombie) is False
        assert _alive(parent.pid) is True
    finally:
        parent.kill()
        parent.wait()


def test_a_server_stopped_from_another_process_leaves_no_zombie_under_its_running_starter(tmp_path):
    """A runserver starts the server and keeps running; `embedded_db stop` in another terminal
    ends it: the starter reaps it at once (no `secantusd-py <defunct>` in `ps`)."""
    import time

    port, data_dir = free_port(), tmp_path / "mongodb"
    code = (
        "import sys, time; from pathlib import Path; from config.embedded_mongodb import EmbeddedServer\n"
        "print(EmbeddedServer(port=int(sys.argv[1]), data_dir=Path(sys.argv[2])).ensure_running()[0], flush=True)\n"
        "time.sleep(120)"
    )
    starter = subprocess.Popen([sys.executable, "-c", code, str(port), str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid = int(starter.stdout.readline())
        assert EmbeddedServer(port=port, data_dir=data_dir).stop() == pid
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists():
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}/stat").exists() else "gone"
            assert time.monotonic() < deadline, f"the stopped server is still in the process table (state {state})"
            time.sleep(0.1)
        assert starter.poll() is None  # its starter still runs
    finally:
        starter.kill()
        starter.wait()
        EmbeddedServer(port=port, data_dir=data_dir).wipe()
