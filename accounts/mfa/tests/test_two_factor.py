"""TOTP two-factor (API.md, "Sessions and two-factor"): enrolment in two steps, login with a code
or a recovery code, single use of codes and of the mfa_token, lock-out, turning it off,
regenerating recovery codes, an admin's reset, the secret encrypted at rest and never shown."""
import logging
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.mfa import factors, two_factor
from accounts.users.documents import AuditEvent, User
from accounts.mfa.documents import TotpDevice
from tests.conftest import PASSWORD
from tests.two_factor_helpers import code_at, enrol

MFA_KEYS = {"message", "mfa_required", "mfa_token", "mfa_methods"}  # mfa_methods: added with passkeys (API.md)
LOGIN_KEYS = {"message", "user_id", "access", "refresh"}


def login(email, password=PASSWORD):
    return APIClient().post("/login", {"email": email, "password": password}, format="json")


def mfa(body):
    return APIClient().post("/auth/mfa", body, format="json")


def mfa_token(user) -> str:
    r = login(user.email)
    assert r.status_code == 200 and set(r.json()) == MFA_KEYS, r.content
    return r.json()["mfa_token"]


# --- enrolment ----------------------------------------------------------------------------------
def test_enrolment_in_two_steps_with_an_authenticators_code(user, client_for):
    client = client_for(user)
    r = client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    secret, uri = r.json()["secret"], r.json()["otpauth_uri"]
    assert set(r.json()) == {"secret", "otpauth_uri"}
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp" and parse_qs(parsed.query)["secret"] == [secret]
    assert user.email in parsed.path.replace("%40", "@")
    # Not on until confirmed: login still gives tokens.
    assert set(login(user.email).json()) == LOGIN_KEYS
    assert client.get(f"/users/{user.id}").json()["mfa_enabled"] is False
    # The app computes the code from the URI alone.
    code = pyotp.parse_uri(uri).now()
    r = client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": code}, format="json")
    assert r.status_code == 200, r.content
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 == len(set(codes))
    assert client.get(f"/users/{user.id}").json()["mfa_enabled"] is True
    # Stored: the secret encrypted, the codes hashed.
    device = TotpDevice._get_collection().find_one({"user": user.id})
    assert secret not in str(device) and not any(c in str(device) or c.replace("-", "") in str(device) for c in codes)
    assert factors.secret_decrypt(device["secret"]) == secret
    assert AuditEvent.objects(action="mfa_enabled", target=user.id).count() == 1


def test_enrolment_needs_the_password_and_the_right_code(user, client_for):
    client = client_for(user)
    assert client.post(f"/users/{user.id}/mfa/totp", {"current_password": "wrong"}, format="json").status_code == 400
    assert client.post(f"/users/{user.id}/mfa/totp", {}, format="json").status_code == 400
    assert client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": "123456"}, format="json").status_code == 400  # not started
    secret = client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").json()["secret"]
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    r = client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": wrong}, format="json")
    assert r.status_code == 400 and "code" in r.json()
    for bad in ("12345", "1234567", "abcdef", "", None, 123456):
        assert client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": bad}, format="json").status_code == 400
    # Starting again replaces the pending secret: the first one's codes no longer confirm.
    second = client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").json()["secret"]
    assert second != secret and TotpDevice.objects(user=user.id).count() == 1
    assert client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": "".join(code_at(second))}, format="json").status_code == 200
    # On now: starting or confirming again is a 409.
    assert client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").status_code == 409
    assert client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": code_at(second)}, format="json").status_code == 409


def test_codes_with_a_space_as_apps_show_them_are_accepted(user, client_for):
    secret = client_for(user).post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").json()["secret"]
    code = code_at(secret)
    r = client_for(user).post(f"/users/{user.id}/mfa/totp/confirm", {"code": f"{code[:3]} {code[3:]}"}, format="json")
    assert r.status_code == 200, r.content


