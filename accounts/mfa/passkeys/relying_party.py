"""The relying party's side of every ceremony: its settings and the shapes the ceremonies share.

The verification itself is the `webauthn` library's (Duo Labs): it parses the CBOR and COSE, checks
the challenge, the origin (one of WEBAUTHN_ORIGINS), the rp id hash (WEBAUTHN_RP_ID), the flags
(user present; user verified where required) and the signature. Nothing here encodes by hand.
"""
import json

from django.conf import settings
from rest_framework.exceptions import ValidationError
from webauthn import options_to_json
from webauthn.helpers.exceptions import WebAuthnException

NOT_ACCEPTED = "The passkey's answer was not accepted"
# Whatever a malformed answer makes the library's parsing raise: a 400, never a 500.
MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def origins() -> list[str]:
    """The origins whose pages may run a ceremony (WEBAUTHN_ORIGINS), without a trailing slash."""
    return [origin.rstrip("/") for origin in settings.WEBAUTHN_ORIGINS]


def options_body(ceremony: str, options) -> dict:
    """`{"ceremony", "publicKey"}`: the options in the WebAuthn Level 3 JSON form
    (PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON read it)."""
    return {"ceremony": ceremony, "publicKey": json.loads(options_to_json(options))}


def not_accepted(reason: str) -> ValidationError:
    """The 400 of a refused answer, with the library's reason (an integrator needs it to mend a
    wrong WEBAUTHN_ORIGINS or rp id; it tells an attacker nothing they did not send)."""
    return ValidationError({"credential": [f"{NOT_ACCEPTED}: {reason}"]})
