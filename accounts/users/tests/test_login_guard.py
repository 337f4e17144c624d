"""Brute-force protection: failed logins counted in MongoDB per account and per address."""
import time

import pytest

from accounts.users import lockout
from accounts.users.documents import AuditEvent, LoginFailure
from tests.conftest import PASSWORD
from tests.helpers_http import login_attempt as attempt


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 6
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 300
    return settings


def test_account_is_throttled_after_the_limit_even_with_the_right_password(api, user, limits):
    for _ in range(3):
        assert attempt(api, user.email).status_code == 401
    r = attempt(api, user.email, PASSWORD)
    assert r.status_code == 429
    assert 1 <= int(r["Retry-After"]) <= 300
    assert "detail" in r.json()


def test_unknown_emails_are_counted_too(api, limits):
    for _ in range(3):
        assert attempt(api, "ghost@example.com").status_code == 401
    assert attempt(api, "ghost@example.com").status_code == 429


def test_counting_ignores_case_of_the_email(api, user, limits):
    for email in ("ALICE@example.com", "alice@EXAMPLE.com", "Alice@Example.Com"):
        attempt(api, email)
    assert attempt(api, user.email, PASSWORD).status_code == 429


def test_one_address_is_limited_across_accounts(api, make_user, limits):
    for n in range(6):
        attempt(api, f"nobody{n}@example.com", ip="10.9.9.9")
    fresh = make_user("carol", "carol@example.com")
    assert attempt(api, fresh.email, PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(api, fresh.email, PASSWORD, ip="10.9.9.10").status_code == 200


def test_success_clears_the_account_counter(api, user, limits):
    attempt(api, user.email)
    attempt(api, user.email)
    assert attempt(api, user.email, PASSWORD).status_code == 200
    attempt(api, user.email)
    attempt(api, user.email)
    assert attempt(api, user.email, PASSWORD).status_code == 200


def test_a_lockout_ends_with_its_window(api, user, limits, monkeypatch):
    for _ in range(3):
        attempt(api, user.email)
    assert attempt(api, user.email, PASSWORD).status_code == 429
    later = time.time() + 301
    monkeypatch.setattr(lockout.time, "time", lambda: later)
    assert attempt(api, user.email, PASSWORD).status_code == 200


@pytest.mark.secantus_defect("a compiled regex (MongoEngine's __startswith) on an indexed field matches nothing")
def test_counters_expire_by_ttl_and_reference_the_user(api, user, limits):
    attempt(api, user.email)
    counter = LoginFailure.objects(key__startswith="account:").first()
    assert counter.count == 1 and counter.user.id == user.id
    assert counter.expires_at.timestamp() > time.time()
    indexes = LoginFailure._get_collection().index_information()
    assert any(spec.get("expireAfterSeconds") == 0 for spec in indexes.values())


def test_failed_and_successful_logins_are_audited_without_secrets(api, user):
    attempt(api, user.email, ip="10.1.1.1")
    attempt(api, user.email, PASSWORD, ip="10.1.1.1")
    failed = AuditEvent.objects(action="login_failed").first()
    ok = AuditEvent.objects(action="login").first()
    assert failed.target.id == user.id and failed.ip == "10.1.1.1"
    assert ok.actor_id == user.id
    for event in AuditEvent._get_collection().find():
        assert PASSWORD not in str(event)


def test_drf_throttles_on_login_and_register(api, user, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    # THROTTLE_RATES is read when the class is defined; MongoDB keeps the counts.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min", "register": "2/min"})
    codes = [attempt(api, user.email, PASSWORD, ip="10.5.5.5").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    bodies = [{"username": f"new{n}", "email": f"n{n}@example.com", "password": PASSWORD} for n in range(3)]
    codes = [api.post("/users/register", b, format="json", REMOTE_ADDR="10.5.5.6").status_code for b in bodies]
    assert codes == [201, 201, 429]


def test_refresh_has_its_own_throttle_budget(api, user, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "1/min", "register": "1/min", "token": "3/min"})
    tokens = attempt(api, user.email, PASSWORD, ip="10.7.7.7").json()
    assert attempt(api, user.email, PASSWORD, ip="10.7.7.7").status_code == 429
    refresh = tokens["refresh"]
    codes = []
    for _ in range(4):
        r = api.post("/auth/refresh", {"refresh": refresh}, format="json", REMOTE_ADDR="10.7.7.7")
        codes.append(r.status_code)
        refresh = r.json().get("refresh", refresh)
    assert codes == [200, 200, 200, 429]
