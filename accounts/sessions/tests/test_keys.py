"""Signing keys (accounts/sessions/keys.py): asymmetric tokens with iss, aud and kid, the key set
and the discovery document, rotation without logging anyone out, forged tokens refused."""
import json
import os
import stat
import subprocess
import sys

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework_simplejwt.tokens import AccessToken

from accounts.sessions import keys
from accounts.sessions.tokens import token_pair_for
from config.env import BASE_DIR
from config.secret_key import key_generate_pem


def pair(user, api, password="correct-horse-battery-staple"):
    r = api.post("/login", {"email": user.email, "password": password}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


def me(api, access):
    return api.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def test_access_tokens_are_es256_with_kid_iss_and_aud(user, api):
    access = pair(user, api)["access"]
    header = jwt.get_unverified_header(access)
    claims = jwt.decode(access, options={"verify_signature": False})
    assert header["alg"] == "ES256" and header["kid"] == keys.keyring()[0].kid
    assert claims["iss"] == "http://testserver" and claims["aud"] == "user-service"
    assert me(api, access) == 200


def test_the_key_set_and_discovery_let_a_stranger_verify(user, api):
    access = pair(user, api)["access"]
    for suffix in ("", "/"):
        jwks = api.get("/.well-known/jwks.json" + suffix)
        assert jwks.status_code == 200 and "max-age" in jwks["Cache-Control"]
    [jwk] = jwks.json()["keys"]
    assert jwk["kty"] == "EC" and jwk["use"] == "sig" and jwk["alg"] == "ES256"
    assert "d" not in jwk  # the private part never leaves
    config = api.get("/.well-known/openid-configuration").json()
    assert config == {
        "issuer": "http://testserver",
        "jwks_uri": "http://testserver/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["iss", "aud", "exp", "iat", "jti", "token_type", "user_id", "sid", "ver"],
    }
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(access, key, algorithms=["ES256"], audience="user-service", issuer=config["issuer"])
    assert claims["user_id"] == str(user.id)


def test_a_set_issuer_is_required_of_every_token(user, api, settings):
    settings.JWT_ISSUER = "https://users.example.com"
    access = pair(user, api)["access"]
    assert jwt.decode(access, options={"verify_signature": False})["iss"] == "https://users.example.com"
    assert api.get("/.well-known/openid-configuration").json()["jwks_uri"] == "https://users.example.com/.well-known/jwks.json"
    settings.JWT_ISSUER = "https://other.example.com"
    keys_ = keys.keyring()
    forged = jwt.decode(access, options={"verify_signature": False})
    assert me(api, jwt.encode(forged, keys_[0].private, algorithm="ES256", headers={"kid": keys_[0].kid})) == 401


def test_rotation_a_new_key_signs_and_the_old_one_still_verifies(user, api, settings):
    old_pem = settings.JWT_SIGNING_KEYS
    before = pair(user, api)
    old_kid = keys.keyring()[0].kid
    settings.JWT_SIGNING_KEYS = key_generate_pem("ES256") + "\n" + old_pem
    after = pair(user, api)
    new_kid = jwt.get_unverified_header(after["access"])["kid"]
    assert new_kid != old_kid and new_kid == keys.keyring()[0].kid
    assert {k["kid"] for k in api.get("/.well-known/jwks.json").json()["keys"]} == {old_kid, new_kid}
    assert me(api, before["access"]) == 200 and me(api, after["access"]) == 200  # nobody is logged out
    r = api.post("/auth/refresh", {"refresh": before["refresh"]}, format="json")
    assert r.status_code == 200 and jwt.get_unverified_header(r.json()["access"])["kid"] == new_kid
    # Once the old key is dropped, what it signed is refused.
    settings.JWT_SIGNING_KEYS = settings.JWT_SIGNING_KEYS.split("-----END PRIVATE KEY-----")[0] + "-----END PRIVATE KEY-----"
    keys._keyring.cache_clear()
    from accounts.sessions import authentication

    authentication._checked_token.cache_clear()
    assert me(api, before["access"]) == 401 and me(api, after["access"]) == 200


def test_a_retired_key_may_be_kept_as_a_public_key_only(user, settings):
    old = keys.keyring()[0]
    token = str(token_pair_for(user).access_token)
    public_pem = old.public.public_bytes(
        encoding=__import__("cryptography").hazmat.primitives.serialization.Encoding.PEM,
        format=__import__("cryptography").hazmat.primitives.serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode()
    settings.JWT_SIGNING_KEYS = key_generate_pem("ES256") + public_pem
    assert AccessToken(token)["user_id"] == str(user.id)


@pytest.mark.parametrize("forge", ["other key, same kid", "alg none", "hs256 with the public key", "unknown kid", "no kid", "wrong audience", "expired"])
def test_forged_tokens_are_refused(user, api, forge):
    genuine = pair(user, api)["access"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    signer = keys.keyring()[0]
    if forge == "other key, same kid":
        from cryptography.hazmat.primitives.asymmetric import ec

        token = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": signer.kid})
    elif forge == "alg none":
        token = jwt.encode(claims, None, algorithm="none", headers={"kid": signer.kid})
    elif forge == "hs256 with the public key":
        import base64
        import hashlib
        import hmac

        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        signing_input = b64(json.dumps({"alg": "HS256", "kid": signer.kid}).encode()) + "." + b64(json.dumps(claims).encode())
        secret = json.dumps(signer.public_jwk()).encode()
        token = signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    elif forge == "unknown kid":
        token = jwt.encode(claims, signer.private, algorithm="ES256", headers={"kid": "someone-else"})
    elif forge == "no kid":
        token = jwt.encode(claims, signer.private, algorithm="ES256")
    elif forge == "wrong audience":
        token = jwt.encode({**claims, "aud": "billing"}, signer.private, algorithm="ES256", headers={"kid": signer.kid})
    else:
        token = jwt.encode({**claims, "exp": claims["iat"] - 10}, signer.private, algorithm="ES256", headers={"kid": signer.kid})
    assert me(api, token) == 401
    assert me(api, genuine) == 200


def test_hs256_stays_available_by_setting(user, api, settings):
    settings.JWT_ALGORITHM = "HS256"
    access = pair(user, api)["access"]
    assert jwt.get_unverified_header(access)["alg"] == "HS256" and me(api, access) == 200
    assert jwt.decode(access, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"], audience="user-service")["user_id"] == str(user.id)
    assert api.get("/.well-known/jwks.json").json() == {"keys": []}  # the secret is never published
    assert api.get("/.well-known/openid-configuration").json()["id_token_signing_alg_values_supported"] == ["HS256"]


def test_keys_from_a_jwk_set_keep_their_kid_and_other_algorithms_verify():
    ed = keys.keys_parse(key_generate_pem("EdDSA"))[0]
    rs = keys.keys_parse(key_generate_pem("RS256"))[0]
    private_jwk = {**json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(ed.private)), "kid": "ed-2026"}
    parsed = keys.keys_parse(json.dumps({"keys": [private_jwk, rs.public_jwk()]}))
    assert [(k.kid, k.algorithm, k.private is not None) for k in parsed] == [("ed-2026", "EdDSA", True), (rs.kid, "RS256", False)]
    assert keys._keyring("EdDSA", json.dumps([private_jwk, rs.public_jwk()]))[0].kid == "ed-2026"
    # An RFC 7638 thumbprint: the same key, the same kid, in any process.
    assert keys.keys_parse(key_generate_pem("ES256"))[0].kid != keys.keys_parse(key_generate_pem("ES256"))[0].kid
    assert rs.kid == keys.thumbprint(rs.public_jwk())


@pytest.mark.parametrize(
    "text, message",
    [
        ("not a key", "holds no key"),
        ('{"keys": [{"kty": "EC"}]}', "could not be read"),
        ("public-first", "must be a private ES256 key"),
        ("eddsa-first", "must be a private ES256 key"),
        ("rsa-1024", "RSA of 2048 bits"),
        ("twice", "same kid"),
    ],
)
def test_bad_key_settings_are_refused_with_a_reason(text, message):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    es = key_generate_pem("ES256")
    if text == "public-first":
        text = json.dumps([keys.keys_parse(es)[0].public_jwk()])
    elif text == "eddsa-first":
        text = key_generate_pem("EdDSA") + es
    elif text == "rsa-1024":
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        text = small.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    elif text == "twice":
        text = es + es
    with pytest.raises(ImproperlyConfigured, match=message):
        keys._keyring("ES256", text)


SHOW = "from django.conf import settings; from accounts.sessions.keys import keyring; print([k.kid for k in keyring()])"


def run_settings(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "SECRET_KEY", "DEBUG"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", PYTHONPATH=str(BASE_DIR), **env_extra)
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); " + SHOW], env=env, cwd=BASE_DIR, capture_output=True, text=True)


def test_the_development_key_is_made_once_kept_private_and_never_in_the_image(tmp_path):
    key_file = tmp_path / "jwt.pem"
    first = run_settings({"DEBUG": "true", "JWT_KEY_FILE": str(key_file), "SECRET_KEY": "s" * 50})
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and "PRIVATE KEY" in key_file.read_text()
    again = run_settings({"DEBUG": "true", "JWT_KEY_FILE": str(key_file), "SECRET_KEY": "s" * 50})
    assert again.stdout == first.stdout  # a restart keeps every token valid
    assert ".jwt_signing_key.pem" in (BASE_DIR / ".gitignore").read_text().splitlines()
    assert ".jwt_signing_key.pem" in (BASE_DIR / ".dockerignore").read_text().splitlines()


def test_without_debug_the_keys_are_required(tmp_path):
    base = {"DEBUG": "false", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "x", "JWT_KEY_FILE": str(tmp_path / "k")}
    refused = run_settings(base)
    assert refused.returncode != 0 and "JWT_SIGNING_KEYS is required" in refused.stderr
    assert not (tmp_path / "k").exists()
    key_file = tmp_path / "keys.pem"
    key_file.write_text(key_generate_pem("ES256"))
    assert run_settings({**base, "JWT_SIGNING_KEYS_FILE": str(key_file)}).returncode == 0
    assert run_settings({**base, "JWT_ALGORITHM": "HS256"}).returncode == 0
    assert "JWT_ALGORITHM must be" in run_settings({**base, "JWT_ALGORITHM": "none"}).stderr

