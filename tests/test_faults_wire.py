"""The database failing under a running service, over the wire, with real processes (issue 20):
out of space (SecantusDB's `failCommand`, the error its stopped storage engine gives), frozen
(SIGSTOP), killed under a write load (SIGKILL), then back. Each test starts its own SecantusDB
server and, where it needs one, the service under granian; TEST_MONGODB_URI plays no part, so they
run in the run on mongomock only (`own_servers`, tests/conftest.py)."""
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pymongo
import pytest
import requests
from django.test import override_settings

from common.exceptions import StorageUnavailable
from config import mongo
from config.embedded_mongodb import EmbeddedServer
from tests.conftest import PASSWORD
from tests.faults import database_server
from tests.live_server import free_port, running_service

pytestmark = [pytest.mark.faults, pytest.mark.own_servers]

DATA_COMMANDS = ["insert", "update", "findAndModify", "delete", "find", "aggregate", "count"]


def sign_up_and_in(base: str, name: str) -> dict:
    email = f"{name}@example.com"
    r = requests.post(f"{base}/users/register", json={"username": name, "email": email, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text
    r = requests.post(f"{base}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access']}"}


def test_out_of_space_is_503_and_not_ready_then_the_service_recovers(tmp_path):
    with database_server(test_commands=True) as server:
        with running_service(tmp_path / "service.log", MONGODB_URI=server.db_uri("faults_space")) as base:
            me = sign_up_and_in(base, "filler")
            assert requests.get(f"{base}/ready", timeout=30).status_code == 200

            # The disk fills: SecantusDB's storage engine stops and every data command fails.
            server.fail_commands(DATA_COMMANDS, code=1)
            r = requests.post(f"{base}/users/register", json={"username": "late", "email": "late@example.com", "password": PASSWORD}, timeout=30)
            assert r.status_code == 503 and r.json() == {"detail": StorageUnavailable.default_detail}
            assert r.headers["Retry-After"] == "5"
            assert requests.get(f"{base}/users/me", headers=me, timeout=30).status_code == 503
            r = requests.get(f"{base}/ready", timeout=30)
            assert r.status_code == 503 and r.json() == {"status": "error", "database": "storage failure"}
            # Liveness is not readiness: the process is fine and the server answers a ping.
            assert requests.get(f"{base}/health", timeout=30).json() == {"status": "ok", "database": "ok"}

            # Space returns and the database is restarted on its data: the service needs no restart.
            server.kill()
            server.start()
            deadline = time.monotonic() + 30
            while requests.get(f"{base}/ready", timeout=30).status_code != 200:
                assert time.monotonic() < deadline, "not ready 30 s after the database came back"
                time.sleep(0.5)
            r = requests.post(f"{base}/users/register", json={"username": "late", "email": "late@example.com", "password": PASSWORD}, timeout=30)
            assert r.status_code == 201, r.text
            assert requests.get(f"{base}/users/me", headers=me, timeout=30).status_code == 200
    assert "Traceback" not in "".join(line for line in (tmp_path / "service.log").read_text().splitlines() if "500" in line)


def test_a_frozen_database_costs_a_request_seconds_not_its_thread(tmp_path):
    """SIGSTOP of the database: requests already holding a pooled connection and new ones alike
    answer 503 within the bounded waits (here 1.5 s a reply, 1.5 s to select a server), long
    before the database thaws; then everything works again."""
    bounded = {
        "MONGODB_SOCKET_TIMEOUT_MS": "1500",
        "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "1500",
        "MONGODB_CONNECT_TIMEOUT_MS": "1000",
        "MONGODB_WAIT_QUEUE_TIMEOUT_MS": "1000",
    }
    with database_server() as server:
        with running_service(tmp_path / "service.log", MONGODB_URI=server.db_uri("faults_frozen"), **bounded) as base:
            me = sign_up_and_in(base, "frozen")
            with ThreadPoolExecutor(8) as pool:  # warm the pool: every request below finds open connections
                list(pool.map(lambda _: requests.get(f"{base}/users/me", headers=me, timeout=30), range(16)))
            server.freeze()
            try:
                with ThreadPoolExecutor(8) as pool:
                    # The client gives up after 20 s; unbounded, the requests would wait for the thaw.
                    answers = list(pool.map(lambda path: requests.get(f"{base}{path}", headers=me, timeout=20), ["/users/me"] * 6 + ["/ready"] * 2))
            finally:
                server.thaw()
            print("frozen answers (s):", [round(a.elapsed.total_seconds(), 1) for a in answers])
            assert [a.status_code for a in answers] == [503] * 8
            assert all(a.headers["Retry-After"] == "5" for a in answers)
            assert requests.get(f"{base}/users/me", headers=me, timeout=30).status_code == 200
            assert requests.get(f"{base}/ready", timeout=30).status_code == 200


@override_settings(MONGODB_DURABLE_WRITES=True)
def test_sigkill_of_the_embedded_database_loses_no_acknowledged_write(tmp_path):
    """The embedded server exactly as config/embedded_mongodb.py starts it, the service's own
    write concern (config/mongo.py), four writers inserting as fast as they can; SIGKILL of the
    server in the middle, restart on the same data: every write that was acknowledged is there.
    (bench/durability.py runs the same longer, with and without `--sync-on-commit`.)"""
    server = EmbeddedServer(port=free_port(), data_dir=tmp_path / "mongodb")
    pid, started = server.ensure_running()
    assert started
    acknowledged: list[int] = []
    stop = threading.Event()
    options = mongo.client_options("")
    options.update(serverSelectionTimeoutMS=2000, socketTimeoutMS=2000, retryWrites=False)

    def writer(offset: int) -> None:
        client = pymongo.MongoClient(server.uri, **options)
        collection = client["durability"]["writes"]
        n = offset
        try:
            while not stop.is_set():
                try:
                    collection.insert_one({"_id": n})
                except pymongo.errors.PyMongoError:
                    return
                acknowledged.append(n)
                n += 4
        finally:
            client.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        while len(acknowledged) < 300:
            time.sleep(0.05)
            assert any(t.is_alive() for t in threads), "the writers stopped before the kill"
        os.kill(pid, signal.SIGKILL)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    server.pid_file.unlink(missing_ok=True)
    server.ensure_running()
    try:
        with pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=10000) as client:
            stored = set(client["durability"]["writes"].distinct("_id"))
        lost = [n for n in acknowledged if n not in stored]
        assert len(acknowledged) >= 300
        assert lost == [], f"{len(lost)} of {len(acknowledged)} acknowledged writes lost"
    finally:
        server.stop()
