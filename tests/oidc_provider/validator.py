"""The test provider's claims, and its test-only misbehaviour (the tamper tests' switch).

`MISBEHAVIOUR["mode"]`, set through POST /test/misbehave, makes the next id tokens wrong in one
way each, as a broken or hostile provider (or a token swapped in transit) would hand them over:
- `audience`: issued for another client;
- `expired`: expired an hour ago;
- `nonce`: carrying another nonce than the one the client sent;
- `none`: unsigned (`alg: none`);
- `signature`: signed by a key that is not the provider's (same `kid`);
- `issuer`: claiming another issuer.
The provider process is one process (threads), so a module-level switch is seen by every request.
"""
import base64
import json
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

MISBEHAVIOUR = {"mode": ""}
MODES = ("", "audience", "expired", "nonce", "none", "signature", "issuer")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _stranger_key() -> jwk.JWK:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return jwk.JWK.from_pem(pem)


class TestProviderValidator(OAuth2Validator):
    def get_additional_claims(self, request):
        user = request.user
        person = getattr(user, "person", None)
        return {
            "email": user.email,
            "email_verified": bool(person.email_verified) if person else False,
            "preferred_username": user.username,
            "name": (person.name if person else "") or user.username,
        }

    def finalize_id_token(self, id_token, token, token_handler, request):
        serialized = super().finalize_id_token(id_token, token, token_handler, request)
        mode = MISBEHAVIOUR["mode"]
        if not mode:
            return serialized
        header_b64, claims_b64, _signature = serialized.split(".")
        header, claims = json.loads(_unb64(header_b64)), json.loads(_unb64(claims_b64))
        now = int(time.time())
        if mode == "audience":
            claims["aud"] = "another-client"
        elif mode == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif mode == "nonce":
            claims["nonce"] = "not-the-nonce-the-client-sent"
        elif mode == "issuer":
            claims["iss"] = "http://127.0.0.1:1/not-the-issuer"
        if mode == "none":
            unsigned = {"typ": "JWT", "alg": "none"}
            return f"{_b64(json.dumps(unsigned).encode())}.{_b64(json.dumps(claims).encode())}."
        key = _stranger_key() if mode == "signature" else request.client.jwk_key
        token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
        token.make_signed_token(key)
        return token.serialize()
