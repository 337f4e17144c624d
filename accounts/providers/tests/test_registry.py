"""The providers setting, and the per-process cache of discovery documents and JWKS."""
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import NotFound

from accounts.providers import registry
from tests.oidc_provider.fixtures import CLIENT_ID, CLIENT_SECRET

GOOD = {"id": "sso", "issuer": "https://sso.example.com", "client_id": "c", "client_secret": "s"}


@pytest.mark.parametrize(
    "setting, words",
    [
        ({"id": "x"}, "is a JSON list"),
        (["not an object"], "list of objects"),
        ([{**GOOD, "client_secret": ""}], "lacks client_secret"),
        ([{**GOOD, "id": "has space"}], "is not 1-64"),
        ([{**GOOD, "id": "0123456789abcdef01234567"}], "24 hex digits"),
        ([GOOD, GOOD], "share an id"),
    ],
)
def test_a_wrong_setting_is_named_by_manage_py_check(settings, setting, words):
    settings.OIDC_PROVIDERS = setting
    with pytest.raises(ImproperlyConfigured, match=words):
        registry.providers()
    errors = registry.providers_setting_check()
    assert errors and errors[0].id == "providers.E001"


def test_defaults_scopes_with_openid_and_names(settings):
    settings.OIDC_PROVIDERS = [GOOD, {**GOOD, "id": "two", "name": "Two", "scopes": "email profile"}]
    one, two = registry.providers()
    assert one.name == "sso" and one.scopes == ("openid", "email", "profile")
    assert two.name == "Two" and two.scopes == ("openid", "email", "profile")
    assert registry.providers_setting_check() == []
    with pytest.raises(NotFound):
        registry.provider_get("three")


def test_discovery_is_cached_for_its_ttl_and_checked(provider, settings):
    client = registry.client_for(registry.provider_get("test"))
    first = client.load_server_metadata()
    assert first["issuer"] == provider.issuer
    assert first["id_token_signing_alg_values_supported"] == ["RS256"]  # the provider's HS256 is dropped
    assert client.load_server_metadata()["_loaded_at"] == first["_loaded_at"]  # cached
    client.server_metadata["_loaded_at"] = time.time() - settings.OIDC_METADATA_TTL_SECONDS - 1
    assert client.load_server_metadata()["_loaded_at"] > time.time() - 60  # fetched again


def test_a_discovery_document_of_another_issuer_is_refused(provider, settings, api):
    # The provider's document names `.../o`; a setting that claims `.../o/` plus a path is not it.
    settings.OIDC_PROVIDERS = [{"id": "test", "issuer": f"{provider.base_url}/o/../o", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]
    response = api.get("/auth/providers/test/redirect")
    assert response.status_code == 502
