"""How usernames and emails are compared, so that look-alike identities are one identity.

- Usernames are normalised with NFKC, as Django's own user model does (fullwidth `ＡＤＭＩＮ` and
  mathematical `𝐚𝐝𝐦𝐢𝐧` become `ADMIN`, `admin`), then case-folded for the unique `username_key`.
- A username may not mix scripts (UTS #39's "highly restrictive" level: one script, or Latin
  with Han and Japanese kana, Han with Bopomofo, or Han with Hangul), so `аdmin` with a Cyrillic
  `а` is refused. Scripts come from the `confusable-homoglyphs` package's Unicode data.
- Its skeleton (UTS #39's idea: each character replaced by a representative of everything
  Unicode's confusables data says it can be mistaken for) carries a unique index too, so `admın`
  (dotless i) or `bobl` next to `bob1` is "taken". Representatives are computed from the same
  package's data: a character's class is everything reachable through its confusable pairs, and
  the representative is the class's ASCII letter, digit or other ASCII character, in that order.
- Names and emails refuse control, format (zero-width, bidi overrides), separator and private-use
  characters.
- An email's domain is stored in one form: as given when ASCII, else its IDNA 2008 A-label (UTS #46
  mapping: `exämple.com` is `xn--exmple-cua.com`, a fullwidth domain is its ASCII one). The
  `email_key` is that, case-folded.
"""
import functools
import unicodedata

import idna
from confusable_homoglyphs import categories, confusables

# Characters no name or email may hold: controls (Cc), format (Cf: zero-width, bidi), surrogates
# (Cs), private use (Co), unassigned (Cn), line and paragraph separators (Zl, Zp).
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Script mixes that UTS #39 "highly restrictive" allows; COMMON (digits, space, . _ -) and
# INHERITED go with anything.
_ALLOWED_MIXES = [{"LATIN", "HAN", "HIRAGANA", "KATAKANA"}, {"LATIN", "HAN", "BOPOMOFO"}, {"LATIN", "HAN", "HANGUL"}]
_NEUTRAL = {"COMMON", "INHERITED"}


def refused_characters(value: str) -> list[str]:
    """The code points of `value` that no name or email may hold, as U+XXXX."""
    return [f"U+{ord(c):04X}" for c in value if unicodedata.category(c) in _REFUSED_CATEGORIES]


def username_normalize(value: str) -> str:
    """NFKC, as django.contrib.auth's AbstractBaseUser.normalize_username."""
    return unicodedata.normalize("NFKC", value)


def identity_key(value: str) -> str:
    """The form in which usernames and emails are compared, stored and indexed: NFKC, case folded
    (and NFKC again, since case folding can undo it). Equals the old `strip().casefold()` on
    every ASCII value, so keys stored before stay valid."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value.strip()).casefold())


def username_scripts_error(value: str) -> str | None:
    """Why `value` mixes scripts in a way a look-alike could use, or None."""
    scripts = {categories.alias(c) for c in value} - _NEUTRAL
    if len(scripts) <= 1 or any(scripts <= mix for mix in _ALLOWED_MIXES):
        return None
    return "Use letters of one script (a username may not mix, say, Latin and Cyrillic)."


@functools.cache
def _representatives() -> dict[str, str]:
    """Each character that Unicode's confusables data pairs with another -> its class's
    representative. Built once (about 30 ms)."""
    neighbours: dict[str, set[str]] = {}
    for char, glyphs in confusables.confusables_data.items():
        for glyph in glyphs:
            other = glyph["c"]
            if len(char) == 1 and len(other) == 1:
                neighbours.setdefault(char, set()).add(other)
                neighbours.setdefault(other, set()).add(char)
    representative: dict[str, str] = {}
    for start in neighbours:
        if start in representative:
            continue
        members, stack, seen = [], [start], {start}
        while stack:
            char = stack.pop()
            members.append(char)
            for other in neighbours[char] - seen:
                seen.add(other)
                stack.append(other)
        chosen = min(members, key=lambda c: (not (c.isascii() and c.islower()), not (c.isascii() and c.isdigit()), not c.isascii(), c))
        for member in members:
            representative[member] = chosen
    return representative


def username_skeleton(value: str) -> str:
    """What `value` looks like: its key with every character replaced by its confusable class's
    representative and runs of spaces made one. Two usernames with one skeleton can be mistaken
    for each other."""
    table = _representatives()
    key = identity_key(value)
    return " ".join("".join(table.get(c, c) for c in key).split())


class EmailError(ValueError):
    pass


def email_normalize(value: str) -> str:
    """`value` with its domain in the one stored form (see the module's docstring). EmailError
    when it holds a refused character or its domain is no valid IDNA name."""
    value = value.strip()
    if refused_characters(value):
        raise EmailError("control, format or bidi characters")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise EmailError("no domain")
    if domain.isascii():
        return value
    try:
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise EmailError("domain") from exc
    return f"{local}@{ascii_domain}"


def email_key(value: str) -> str:
    """The unique key of an email: its normalised form, case folded."""
    return identity_key(email_normalize(value))


def email_keys_for_lookup(value: str) -> list[str]:
    """Keys an account with this email may be stored under: the current one, and the plain case
    folding that accounts stored before these rules (a Unicode domain) were given."""
    legacy = value.strip().casefold()
    try:
        current = email_key(value)
    except EmailError:
        return [legacy]
    return [current] if current == legacy else [current, legacy]


def same_but_ascii_case(old: str, new: str) -> bool:
    """True when `new` is `old` byte for byte, or differs from it only in the letter case of
    ASCII letters (`kate@` and `Kate@`). An email change of that kind may skip re-verification,
    the password and the notice. Not so when only the case-folded keys agree: `\u212aate@` (a
    KELVIN SIGN) folds to `kate@` too, yet is another string to mail to (issue 21)."""
    return len(old) == len(new) and all(
        a == b or (a.isascii() and b.isascii() and a.lower() == b.lower()) for a, b in zip(old, new)
    )
