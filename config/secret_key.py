"""Development secrets when none is set: random, made once, kept in a private file.

A key written in the source would let anyone who has read the source sign an admin's token. So
with DEBUG and no SECRET_KEY, a key is drawn from `secrets` the first time and kept in
`SECRET_KEY_FILE` (default `.secret_key` in the project, git-ignored, mode 0600); later starts, and
every process of one checkout, read the same key, so a restart keeps tokens and sessions valid.
The development JWT signing key (`JWT_KEY_FILE`, accounts/sessions/keys.py) is kept the same way.
"""
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def kept_in_file(path: Path, make: Callable[[], str]) -> str:
    """The text kept in `path`, made there by `make()` first if there is none. Safe when
    processes race: the text is written to a private (0600) temporary file and linked into
    place, and the first link wins."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(make().strip() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()


def secret_key_from_file(path: Path) -> str:
    """The development SECRET_KEY kept in `path` (see `kept_in_file`)."""
    return kept_in_file(path, lambda: secrets.token_urlsafe(50))


def key_generate_pem(algorithm: str) -> str:
    """A new private key for JWT_ALGORITHM (ES256, EdDSA or RS256), as PKCS#8 PEM: the
    development signing key (accounts/sessions/keys.py)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
