"""Issue 22's first "done when": another program, given only our JWKS URL, accepts our access tokens
and refuses forged ones, before and after a key rotation. The service runs under granian on
loopback (tests/live_server.py); the "other service" is PyJWT's PyJWKClient and nothing else."""
import json
import urllib.request

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from config.secret_key import key_generate_pem
from tests.live_server import free_port, running_service

PASSWORD = "a long river stone"


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def access_token(base: str, name: str) -> str:
    post(f"{base}/users/register", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return post(f"{base}/login", {"email": f"{name}@example.com", "password": PASSWORD})["access"]


class OtherService:
    """A resource server: it knows our discovery URL, fetches the keys from it, and checks
    signature, issuer, audience and expiry of every token."""

    def __init__(self, base: str):
        config = get(f"{base}/.well-known/openid-configuration")
        self.issuer, self.algorithms = config["issuer"], config["id_token_signing_alg_values_supported"]
        self.keys = jwt.PyJWKClient(config["jwks_uri"], cache_keys=True)

    def accepts(self, token: str) -> bool:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            jwt.decode(token, key, algorithms=self.algorithms, audience="user-service", issuer=self.issuer)
        except (jwt.InvalidTokenError, jwt.PyJWKClientError):
            return False
        return True


def forged(token: str, *, kid: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**claims, "user_id": "000000000000000000000000"}, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})


@pytest.mark.slow
@pytest.mark.own_servers
def test_another_service_verifies_our_tokens_from_the_live_jwks_before_and_after_a_rotation(tmp_path):
    old_key, new_key = key_generate_pem("ES256"), key_generate_pem("ES256")
    port = free_port()  # the same URL across the restarts, as a real rotation keeps it
    with running_service(tmp_path / "before.log", port=port, JWT_SIGNING_KEYS=old_key) as base:
        other = OtherService(base)
        assert other.issuer == base  # JWT_ISSUER unset: the base URL the request reached
        before = access_token(base, "before")
        old_kid = jwt.get_unverified_header(before)["kid"]
        assert other.accepts(before)
        assert not other.accepts(forged(before, kid=old_kid))
        assert not other.accepts(jwt.encode({"user_id": "x"}, None, algorithm="none", headers={"kid": old_kid}))
    # The rotation: the new key first, the old one kept until its tokens expire.
    with running_service(tmp_path / "after.log", port=port, JWT_SIGNING_KEYS=new_key + old_key) as base:
        other = OtherService(base)
        after = access_token(base, "after")
        assert jwt.get_unverified_header(after)["kid"] != old_kid
        assert other.accepts(after) and other.accepts(before)
        assert not other.accepts(forged(after, kid=jwt.get_unverified_header(after)["kid"]))
        assert not other.accepts(forged(after, kid="a-kid-nobody-published"))
