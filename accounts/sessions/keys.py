"""The keys that sign our JWTs, and the token backend simplejwt uses with them.

Other services verify our access tokens with our public keys alone (`GET /.well-known/jwks.json`):
no service but this one holds a key that can mint a token.

- `JWT_ALGORITHM` (default ES256, chosen by measurement: README "Integrating other services")
  names how tokens are signed: `ES256`, `EdDSA` or `RS256` with `JWT_SIGNING_KEYS`, or `HS256`
  with the shared secret `JWT_SIGNING_KEY` (one service alone; nothing is published then).
- `JWT_SIGNING_KEYS` (or the file `JWT_SIGNING_KEYS_FILE`) holds PEM blocks or a JSON Web Key Set.
  The first key signs and must be a private key of `JWT_ALGORITHM`; every key verifies (the later
  ones may be public keys only). Rotation: put a new key first and keep the old one until the
  tokens it signed have expired (`REFRESH_TOKEN_DAYS`), then drop it. No one is logged out.
- A key's `kid` is its JWK's `kid` if it has one, else its RFC 7638 thumbprint, so the same key
  has the same `kid` in every process and after every restart. Every token names its key in the
  `kid` header; a token is checked only against the key it names, with that key's algorithm
  (never the algorithm the token claims), so `alg: none` or an HMAC forged with a public key is
  refused.
- With DEBUG and no keys, a key is generated once and kept in `JWT_KEY_FILE` (`.jwt_signing_key.pem`,
  git-ignored and docker-ignored, mode 0600), as the development SECRET_KEY is (config/secret_key.py).
  Without DEBUG the keys are required (settings refuse to start).
- Claims: `iss` is `JWT_ISSUER`, or when unset (development) the base URL the request reached, as
  the discovery document says; `aud` is `JWT_AUDIENCE`. This service checks `aud` on every token,
  and `iss` when `JWT_ISSUER` is set.
"""
import base64
import contextvars
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

from config.secret_key import key_generate_pem  # noqa: F401  (the development key; re-exported)