def test_only_the_owner_manages_two_factor_and_only_admins_reset_it(user, other, admin, client_for):
    body = {"current_password": PASSWORD}
    for client in (client_for(other), client_for(admin)):
        assert client.post(f"/users/{user.id}/mfa/totp", body, format="json").status_code == 403
        assert client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": "123456"}, format="json").status_code == 403
        assert client.delete(f"/users/{user.id}/mfa/totp", body, format="json").status_code == 403
        assert client.post(f"/users/{user.id}/mfa/recovery_codes", body, format="json").status_code == 403
    assert client_for(None).post(f"/users/{user.id}/mfa/totp", body, format="json").status_code == 401
    assert client_for(user).delete(f"/users/{user.id}/mfa").status_code == 403
    assert client_for(other).delete(f"/users/{user.id}/mfa").status_code == 403
    assert client_for(admin).delete(f"/users/{'f' * 24}/mfa").status_code == 404


# --- login with a second factor ---------------------------------------------------------------
def test_login_with_password_then_code(user):
    secret, _ = enrol(user)
    r = login(user.email)
    assert r.status_code == 200
    assert r.json()["message"] == "Two-factor code required." and r.json()["mfa_required"] is True
    assert "access" not in r.json() and "refresh" not in r.json() and "user_id" not in r.json()
    r = mfa({"mfa_token": r.json()["mfa_token"], "code": code_at(secret)})
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == LOGIN_KEYS and body["message"] == "Login successful" and body["user_id"] == str(user.id)
    assert APIClient().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}").status_code == 200
    assert "sid" in RefreshToken(body["refresh"])
    assert AuditEvent.objects(action="login", target=user.id, detail__factor="totp").count() == 1


def test_login_with_a_recovery_code_which_then_fails_a_second_time(user):
    _, codes = enrol(user)
    r = mfa({"mfa_token": mfa_token(user), "recovery_code": codes[3].upper()})  # any case
    assert r.status_code == 200 and set(r.json()) == LOGIN_KEYS
    again = mfa({"mfa_token": mfa_token(user), "recovery_code": codes[3]})
    assert again.status_code == 400 and "recovery_code" in again.json()
    assert mfa({"mfa_token": mfa_token(user), "recovery_code": codes[4].replace("-", "")}).status_code == 200


def test_a_code_is_accepted_once_and_no_older_code_after_it(user):
    secret, _ = enrol(user)
    code = code_at(secret)
    assert mfa({"mfa_token": mfa_token(user), "code": code}).status_code == 200
    assert mfa({"mfa_token": mfa_token(user), "code": code}).status_code == 400  # replay within its window
    # The previous step's code is still inside the drift window but older than the one used.
    assert mfa({"mfa_token": mfa_token(user), "code": code_at(secret, steps=-1)}).status_code == 400
    assert mfa({"mfa_token": mfa_token(user), "code": code_at(secret, steps=-5)}).status_code == 400  # outside the window
    assert mfa({"mfa_token": mfa_token(user), "code": code_at(secret, steps=1)}).status_code == 200  # clock drift ahead


def test_the_mfa_token_is_single_use_short_lived_and_nothing_else(user):
    secret, codes = enrol(user)
    token = mfa_token(user)
    assert mfa({"mfa_token": token, "code": code_at(secret)}).status_code == 200
    r = mfa({"mfa_token": token, "recovery_code": codes[0]})
    assert r.status_code == 401 and "WWW-Authenticate" in r
    # Neither an access token nor a refresh token.
    assert APIClient().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {mfa_token(user)}").status_code == 401
    assert APIClient().post("/auth/refresh", {"refresh": mfa_token(user)}, format="json").status_code == 401
    # Expired.
    expired = two_factor.MfaToken.for_user(user)
    expired["ver"] = user.token_version
    expired.set_exp(lifetime=-timedelta(minutes=1))  # past the JWT leeway too
    assert mfa({"mfa_token": str(expired), "recovery_code": codes[0]}).status_code == 401
    # Forged or garbage.
    for junk in ("x", "a.b.c", token[:-4] + "AAAA"):
        assert mfa({"mfa_token": junk, "recovery_code": codes[0]}).status_code == 401


