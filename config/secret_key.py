"""Django's SECRET_KEY for development when none is set: random, made once, kept in a file.

A key written in the source would let anyone who has read the source sign an admin's token. So
with DEBUG and no SECRET_KEY, a key is drawn from `secrets` the first time and kept in
`SECRET_KEY_FILE` (default `.secret_key` in the project, git-ignored, mode 0600); later starts, and
every process of one checkout, read the same key, so a restart keeps tokens and sessions valid.
"""
import os
import secrets
from pathlib import Path


def secret_key_from_file(path: Path) -> str:
    """The key kept in `path`, made there first if there is none. Safe when processes race: the
    key is written to a private temporary file and linked into place, and the first link wins."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()
