"""Pre-account-takeover (the attacks that hit allauth and Supabase): an attacker registers the
victim's email here first, unverified, and waits for the victim to sign in with a provider. The
provider login must neither join the attacker's account (the attacker would then share the
victim's account) nor create anything the attacker's password opens. And the mirror case: an
attacker at a provider that does not verify emails claims a victim's address."""
from rest_framework.test import APIClient

from accounts.users.documents import User
from accounts.providers.documents import ProviderIdentity
from accounts.providers.registry import provider_get
from accounts.providers.services import provider_sign_in
from tests.oidc_provider.fixtures import app_code, browser_sign_in, fragment
from accounts.users.registration import user_register
from tests.conftest import PASSWORD

VICTIM = "victim@example.org"


def test_an_attacker_who_registered_the_victims_email_first_cannot_take_over_the_victims_provider_login(api, provider, person):
    attacker_account = user_register(username="attacker", email=VICTIM, password=PASSWORD, email_verified=False)
    victim = person("victim", email=VICTIM, email_verified=True)

    refused = api.post("/auth/providers/test/token", app_code(provider, victim).body(), format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "email_taken" and "connect" in refused.json()["detail"]
    in_browser = fragment(browser_sign_in(APIClient(), provider, victim))
    assert in_browser["error"] == "email_taken" and "access" not in in_browser

    # Nothing was linked to the attacker's account, and no second account was made.
    assert ProviderIdentity.objects.count() == 0
    assert User.objects.count() == 1
    # The attacker's password still opens only the attacker's own, identity-less account.
    login = api.post("/login", {"email": VICTIM, "password": PASSWORD}, format="json").json()
    assert login["user_id"] == str(attacker_account.id)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {login['access']}")
    assert api.get(f"/users/{attacker_account.id}/identities").json() == []


def test_the_victim_who_proves_the_mailbox_then_connects_the_provider(api, provider, person):
    """The way out for the victim: a password reset proves the mailbox (and the attacker's
    password stops working); then, signed in, the victim connects the provider."""
    account = user_register(username="attacker", email=VICTIM, password=PASSWORD, email_verified=False)
    victim = person("victim2", email=VICTIM)
    User.objects(id=account.id).update_one(set__email_verified=True, set__password="!reset-by-the-victim")
    # Both sides vouch for the address now: the identity joins the account that owns the mailbox.
    answer = api.post("/auth/providers/test/token", app_code(provider, victim).body(), format="json")
    assert answer.status_code == 200 and answer.json()["user_id"] == str(account.id)


def test_an_unverified_provider_email_never_joins_a_verified_account(api, provider, person, make_user):
    owner = make_user("owner", VICTIM)
    User.objects(id=owner.id).update_one(set__email_verified=True)  # the owner proved the mailbox here
    impostor = person("impostor", email=VICTIM, email_verified=False)  # a provider that does not check emails
    refused = api.post("/auth/providers/test/token", app_code(provider, impostor).body(), format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "email_taken"
    assert ProviderIdentity.objects.count() == 0


def test_both_sides_verified_joins_the_existing_account(api, provider, person, make_user):
    owner = make_user("owner", VICTIM)
    User.objects(id=owner.id).update_one(set__email_verified=True)
    someone = person("owner-at-provider", email=VICTIM.upper(), email_verified=True)
    answer = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").json()
    assert answer["user_id"] == str(owner.id)
    assert ProviderIdentity.objects.get().user.id == owner.id


def test_the_rule_at_the_service_level(provider, make_user):
    """The same rule, without HTTP: the claims decide, with the account's own flag."""
    found = provider_get("test")
    unverified_here = user_register(username="first", email="first@example.org", password=PASSWORD, email_verified=False)
    for claims in (
        {"sub": "s1", "email": "first@example.org", "email_verified": True},
        {"sub": "s2", "email": "first@example.org", "email_verified": False},
        {"sub": "s3", "email": "first@example.org"},
        {"sub": "s4", "email": "FIRST@example.org", "email_verified": "true"},  # a string is not a yes
    ):
        try:
            provider_sign_in(provider=found, claims=claims, ip="198.51.100.1")
        except Exception as exc:  # noqa: BLE001 - the 409 is what the test expects
            assert getattr(exc, "status_code", None) == 409, claims
        else:
            raise AssertionError(f"joined {claims}")
    assert ProviderIdentity.objects.count() == 0 and User.objects.count() == 1
    assert User.objects.get().id == unverified_here.id
