"""A passkey as the second factor of a password login, beside TOTP, over HTTP."""
from accounts.users.documents import AuditEvent
from tests.conftest import PASSWORD
from tests.two_factor_helpers import code_at, enrol

from accounts.mfa.passkeys.tests.conftest import passkey_add


def _password_login(api, email="alice@example.com"):
    response = api.post("/login", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200 and response.data["mfa_required"] is True
    return response.data


def _passkey_answer(api, authenticator, mfa_token, **kwargs):
    options = api.post("/auth/mfa/webauthn/options", {"mfa_token": mfa_token}, format="json")
    assert options.status_code == 200, options.data
    return options.data["ceremony"], authenticator.get(options.data["publicKey"], **kwargs)


def test_a_user_with_totp_and_a_passkey_can_use_either(api, user, authenticator):
    secret, _ = enrol(user)
    passkey_add(user, authenticator)
    # The login lists the factors (the contract's keys are kept; mfa_methods is added).
    answer = _password_login(api)
    assert answer["message"] == "Two-factor code required." and answer["mfa_methods"] == ["totp", "webauthn", "recovery_code"]
    assert "access" not in answer and "user_id" not in answer
    # With the passkey.
    ceremony, credential = _passkey_answer(api, authenticator, answer["mfa_token"])
    response = api.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "ceremony": ceremony, "credential": credential}, format="json")
    assert response.status_code == 200 and response.data["message"] == "Login successful" and response.data["access"]
    assert AuditEvent.objects(action="login", detail__factor="webauthn").count() == 1
    # The mfa_token is spent.
    assert api.post("/auth/mfa/webauthn/options", {"mfa_token": answer["mfa_token"]}, format="json").status_code == 401
    # With TOTP, on the next login.
    answer = _password_login(api)
    response = api.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "code": code_at(secret)}, format="json")
    assert response.status_code == 200 and response.data["access"]


def test_without_a_passkey_the_methods_are_totps(api, user):
    enrol(user)
    answer = _password_login(api)
    assert answer["mfa_methods"] == ["totp", "recovery_code"]
    response = api.post("/auth/mfa/webauthn/options", {"mfa_token": answer["mfa_token"]}, format="json")
    assert response.status_code == 400 and "mfa_token" in response.data


def test_a_refused_or_replayed_passkey_answer_is_400_and_keeps_the_mfa_token(api, user, authenticator):
    enrol(user)
    passkey_add(user, authenticator)
    answer = _password_login(api)
    ceremony, credential = _passkey_answer(api, authenticator, answer["mfa_token"], origin="https://evil.example.net")
    response = api.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "ceremony": ceremony, "credential": credential}, format="json")
    assert response.status_code == 400 and "origin" in response.data["credential"][0]
    assert AuditEvent.objects(action="login_failed", detail__factor="webauthn").count() == 1
    # The same token still works with a good answer; then that answer is not accepted again.
    ceremony, credential = _passkey_answer(api, authenticator, answer["mfa_token"])
    body = {"mfa_token": answer["mfa_token"], "ceremony": ceremony, "credential": credential}
    assert api.post("/auth/mfa", body, format="json").status_code == 200
    second = _password_login(api)
    replayed = api.post("/auth/mfa", {**body, "mfa_token": second["mfa_token"]}, format="json")
    assert replayed.status_code == 400 and "ceremony" in replayed.data


def test_a_ceremony_is_bound_to_its_mfa_token(api, user, authenticator):
    enrol(user)
    passkey_add(user, authenticator)
    first, second = _password_login(api), _password_login(api)
    ceremony, credential = _passkey_answer(api, authenticator, first["mfa_token"])
    response = api.post("/auth/mfa", {"mfa_token": second["mfa_token"], "ceremony": ceremony, "credential": credential}, format="json")
    assert response.status_code == 400 and "ceremony" in response.data


def test_a_cloned_authenticator_is_refused_as_second_factor(api, user, authenticator):
    enrol(user)
    passkey_add(user, authenticator)
    copy = authenticator.clone()
    answer = _password_login(api)
    ceremony, credential = _passkey_answer(api, authenticator, answer["mfa_token"])
    assert api.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "ceremony": ceremony, "credential": credential}, format="json").status_code == 200
    answer = _password_login(api)
    ceremony, credential = _passkey_answer(api, copy, answer["mfa_token"])
    response = api.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "ceremony": ceremony, "credential": credential}, format="json")
    assert response.status_code == 400
    assert AuditEvent.objects(action="passkey_clone_suspected", detail__factor="webauthn").count() == 1


def test_another_accounts_passkey_is_no_second_factor(api, user, other, authenticator):
    from accounts.mfa.passkeys.tests.authenticator import SoftAuthenticator

    enrol(user)
    passkey_add(user, authenticator)
    bobs = SoftAuthenticator(origin=authenticator.origin)
    passkey_add(other, bobs)
    answer = _password_login(api)
    options = api.post("/auth/mfa/webauthn/options", {"mfa_token": answer["mfa_token"]}, format="json").data
    credential = bobs.get({**options["publicKey"], "allowCredentials": []})
    response = api.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "ceremony": options["ceremony"], "credential": credential}, format="json")
    assert response.status_code == 400


def test_a_passkey_login_needs_no_second_factor(api, user, authenticator):
    enrol(user)
    passkey_add(user, authenticator)
    options = api.post("/auth/passkey/options", {}, format="json").data
    response = api.post("/auth/passkey", {"ceremony": options["ceremony"], "credential": authenticator.get(options["publicKey"])}, format="json")
    assert response.status_code == 200 and response.data["access"] and "mfa_token" not in response.data


def test_the_mfa_body_takes_one_factor(api):
    for body in ({"mfa_token": "t"}, {"mfa_token": "t", "code": "123456", "ceremony": "c", "credential": {}}, {"mfa_token": "t", "ceremony": "c"}):
        assert api.post("/auth/mfa", body, format="json").status_code == 400