@override_settings(MFA_TOKEN_SECONDS=1)
def test_the_mfa_token_lifetime_is_a_setting(user):
    enrol(user)
    token = two_factor.MfaToken(mfa_token(user))
    assert token["exp"] - token["iat"] == 1


def test_a_wrong_code_keeps_the_mfa_token_usable(user):
    secret, _ = enrol(user)
    token = mfa_token(user)
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    r = mfa({"mfa_token": token, "code": wrong})
    assert r.status_code == 400 and r.json() == {"code": ["Invalid code."]}
    assert mfa({"mfa_token": token, "code": code_at(secret)}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"code": "123456"}, {"mfa_token": "x"}, {"mfa_token": "x", "code": "123456", "recovery_code": "abcd"}, {"mfa_token": "x", "code": "12"}],
)
def test_bad_second_step_input_is_400(body):
    assert mfa(body).status_code == 400


def test_wrong_codes_count_toward_the_lock_out(user, settings):
    secret, codes = enrol(user)
    token = mfa_token(user)
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert mfa({"mfa_token": token, "code": wrong}).status_code == 400
    # Locked out: even the right code (or the password) waits for the window to pass.
    assert mfa({"mfa_token": token, "code": code_at(secret)}).status_code == 429
    assert login(user.email).status_code == 429
    assert AuditEvent.objects(action="login_failed", target=user.id, detail__factor="totp").count() == settings.LOGIN_FAILURE_LIMIT


def test_the_password_alone_does_not_clear_the_failure_count(user, settings):
    secret, _ = enrol(user)
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert mfa({"mfa_token": mfa_token(user), "code": wrong}).status_code == 400
    assert mfa({"mfa_token": mfa_token(user), "code": wrong}).status_code == 400
    assert login(user.email).status_code == 429


def test_a_trashed_or_deleted_user_cannot_finish_the_login(user, admin):
    from accounts.admin import trash

    secret, _ = enrol(user)
    token = mfa_token(user)
    trash.user_trash(user=user, actor=admin, reason="spam")
    assert mfa({"mfa_token": token, "code": code_at(secret)}).status_code == 401


# --- races --------------------------------------------------------------------------------------
def race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i):
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def post_mfa(body):
    return lambda: Client().post("/auth/mfa", body, content_type="application/json").status_code


def test_one_code_raced_from_many_logins_is_accepted_once(user):
    secret, _ = enrol(user)
    code = code_at(secret)
    codes = race([post_mfa({"mfa_token": mfa_token(user), "code": code}) for _ in range(6)])
    # Accepted once. The lock-out reserves each attempt before the code is checked, so on a real
    # server an attempt past its limit (5 in flight from one address) may be refused with 429.
    assert codes.count(200) == 1 and set(codes) - {200} <= {400, 429}, codes


def test_one_recovery_code_raced_is_accepted_once(user):
    _, recovery = enrol(user)
    codes = race([post_mfa({"mfa_token": mfa_token(user), "recovery_code": recovery[0]}) for _ in range(6)])
    assert codes.count(200) == 1 and set(codes) - {200} <= {400, 429}, codes  # as above


def test_one_mfa_token_raced_gives_one_session(user):
    _, recovery = enrol(user)
    token = mfa_token(user)
    codes = race([post_mfa({"mfa_token": token, "recovery_code": recovery[i]}) for i in range(6)])
    assert sorted(codes) == [200] + [401] * 5, codes
    assert len(User.objects.get(id=user.id).session_ids) == 1


