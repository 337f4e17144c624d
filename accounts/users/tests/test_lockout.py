"""Issue 12, item 6 (OWASP ASVS 6.3.1): brute-force protection an attacker cannot turn against the
owner. Failures are counted per (account, address), per address, and account-wide with a much
higher ceiling; each account's window starts at its own first failure. Item 7: PATCH
/users/{id} name and email checks are throttled, and wrong current passwords count as failed logins."""
import time

import pytest

from accounts.users import lockout as throttling
from accounts.users.documents import LoginFailure
from tests.conftest import PASSWORD
from tests.helpers_http import login_attempt as attempt


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 10
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 6
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 300
    return settings


def test_brute_force_from_one_address_is_as_hard_as_before(api, user, limits):
    codes = [attempt(api, user.email, ip="198.51.100.9").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    assert attempt(api, user.email, PASSWORD, ip="198.51.100.9").status_code == 429  # the right one too


def test_the_owner_gets_in_from_an_address_that_has_not_been_failing(api, user, limits):
    for _ in range(5):
        attempt(api, user.email, ip="198.51.100.9")
    assert attempt(api, user.email, PASSWORD, ip="203.0.113.5").status_code == 200


def test_many_addresses_together_reach_the_account_ceiling(api, user, limits):
    for n in range(10):
        assert attempt(api, user.email, ip=f"198.51.100.{n}").status_code == 401
    r = attempt(api, user.email, PASSWORD, ip="203.0.113.5")
    assert r.status_code == 429 and 1 <= int(r["Retry-After"]) <= 300


def test_an_attacker_cannot_keep_the_owner_out_by_timing_windows(api, user, limits, monkeypatch):
    """The old fixed windows let 5 requests at each boundary lock the account for everybody."""
    start = time.time()
    for k in range(6):  # half an hour of an attacker failing at every window's start
        monkeypatch.setattr(throttling.time, "time", lambda k=k: start + k * 300 + 1)
        for _ in range(5):
            attempt(api, user.email, ip="198.51.100.9")
        assert attempt(api, user.email, PASSWORD, ip="203.0.113.5").status_code == 200


def test_the_window_starts_at_the_first_failure(api, user, limits, monkeypatch):
    start = time.time()
    monkeypatch.setattr(throttling.time, "time", lambda: start)
    for _ in range(3):
        attempt(api, user.email)
    monkeypatch.setattr(throttling.time, "time", lambda: start + 299)
    r = attempt(api, user.email, PASSWORD)
    assert r.status_code == 429 and int(r["Retry-After"]) == 1
    monkeypatch.setattr(throttling.time, "time", lambda: start + 301)
    assert attempt(api, user.email, PASSWORD).status_code == 200


def test_one_counter_per_account_holds_no_address_in_clear(api, user, limits):
    attempt(api, user.email, ip="198.51.100.9")
    attempt(api, user.email, ip="198.51.100.10")
    (counter,) = LoginFailure.objects(user=user.id)
    assert counter.count == 2 and "198.51.100" not in repr(counter.to_mongo())


# --- item 7 --------------------------------------------------------------------------------------
def test_wrong_current_passwords_count_as_failed_logins(client_for, api, user, limits):
    client = client_for(user)
    body = {"current_password": "guess", "new_password": "a brand new passphrase"}
    codes = [client.post(f"/users/{user.id}/password", body, format="json", REMOTE_ADDR="198.51.100.9").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    right = {**body, "current_password": PASSWORD}
    assert client.post(f"/users/{user.id}/password", right, format="json", REMOTE_ADDR="198.51.100.9").status_code == 429
    assert attempt(api, user.email, PASSWORD, ip="198.51.100.9").status_code == 429


def test_the_password_change_still_works_from_a_clean_address(client_for, user, limits):
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    assert client_for(user).post(f"/users/{user.id}/password", body, format="json").status_code == 204


@pytest.mark.parametrize("field, values", [("email", [f"c{n}@example.com" for n in range(4)]), ("username", [f"cand{n}" for n in range(4)])])
def test_name_and_email_checks_on_patch_are_throttled(client_for, user, monkeypatch, field, values):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "identity_change": "3/hour"})
    client = client_for(user)
    # The owner's email change also carries the current password (API.md, "Email").
    codes = [client.patch(f"/users/{user.id}", {field: v, "current_password": PASSWORD}, format="json").status_code for v in values]
    assert codes == [200, 200, 200, 429]


def test_patches_without_name_or_email_are_not_counted(client_for, admin, user, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "identity_change": "1/hour"})
    client = client_for(admin)
    for role in ("admin", "user", "admin"):
        assert client.patch(f"/users/{user.id}", {"role": role}, format="json").status_code == 200
