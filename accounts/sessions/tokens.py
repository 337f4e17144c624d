"""JWTs: issuing a pair, rotating a refresh token, revoking one (logout).

Every pair belongs to a session (accounts/sessions/services.py, which holds the rules): issuing
a pair begins one, a rotation stays in it, a logout ends it. Of many concurrent uses of one
refresh token exactly one succeeds, and the others end the session (reuse detection).
"""
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.users.documents import User
from accounts.sessions import services as sessions


def token_pair_for(user: User, *, ip: str | None = None, user_agent: str = "") -> RefreshToken:
    """Begin a session for `user` and return its refresh token (`.access_token` is the matching
    access token)."""
    return sessions.session_start(user=user, ip=ip, user_agent=user_agent)


def token_refresh(*, raw_refresh: str, ip: str | None = None, user_agent: str = "") -> RefreshToken:
    """Rotate within the token's session: the given refresh token is spent and the next pair
    issued. A spent token presented again ends the whole session (a 401)."""
    return sessions.session_refresh(raw_refresh=raw_refresh, ip=ip, user_agent=user_agent)


def token_revoke(*, raw_refresh: str, ip: str | None = None) -> None:
    """Log out: the refresh token's session ends, and with it its refresh and access tokens."""
    sessions.session_logout(raw_refresh=raw_refresh, ip=ip)