# --- turning it off, new recovery codes, an admin's reset --------------------------------------
def test_turning_it_off_needs_the_password(user, client_for):
    enrol(user)
    client = client_for(user)
    assert client.delete(f"/users/{user.id}/mfa/totp", {"current_password": "wrong"}, format="json").status_code == 400
    assert set(login(user.email).json()) == MFA_KEYS
    assert client.delete(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").status_code == 204
    assert set(login(user.email).json()) == LOGIN_KEYS
    assert TotpDevice.objects(user=user.id).count() == 0 and client.get(f"/users/{user.id}").json()["mfa_enabled"] is False
    assert AuditEvent.objects(action="mfa_disabled", target=user.id).count() == 1
    # Safe to repeat, and it can be turned on again.
    assert client.delete(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").status_code == 204
    assert client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").status_code == 200


def test_new_recovery_codes_replace_the_old_ones(user, client_for):
    _, old = enrol(user)
    client = client_for(user)
    assert client.post(f"/users/{user.id}/mfa/recovery_codes", {"current_password": "wrong"}, format="json").status_code == 400
    r = client.post(f"/users/{user.id}/mfa/recovery_codes", {"current_password": PASSWORD}, format="json")
    assert r.status_code == 200 and len(r.json()["recovery_codes"]) == 10
    new = r.json()["recovery_codes"]
    assert mfa({"mfa_token": mfa_token(user), "recovery_code": old[0]}).status_code == 400
    assert mfa({"mfa_token": mfa_token(user), "recovery_code": new[0]}).status_code == 200


def test_new_recovery_codes_need_two_factor_on(user, client_for):
    r = client_for(user).post(f"/users/{user.id}/mfa/recovery_codes", {"current_password": PASSWORD}, format="json")
    assert r.status_code == 409


def test_an_admin_resets_a_users_two_factor(user, admin, client_for):
    enrol(user)
    assert client_for(admin).delete(f"/users/{user.id}/mfa").status_code == 204
    assert set(login(user.email).json()) == LOGIN_KEYS
    event = AuditEvent.objects.get(action="mfa_reset")
    assert event.actor_id == admin.id and event.target.id == user.id
    assert TotpDevice.objects(user=user.id).count() == 0


# --- the secret at rest ---------------------------------------------------------------------------
def test_the_secret_is_encrypted_with_the_configured_keys_and_rotates(user, settings):
    from cryptography.fernet import Fernet

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MFA_ENCRYPTION_KEYS = [old_key]
    secret, _ = enrol(user)
    stored = TotpDevice._get_collection().find_one({"user": user.id})["secret"]
    assert Fernet(old_key).decrypt(stored.encode()).decode() == secret
    # A new key first, the old one kept: old secrets still work.
    settings.MFA_ENCRYPTION_KEYS = [new_key, old_key]
    assert mfa({"mfa_token": mfa_token(user), "code": code_at(secret)}).status_code == 200
    # The old key gone: no code matches (a 400, not a 500).
    settings.MFA_ENCRYPTION_KEYS = [new_key]
    assert mfa({"mfa_token": mfa_token(user), "code": code_at(secret, steps=1)}).status_code == 400


def test_no_secret_or_recovery_code_in_logs_or_other_responses(user, admin, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(user)
    start = client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").json()
    secret = start["secret"]
    codes = client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": code_at(secret)}, format="json").json()["recovery_codes"]
    bodies = [
        client.get(f"/users/{user.id}").content,
        client.get(f"/users/{user.id}/export").content,
        client.get("/users/me").content,
        client_for(admin).get(f"/users/{user.id}/export").content,
        client_for(admin).get("/users").content,
        login(user.email).content,
    ]
    mfa({"mfa_token": mfa_token(user), "recovery_code": codes[0]})
    text = b"\n".join(bodies).decode() + "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in text and secret.lower() not in text
    assert not any(code in text or code.replace("-", "") in text for code in codes)


# --- round trips ----------------------------------------------------------------------------------
def test_round_trips_of_confirm_and_of_the_second_step(user, client_for, round_trips):
    client = client_for(user)
    client.get("/health")  # index creation stays out of the counts
    secret = client.post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").json()["secret"]
    with round_trips() as confirm:
        r = client.post(f"/users/{user.id}/mfa/totp/confirm", {"code": code_at(secret, steps=-1)}, format="json")
    assert r.status_code == 200
    confirm = (confirm.count, confirm.commands)  # the fixture's counter is reused below
    token = mfa_token(user)
    with round_trips() as second:
        r = mfa({"mfa_token": token, "code": code_at(secret)})
    assert r.status_code == 200
    print(f"confirm {confirm}\nsecond step {second.count} {second.commands}")
    # Authentication, the caller's `reauth` rate (in MongoDB), the pending device (its attempts
    # counted), confirming it, the user's flag, the audit record, the owner guard's proof that
    # the user remains (accounts/users/guard.py), the mfa.enabled event and the security
    # notice's mail job (both in the outbox, accounts/events/).
    assert confirm[0] <= 9, confirm
    # The rate limit's hit (in MongoDB), the user, the spent mfa_token claimed first, the daily
    # cap's window (restarted if stale, then the device read with its count raised), the lock-out's
    # counters, the last step, the cap's reservation given back, the audit record, and the session
    # (its document, the live ones, its id on the user: the owner guard's proof of them all), the
    # lock-out's reservation handed back.
    assert second.count <= 16, second.commands  # + the owner guard's reads for the spent token, the counter and the audit event


def test_two_confirms_raced_turn_it_on_once(user, client_for):
    secret = client_for(user).post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").json()["secret"]
    code = code_at(secret)
    header = client_for(user)._credentials["HTTP_AUTHORIZATION"]
    path = f"/users/{user.id}/mfa/totp/confirm"
    codes = race([lambda: Client().post(path, {"code": code}, content_type="application/json", HTTP_AUTHORIZATION=header).status_code] * 4)
    assert sorted(codes) == [200, 409, 409, 409], codes
    assert AuditEvent.objects(action="mfa_enabled").count() == 1


def test_a_crash_between_confirming_and_the_users_flag_is_mended_by_an_admin_reset(user, admin, client_for):
    secret, _ = enrol(user)
    User.objects(id=user.id).update_one(set__mfa_enabled=False)  # as if the flag's write was lost
    r = client_for(user).post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json")
    assert r.status_code == 409
    assert client_for(admin).delete(f"/users/{user.id}/mfa").status_code == 204
    assert client_for(user).post(f"/users/{user.id}/mfa/totp", {"current_password": PASSWORD}, format="json").status_code == 200


# --- documentation ------------------------------------------------------------------------------
def test_the_schema_and_the_browsable_api_show_the_session_and_two_factor_endpoints(api, user, client_for):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path, methods in {
        "/users/{user_id}/sessions": {"get", "delete"},
        "/users/{user_id}/sessions/{session_id}": {"delete"},
        "/users/{user_id}/mfa/totp": {"post", "delete"},
        "/users/{user_id}/mfa/totp/confirm": {"post"},
        "/users/{user_id}/mfa/recovery_codes": {"post"},
        "/users/{user_id}/mfa": {"delete"},
        "/auth/mfa": {"post"},
    }.items():
        assert methods <= set(paths[path]), path
    assert api.get("/api/docs/").status_code == 200
    client = client_for(user)
    page = client.get(f"/users/{user.id}/sessions", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and "Sessions" in page.content.decode()
    form = client.get(f"/users/{user.id}/mfa/totp", HTTP_ACCEPT="text/html")  # 405, with the POST form
    assert "current_password" in form.content.decode()
    assert "mfa_token" in APIClient().get("/auth/mfa", HTTP_ACCEPT="text/html").content.decode()
    sid = RefreshToken(login(user.email).json()["refresh"])["sid"]
    for suffix in ("sessions", f"sessions/{sid}", "mfa", "mfa/totp", "mfa/totp/confirm", "mfa/recovery_codes"):
        for method in ("get", "options"):
            r = getattr(client, method)(f"/users/{user.id}/{suffix}", HTTP_ACCEPT="text/html")
            assert r.status_code < 500, (suffix, method, r.status_code)
