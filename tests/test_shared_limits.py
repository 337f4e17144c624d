"""Rate limits hold exactly across threads and processes: they count in MongoDB
(common/throttling.py), not in a per-process cache.

- `limit_hit` under 50 parallel hits on one key allows exactly the limit (one conditional write a
  hit decides; on mongomock and over the wire).
- Two processes of their own, on one server, share one count (over the wire only: mongomock lives
  in one process).
- The service under granian with 3 worker processes (on an embedded database of its own) allows
  exactly the configured register, login and reset-request rates from one address, where a
  per-process counter allowed three times as many.
"""
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from mongoengine.connection import get_db

from common.throttling import WINDOWS, limit_hit, limit_wait
from tests.live_server import running_service

ROOT = Path(__file__).resolve().parents[1]


def test_parallel_hits_on_one_key_allow_exactly_the_limit():
    barrier = threading.Barrier(50)

    def hit(_):
        barrier.wait()
        return limit_hit("parallel-key", 5, 60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        allowed = list(pool.map(hit, range(50)))
    assert allowed.count(True) == 5
    assert 55 <= limit_wait("parallel-key", 5, 60) <= 60
    assert len(get_db()[WINDOWS].find_one()["entries"]) == 5  # a refused hit is not counted


def test_a_key_frees_up_when_its_window_has_passed(monkeypatch):
    import time

    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert [limit_hit("window-key", 2, 10) for _ in range(3)] == [True, True, False]
    clock[0] += 5
    assert limit_hit("window-key", 2, 10) is False
    assert limit_wait("window-key", 2, 10) == pytest.approx(5)
    clock[0] += 5.01
    assert limit_hit("window-key", 2, 10) is True  # the two oldest hits left the window


def test_keys_are_independent():
    assert [limit_hit("key-a", 1, 60), limit_hit("key-b", 1, 60), limit_hit("key-a", 1, 60)] == [True, True, False]


CHILD = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
django.setup()
from config import mongo
mongo.connect()
from common.throttling import limit_hit
sys.stdin.readline()  # both processes start hitting together
print(sum(limit_hit("two-processes", 10, 60) for _ in range(int(sys.argv[1]))))
"""


@pytest.mark.skipif(not settings.MONGODB_URI, reason="two processes need a server they share (mongomock lives in one process)")
def test_two_processes_share_one_count():
    env = {**os.environ, "TEST_MONGODB_URI": settings.MONGODB_URI}
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, "15"], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    allowed = [int(child.communicate(timeout=120)[0].strip().splitlines()[-1]) for child in children]
    assert sum(allowed) == 10, allowed


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
@pytest.mark.own_servers
def test_three_worker_processes_allow_exactly_the_configured_limits(tmp_path):
    rates = {"THROTTLE_REGISTER": "6/min", "THROTTLE_LOGIN": "5/min", "THROTTLE_PASSWORD_RESET": "4/min"}
    with running_service(tmp_path / "server.log", workers=3, **rates) as base:
        with ThreadPoolExecutor(max_workers=6) as pool:
            register = list(
                pool.map(
                    lambda n: _post(f"{base}/users/register", {"username": f"racer{n}", "email": f"racer{n}@example.com", "password": "correct-horse-battery"}),
                    range(18),
                )
            )
            login = list(pool.map(lambda n: _post(f"{base}/login", {"email": "racer0@example.com", "password": "wrong-password-x"}), range(15)))
            reset = list(pool.map(lambda n: _post(f"{base}/auth/password/reset", {"email": f"nobody{n}@example.com"}), range(12)))
    assert register.count(429) == 12 and sorted(set(register) - {429}) == [201], register
    assert login.count(429) == 10, login  # 5 answered (401: wrong password), the rest refused
    assert reset.count(429) == 8 and reset.count(202) == 4, reset


def test_an_attempt_past_the_endpoint_rate_never_touches_the_lock_out_counters():
    """The endpoint's rate is counted first, in order: a refused hit runs none of the lock-out's
    increments, so it cannot hold, even for a moment, a place a concurrent attempt within the
    rate needs (the three-worker test above caught an 11th 429 when it did)."""
    from rest_framework.exceptions import Throttled

    from accounts.users.documents import LoginFailure
    from accounts.users.lockout import login_attempt_reserve
    from common.throttling import RateHit

    rate = RateHit("login-rate-first", 1, 60)
    first = login_attempt_reserve(email_key="first@example.com", ip="10.1.2.3", rate=rate)
    counters = {d["key"]: d["count"] for d in LoginFailure._get_collection().find()}
    assert counters == {first.account_key: 1, first.ip_key: 1}
    with pytest.raises(Throttled):
        login_attempt_reserve(email_key="second@example.com", ip="10.1.2.3", rate=rate)
    after = {d["key"]: d["count"] for d in LoginFailure._get_collection().find()}
    assert after == counters  # no counter of the second account, none raised then given back
