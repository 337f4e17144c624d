"""The one reading of a TOTP code, wherever a code is read: the API's serializers, the browser
login form and the services that compare codes.

A code is six ASCII digits; spaces (apps show `123 456`) are dropped. Nothing else is a code:
`str.isdigit()` also accepts Arabic-Indic, full-width and superscript digits, which reached
`hmac.compare_digest` and raised a TypeError there (a 500, and under DEBUG a page showing the
decrypted secret; issue 21). Such input is refused as "not six digits", never translated: the
contract says digits, and an authenticator app shows ASCII ones.
"""
TOTP_DIGITS = 6
_ASCII_DIGITS = frozenset("0123456789")
NOT_A_CODE = "Six digits."


def totp_code_parse(value) -> str | None:
    """The six ASCII digits of `value` (spaces dropped), or None if it is not such a code."""
    if not isinstance(value, str):
        return None
    code = "".join(value.split())
    if len(code) != TOTP_DIGITS or not _ASCII_DIGITS.issuperset(code):
        return None
    return code
