"""The production hasher: Argon2id with its parameters from the settings, on a bounded pool of
low-priority threads, interchangeable with Django's Argon2; older hashes upgraded at login."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import argon2
import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher
from django.core import checks

from accounts.users import hashers
from accounts.users.documents import User
from accounts.users.hashers import LowPriorityArgon2PasswordHasher, argon2_meets_owasp_floor, argon2_parameters_check

LIGHT = {"PASSWORD_ARGON2_TIME_COST": 1, "PASSWORD_ARGON2_MEMORY_KIB": 1024, "PASSWORD_ARGON2_PARALLELISM": 1}
PREFER_ARGON2 = ["accounts.users.hashers.LowPriorityArgon2PasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]


def params(encoded: str) -> argon2.Parameters:
    return argon2.extract_parameters("$" + encoded.split("$", 1)[1])


def test_defaults_meet_owasp_floor():
    from config.settings import base

    assert (base.PASSWORD_ARGON2_TIME_COST, base.PASSWORD_ARGON2_MEMORY_KIB, base.PASSWORD_ARGON2_PARALLELISM) == (3, 12288, 1)
    assert argon2_meets_owasp_floor(time_cost=base.PASSWORD_ARGON2_TIME_COST, memory_kib=base.PASSWORD_ARGON2_MEMORY_KIB)
    assert argon2_meets_owasp_floor(time_cost=1, memory_kib=47104)
    assert not argon2_meets_owasp_floor(time_cost=1, memory_kib=19456)
    assert not argon2_meets_owasp_floor(time_cost=2, memory_kib=19455)


def test_parameters_come_from_the_settings_and_hashes_are_django_argon2id(settings):
    settings.PASSWORD_ARGON2_TIME_COST, settings.PASSWORD_ARGON2_MEMORY_KIB, settings.PASSWORD_ARGON2_PARALLELISM = 3, 2048, 2
    ours, django = LowPriorityArgon2PasswordHasher(), Argon2PasswordHasher()
    encoded = ours.encode("a long river stone", ours.salt())
    assert encoded.startswith("argon2$argon2id$")
    got = params(encoded)
    assert (got.time_cost, got.memory_cost, got.parallelism, got.type) == (3, 2048, 2, argon2.Type.ID)
    assert django.verify("a long river stone", encoded)
    assert not ours.verify("another stone", encoded)
    assert not ours.must_update(encoded)
    settings.PASSWORD_ARGON2_MEMORY_KIB = 4096
    assert ours.must_update(encoded)  # made with other parameters: re-hashed at the next login


def test_a_hash_with_djangos_defaults_verifies_and_is_upgraded_at_login(api, make_user, settings):
    """Hashes stored before these settings (Django's defaults: 100 MiB, t=2, p=8) keep working, and
    the owner's next login stores a hash with the current parameters."""
    settings.PASSWORD_HASHERS = PREFER_ARGON2
    for name, value in LIGHT.items():
        setattr(settings, name, value)
    user = make_user(username="stone", email="stone@example.com")
    old = Argon2PasswordHasher().encode("correct-horse-battery-staple", Argon2PasswordHasher().salt())
    assert (params(old).memory_cost, params(old).time_cost, params(old).parallelism) == (102400, 2, 8)
    User.objects(id=user.id).update_one(set__password=old)

    r = api.post("/login", {"email": "stone@example.com", "password": "correct-horse-battery-staple"}, format="json")
    assert r.status_code == 200, r.content
    stored = User.objects.get(id=user.id).password
    assert stored != old and identify_hasher(stored).algorithm == "argon2"
    assert (params(stored).memory_cost, params(stored).time_cost, params(stored).parallelism) == (1024, 1, 1)
    # The upgraded hash works, and is not re-hashed again.
    r = api.post("/login", {"email": "stone@example.com", "password": "correct-horse-battery-staple"}, format="json")
    assert r.status_code == 200, r.content
    assert User.objects.get(id=user.id).password == stored


def test_a_wrong_password_against_an_old_hash_changes_nothing(api, make_user, settings):
    settings.PASSWORD_HASHERS = PREFER_ARGON2
    for name, value in LIGHT.items():
        setattr(settings, name, value)
    user = make_user(username="pebble", email="pebble@example.com")
    old = Argon2PasswordHasher().encode("correct-horse-battery-staple", Argon2PasswordHasher().salt())
    User.objects(id=user.id).update_one(set__password=old)
    r = api.post("/login", {"email": "pebble@example.com", "password": "wrong-horse-battery-staple"}, format="json")
    assert r.status_code == 401
    assert User.objects.get(id=user.id).password == old


@pytest.fixture
def fresh_pool():
    """The pool is made once per process with the thread count of that moment: start a new one."""
    hashers._pool = None
    yield
    hashers._pool = None


def test_at_most_hashing_threads_hashes_run_at_once(settings, fresh_pool, monkeypatch):
    """The memory bound: however many logins hash together, at most PASSWORD_HASHING_THREADS
    Argon2 computations (each holding PASSWORD_ARGON2_MEMORY_KIB) are under way at once."""
    settings.PASSWORD_HASHING_THREADS = 2
    for name, value in LIGHT.items():
        setattr(settings, name, value)
    running, most, lock = 0, 0, threading.Lock()
    real = Argon2PasswordHasher.encode

    def counted(self, password, salt):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough for the other callers to pile up
            return real(self, password, salt)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(Argon2PasswordHasher, "encode", counted)
    hasher = LowPriorityArgon2PasswordHasher()
    with ThreadPoolExecutor(8) as pool:
        encoded = list(pool.map(lambda n: hasher.encode(f"password {n}", hasher.salt()), range(8)))
    assert most == 2
    assert all(hasher.verify(f"password {n}", e) for n, e in enumerate(encoded))


def test_check_warns_below_owasp_floor_and_refuses_nonsense(settings):
    settings.PASSWORD_HASHERS = PREFER_ARGON2
    settings.PASSWORD_ARGON2_TIME_COST, settings.PASSWORD_ARGON2_MEMORY_KIB, settings.PASSWORD_ARGON2_PARALLELISM = 2, 19456, 1
    assert argon2_parameters_check() == []
    settings.PASSWORD_ARGON2_MEMORY_KIB = 8192
    assert [m.id for m in argon2_parameters_check()] == ["accounts.W001"]
    settings.PASSWORD_ARGON2_TIME_COST = 0
    found = argon2_parameters_check()
    assert [m.id for m in found] == ["accounts.E001"] and found[0].level == checks.ERROR
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert argon2_parameters_check() == []  # not our hasher: nothing to say
