"""The configured providers (setting OIDC_PROVIDERS) and an OpenID Connect client for each,
Authlib's: discovery, JWKS, the authorization URL with PKCE (S256), state and nonce, the code
exchange and the id token's validation (signature, issuer, audience, expiry, nonce) are all
Authlib's; nothing here reads a JWT by hand.

Decision: discovery documents and JWKS are cached per process, for
OIDC_METADATA_TTL_SECONDS (default one hour), not in MongoDB. They are public documents that
any process can fetch again from the provider; a copy that is missing or old costs one HTTP
request, never a wrong answer (a token signed by a key the cached JWKS lacks makes Authlib fetch
the JWKS again at once). Nothing a promise rests on lives here: the pending authorizations and
the identities are in MongoDB.
"""
import threading
import time
from dataclasses import dataclass

from authlib.integrations.django_client import DjangoOAuth2App
from authlib.integrations.django_client.integration import DjangoIntegration
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import NotFound

# Id tokens are accepted only under asymmetric signatures: `none` never, and no HMAC (a
# provider's client secret is not a key we want id tokens to be checked with).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
UNKNOWN_PROVIDER = "No such provider."


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


def _provider_from_setting(entry) -> Provider:
    if not isinstance(entry, dict):
        raise ImproperlyConfigured("OIDC_PROVIDERS is a JSON list of objects")
    missing = [key for key in ("id", "issuer", "client_id", "client_secret") if not entry.get(key)]
    if missing:
        raise ImproperlyConfigured(f"OIDC_PROVIDERS: a provider lacks {', '.join(missing)}")
    provider_id = str(entry["id"])
    if not provider_id.replace("-", "").replace("_", "").isalnum() or len(provider_id) > 64:
        raise ImproperlyConfigured(f"OIDC_PROVIDERS: the id {provider_id!r} is not 1-64 letters, digits, - or _")
    if len(provider_id) == 24 and all(c in "0123456789abcdefABCDEF" for c in provider_id):
        raise ImproperlyConfigured(f"OIDC_PROVIDERS: the id {provider_id!r} looks like an identity's id (24 hex digits)")
    scopes = entry.get("scopes") or ["openid", "email", "profile"]
    if isinstance(scopes, str):
        scopes = scopes.split()
    if "openid" not in scopes:
        scopes = ["openid", *scopes]
    return Provider(
        id=provider_id,
        name=str(entry.get("name") or provider_id),
        issuer=str(entry["issuer"]),
        client_id=str(entry["client_id"]),
        client_secret=str(entry["client_secret"]),
        scopes=tuple(scopes),
    )


def providers() -> list[Provider]:
    """The providers of the setting, in its order (validated: a wrong entry is an
    ImproperlyConfigured naming it; `manage.py check` runs this too)."""
    entries = settings.OIDC_PROVIDERS or []
    if not isinstance(entries, list):
        raise ImproperlyConfigured("OIDC_PROVIDERS is a JSON list of objects")
    found = [_provider_from_setting(entry) for entry in entries]
    ids = [p.id for p in found]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured("OIDC_PROVIDERS: two providers share an id")
    return found


@checks.register()
def providers_setting_check(app_configs=None, **kwargs) -> list:
    """`manage.py check` (and runserver's start) names a wrong OIDC_PROVIDERS entry."""
    try:
        providers()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="providers.E001")]
    return []


def provider_get(provider_id: str) -> Provider:
    """The provider of that id, or a 404."""
    for provider in providers():
        if provider.id == provider_id:
            return provider
    raise NotFound(UNKNOWN_PROVIDER)


class ProviderClient(DjangoOAuth2App):
    """Authlib's Django OpenID Connect client, with the discovery document kept for
    OIDC_METADATA_TTL_SECONDS, checked to be the configured issuer's, and id tokens accepted only
    under the asymmetric algorithms the provider announces."""

    def __init__(self, provider: Provider):
        self.provider = provider
        super().__init__(
            DjangoIntegration(provider.id),
            name=provider.id,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": " ".join(provider.scopes),
                "code_challenge_method": "S256",
                "default_timeout": settings.OIDC_HTTP_TIMEOUT_SECONDS,
            },
        )

    def load_server_metadata(self):
        loaded_at = self.server_metadata.get("_loaded_at")
        if loaded_at is not None and time.time() - loaded_at > settings.OIDC_METADATA_TTL_SECONDS:
            self.server_metadata = {}  # the JWKS, kept inside, goes with it
        if "_loaded_at" not in self.server_metadata:
            metadata = super().load_server_metadata()
            if str(metadata.get("issuer", "")).rstrip("/") != self.provider.issuer.rstrip("/"):
                self.server_metadata = {}
                raise ValueError("the discovery document names another issuer")
            announced = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            metadata["id_token_signing_alg_values_supported"] = [a for a in announced if a in ASYMMETRIC_ALGORITHMS] or ["RS256"]
        return self.server_metadata


_clients: dict[Provider, ProviderClient] = {}
_clients_lock = threading.Lock()


def client_for(provider: Provider) -> ProviderClient:
    """This process's client of the provider (one per configuration, so changed settings, as in
    tests, get a new one)."""
    with _clients_lock:
        client = _clients.get(provider)
        if client is None:
            client = _clients[provider] = ProviderClient(provider)
        return client