ASYMMETRIC = ("ES256", "EdDSA", "RS256")
_JWK_CLASS = {"ES256": ECAlgorithm, "EdDSA": OKPAlgorithm, "RS256": RSAAlgorithm}
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)
# RFC 7638: the members of a public JWK that its thumbprint hashes, by key type.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    public: Any  # a cryptography public key
    private: Any | None  # None for a key kept only to verify

    def public_jwk(self) -> dict:
        """The public JWK published at /.well-known/jwks.json."""
        jwk = _JWK_CLASS[self.algorithm].to_jwk(self.public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def key_algorithm(key) -> str:
    """ES256, EdDSA or RS256 for a cryptography key (private or public); ImproperlyConfigured for
    any other kind (a P-384 curve, DSA, an RSA key under 2048 bits)."""
    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        return "ES256"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048:
        return "RS256"
    raise ImproperlyConfigured("JWT_SIGNING_KEYS: each key must be EC P-256 (ES256), Ed25519 (EdDSA) or RSA of 2048 bits or more (RS256).")


def thumbprint(public_jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
    members = {name: public_jwk[name] for name in _THUMBPRINT_MEMBERS[public_jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _key_from(crypto_key, kid: str | None) -> SigningKey:
    algorithm = key_algorithm(crypto_key)
    private = crypto_key if hasattr(crypto_key, "public_key") else None
    public = crypto_key.public_key() if private is not None else crypto_key
    jwk = _JWK_CLASS[algorithm].to_jwk(public, as_dict=True)
    return SigningKey(kid=kid or thumbprint(jwk), algorithm=algorithm, public=public, private=private)


def keys_parse(text: str) -> list[SigningKey]:
    """Keys from PEM blocks (private or public, any number, in order) or a JSON Web Key Set
    (`{"keys": [...]}`, a list of JWKs, or one JWK). ImproperlyConfigured when nothing parses."""
    text = text.strip()
    try:
        if text.startswith(("{", "[")):
            loaded = json.loads(text)
            jwks = loaded.get("keys", [loaded]) if isinstance(loaded, dict) else loaded
            return [_key_from(jwt.PyJWK(jwk).key, jwk.get("kid")) for jwk in jwks]
        keys = []
        for block in _PEM_BLOCK.finditer(text):
            pem = block.group(0).encode()
            if "PRIVATE" in block.group(1):
                keys.append(_key_from(serialization.load_pem_private_key(pem, password=None), None))
            else:
                keys.append(_key_from(serialization.load_pem_public_key(pem), None))
    except (ValueError, TypeError, KeyError, jwt.PyJWKError, jwt.InvalidKeyError) as exc:
        raise ImproperlyConfigured(f"JWT_SIGNING_KEYS could not be read: {type(exc).__name__}") from None
    return keys


@lru_cache(maxsize=4)
def _keyring(algorithm: str, text: str) -> tuple[SigningKey, ...]:
    keys = tuple(keys_parse(text))
    if not keys:
        raise ImproperlyConfigured("JWT_SIGNING_KEYS holds no key.")
    first = keys[0]
    if first.private is None or first.algorithm != algorithm:
        raise ImproperlyConfigured(f"JWT_SIGNING_KEYS: the first key signs, so it must be a private {algorithm} key (JWT_ALGORITHM).")
    if len({key.kid for key in keys}) != len(keys):
        raise ImproperlyConfigured("JWT_SIGNING_KEYS: two keys have the same kid.")
    return keys


def keyring() -> tuple[SigningKey, ...]:
    """The configured keys, the signing one first; empty with HS256."""
    if settings.JWT_ALGORITHM == "HS256":
        return ()
    return _keyring(settings.JWT_ALGORITHM, settings.JWT_SIGNING_KEYS)


def jwks() -> dict:
    """The public JSON Web Key Set: every key that verifies our tokens."""
    return {"keys": [key.public_jwk() for key in keyring()]}


# --- The issuer -------------------------------------------------------------------------------
# The base URL of the request being served, for `iss` when JWT_ISSUER is unset (development).
_request_base: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_base", default=None)
DEFAULT_ISSUER = "http://localhost:8000"


def issuer(request=None) -> str:
    """JWT_ISSUER, or the base URL `request` (or the request being served) reached."""
    if settings.JWT_ISSUER:
        return settings.JWT_ISSUER
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return _request_base.get() or DEFAULT_ISSUER


class IssuerMiddleware:
    """Remembers the base URL of the request being served, for tokens issued while it runs
    (only read when JWT_ISSUER is unset)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            base = f"{request.scheme}://{request.get_host()}"
        except Exception:  # noqa: BLE001 - a disallowed Host: Django answers 400 further on
            base = None
        reset = _request_base.set(base)
        try:
            return self.get_response(request)
        finally:
            _request_base.reset(reset)


# --- The backend simplejwt signs and verifies with ------------------------------------------
class KeyRingTokenBackend(TokenBackend):
    """simplejwt's TokenBackend over our key ring: signs with the first key, naming it in the
    `kid` header, and verifies a token with the key its `kid` names and that key's algorithm.
    Settings are read on every call, so tests may override them."""

    def __init__(self) -> None:  # noqa: D107 - everything comes from settings, per call
        self.jwks_client = None
        self.json_encoder = None

    @property
    def leeway(self):  # type: ignore[override]
        return settings.SIMPLE_JWT.get("LEEWAY")

    @property
    def algorithm(self) -> str:  # type: ignore[override]
        return settings.JWT_ALGORITHM

    @property
    def audience(self):  # type: ignore[override]
        return settings.JWT_AUDIENCE or None

    @property
    def issuer(self):  # type: ignore[override]
        return issuer()

    def _hmac_key(self) -> str:
        return settings.SIMPLE_JWT["SIGNING_KEY"]

    def encode(self, payload: dict[str, Any]) -> str:
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        claims["iss"] = self.issuer
        if self.algorithm == "HS256":
            return jwt.encode(claims, self._hmac_key(), algorithm="HS256")
        signer = keyring()[0]
        return jwt.encode(claims, signer.private, algorithm=signer.algorithm, headers={"kid": signer.kid})

    def _key_for(self, token) -> tuple[Any, str]:
        if self.algorithm == "HS256":
            return self._hmac_key(), "HS256"
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc
        for key in keyring():
            if key.kid == kid:
                return key.public, key.algorithm
        raise TokenBackendError("Token is invalid")

    def decode(self, token, verify: bool = True) -> dict[str, Any]:
        if not verify:
            try:
                return jwt.decode(token, options={"verify_signature": False})
            except jwt.InvalidTokenError as exc:
                raise TokenBackendError("Token is invalid") from exc
        key, algorithm = self._key_for(token)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=settings.JWT_ISSUER or None,
                leeway=self.get_leeway(),
                options={"verify_aud": self.audience is not None, "require": ["exp", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc


def token_backend_install() -> None:
    """Make simplejwt sign and verify with the key ring (called once, from the app's ready())."""
    from rest_framework_simplejwt import state

    state.token_backend = KeyRingTokenBackend()
