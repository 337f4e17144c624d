"""What other services need to verify our tokens by themselves: the public keys and the discovery
document (API.md, "Tokens for other services").

| path | view |
|---|---|
| `GET /.well-known/jwks.json` | `jwks_view`: the public keys (`accounts/sessions/keys.py`) |
| `GET /.well-known/openid-configuration` | `discovery_view`: issuer, jwks_uri, algorithms |

Anyone may read both, no token, no database. The discovery document says only what is true of
this service: it issues access tokens (JWTs) and publishes their keys; it is not an OpenID
provider (no authorization or token endpoint, no ID tokens), so it lists no endpoint it does not
have. Revocation stays here: a resource server that must see a logout or a trash move at once
asks this service (any authenticated request, such as `GET /users/me`, answers 401 for a revoked
token); one that verifies signatures alone accepts a revoked access token until it expires
(`ACCESS_TOKEN_MINUTES`).
"""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.sessions import keys
from common.openapi import documented

JWKS_PATH = "/.well-known/jwks.json"
# The claims every access token carries (the refresh and mfa tokens carry the same names).
CLAIMS = ["iss", "aud", "exp", "iat", "jti", "token_type", "user_id", "sid", "ver"]
# Resource servers may keep the keys this long; on a `kid` they do not know they fetch again
# (PyJWKClient does), so a rotation is seen at once.
CACHE_SECONDS = 300

JwkOutput = inline_serializer(
    "Jwk",
    many=True,
    fields=
    {
        "kty": serializers.CharField(help_text="Key type: `EC`, `OKP` or `RSA`."),
        "kid": serializers.CharField(help_text="The key's id, named by the `kid` header of every token it signed."),
        "alg": serializers.CharField(help_text="`ES256`, `EdDSA` or `RS256`."),
        "use": serializers.CharField(help_text="Always `sig`."),
        "crv": serializers.CharField(required=False, help_text="EC and OKP keys: the curve."),
        "x": serializers.CharField(required=False, help_text="EC and OKP keys: the public point."),
        "y": serializers.CharField(required=False, help_text="EC keys: the public point."),
        "n": serializers.CharField(required=False, help_text="RSA keys: the modulus."),
        "e": serializers.CharField(required=False, help_text="RSA keys: the exponent."),
    },
)
JwksOutput = inline_serializer("Jwks", {"keys": JwkOutput})
DiscoveryOutput = inline_serializer(
    "Discovery",
    {
        "issuer": serializers.CharField(help_text="The `iss` of every token this service signs."),
        "jwks_uri": serializers.CharField(help_text="Where the public keys are."),
        "id_token_signing_alg_values_supported": serializers.ListField(
            child=serializers.CharField(), help_text="The algorithms our access tokens are signed with."
        ),
        "claims_supported": serializers.ListField(child=serializers.CharField(), help_text="The claims our tokens carry."),
    },
)


def _cached(response: Response) -> Response:
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@documented(
    "get_jwks",
    "The public keys that verify our tokens",
    "Anyone, no token. A JSON Web Key Set (RFC 7517) of every key that verifies the access tokens this "
    "service issues: the key that signs now and, during a rotation, the keys that signed tokens not "
    "yet expired. Each token names its key in its `kid` header. Empty when the service signs with "
    "HS256 (a shared secret, never published).",
    tag="tokens for other services",
    statuses={200: "The key set."},
)
@extend_schema(responses={200: JwksOutput}, auth=[])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def jwks_view(request):
    return _cached(Response(keys.jwks()))


def discovery(request) -> dict:
    issuer = keys.issuer(request)
    algorithms = sorted({key.algorithm for key in keys.keyring()}) or ["HS256"]
    return {
        "issuer": issuer,
        "jwks_uri": issuer + JWKS_PATH,
        "id_token_signing_alg_values_supported": algorithms,
        "claims_supported": CLAIMS,
    }


@documented(
    "get_openid_configuration",
    "Where our keys are, and who issues our tokens",
    "Anyone, no token. The discovery document (OpenID Connect Discovery 1.0, the parts true of this "
    "service): `issuer` (the `iss` of our tokens), `jwks_uri` (the public keys) and the algorithms "
    "our access tokens are signed with. This service is not an OpenID provider: it names no "
    "authorization or token endpoint.",
    tag="tokens for other services",
    statuses={200: "The discovery document."},
)
@extend_schema(responses={200: DiscoveryOutput}, auth=[])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def discovery_view(request):
    return _cached(Response(discovery(request)))
