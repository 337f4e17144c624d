"""Each way a sign-in can be tampered with is refused with a clear 4xx. Some need the provider to
misbehave: the test provider's switch (tests/oidc_provider/validator.py) makes it issue id tokens
for another audience, expired, unsigned (`alg: none`), with another nonce, signed by a stranger's
key, or claiming another issuer; the service must refuse each (Authlib's checks)."""
import secrets
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from accounts.users.documents import User
from accounts.providers.documents import ProviderAuthorization, ProviderIdentity
from tests.oidc_provider.fixtures import CALLBACK, PERSON_PASSWORD, app_code, fragment


def started_and_signed_in(api, provider, someone) -> str:
    """The callback URL (path and query) the provider sends the browser back to."""
    started = api.get("/auth/providers/test/redirect")
    back = provider.sign_in(started["Location"], username=someone.username, password=PERSON_PASSWORD, stop_at=CALLBACK)
    parts = urlsplit(back)
    return f"{parts.path}?{parts.query}"


def test_a_wrong_state_is_a_400(api, provider, person):
    callback = started_and_signed_in(api, provider, person())
    forged = callback.split("state=")[0] + f"state={secrets.token_urlsafe(16)}" + "&" + "&".join(
        p for p in callback.split("?")[1].split("&") if not p.startswith("state=")
    )
    response = api.get(forged)
    assert response.status_code == 400 and "state" in response.json()
    assert api.get("/auth/providers/test/callback?code=x").status_code == 400  # no state at all
    assert User.objects.count() == 0


def test_a_replayed_callback_is_a_400(api, provider, person):
    callback = started_and_signed_in(api, provider, person())
    assert api.get(callback).status_code == 302
    replay = api.get(callback)
    assert replay.status_code == 400 and "state" in replay.json()


def test_a_callback_in_another_browser_is_a_400(api, provider, person):
    """Login CSRF: a victim's browser sent through an attacker's started flow is refused, since
    the flow is bound to the browser (cookie) that started it."""
    callback = started_and_signed_in(api, provider, person())
    other_browser = APIClient()
    response = other_browser.get(callback)
    assert response.status_code == 400
    assert User.objects.count() == 0


def test_a_state_for_another_provider_is_a_400(api, provider, person, settings):
    callback = started_and_signed_in(api, provider, person())
    settings.OIDC_PROVIDERS = settings.OIDC_PROVIDERS + [{**settings.OIDC_PROVIDERS[0], "id": "twin", "name": "Twin"}]
    response = api.get(callback.replace("/providers/test/", "/providers/twin/"))
    assert response.status_code == 400


def test_an_expired_pending_authorization_is_a_400(api, provider, person):
    callback = started_and_signed_in(api, provider, person())
    from datetime import timedelta

    from accounts.users.documents import now

    ProviderAuthorization.objects.update(set__expires_at=now() - timedelta(seconds=1))
    assert api.get(callback).status_code == 400


def test_a_replayed_code_is_a_400(api, provider, person):
    code = app_code(provider, person())
    assert api.post("/auth/providers/test/token", code.body(), format="json").status_code == 200
    replay = api.post("/auth/providers/test/token", code.body(), format="json")
    assert replay.status_code == 400 and "code" in replay.json()


def test_a_code_with_the_wrong_verifier_or_redirect_uri_is_a_400(api, provider, person):
    code = app_code(provider, person())
    wrong = api.post("/auth/providers/test/token", code.body(code_verifier=secrets.token_urlsafe(48)), format="json")
    assert wrong.status_code == 400 and "code" in wrong.json()
    code = app_code(provider, person())
    wrong = api.post("/auth/providers/test/token", code.body(redirect_uri="http://127.0.0.1:9/other"), format="json")
    assert wrong.status_code == 400
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("audience", ("'aud'", "'azp'")),  # issued to another client: its audience (or authorized party)
        ("expired", ("expired_token",)),
        ("none", ("Algorithm of 'none' is not allowed",)),
        ("nonce", ("'nonce'",)),
        ("signature", ("bad_signature",)),
        ("issuer", ("'iss'",)),
    ],
)
def test_a_bad_id_token_is_a_400_and_signs_nobody_in(api, provider, person, mode, reason):
    someone = person()
    code = app_code(provider, someone)
    provider.misbehave(mode)
    response = api.post("/auth/providers/test/token", code.body(), format="json")
    assert response.status_code == 400, response.content
    message = response.json()["id_token"][0]
    assert message.startswith("The provider's id token was refused") and any(r in message for r in reason), message
    assert "eyJ" not in message  # the token itself is never echoed
    assert User.objects.count() == 0 and ProviderIdentity.objects.count() == 0


def test_a_bad_id_token_in_the_browser_flow_goes_back_with_an_error(api, provider, person):
    someone = person()
    callback = started_and_signed_in(api, provider, someone)
    provider.misbehave("nonce")
    response = api.get(callback)
    assert response.status_code == 302
    answer = fragment(response)
    assert answer["error"] == "invalid" and "nonce" in answer["error_description"]
    assert "access" not in answer and User.objects.count() == 0


def test_a_bad_id_token_cannot_connect_an_identity(api, provider, person, user):
    from tests.conftest import bearer

    code = app_code(provider, person())
    provider.misbehave("audience")
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    assert api.post(f"/users/{user.id}/identities/test", code.body(), format="json").status_code == 400
    assert ProviderIdentity.objects.count() == 0


def test_a_declined_sign_in_goes_back_with_the_providers_error(api, provider):
    api.get("/auth/providers/test/redirect", {"next": "/after"})
    pending = ProviderAuthorization.objects.get()
    # The state is only known to the browser; recover it the way the provider would echo it.
    assert pending.next_url == "/after"
    started = api.get("/auth/providers/test/redirect", {"next": "/after"})
    state = started["Location"].split("state=")[1].split("&")[0]
    response = api.get(f"/auth/providers/test/callback?error=access_denied&state={state}")
    assert response.status_code == 302 and fragment(response)["error"] == "access_denied"
