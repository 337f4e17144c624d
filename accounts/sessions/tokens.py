"""JWTs: issuing a pair, rotating a refresh token, revoking one (logout), and what a login hands
the client (`LoginOutcome`: the pair, or the request for a second factor; users/serializers.py's
`login_body` renders it).

Every pair belongs to a session (accounts/sessions/services.py, which holds the rules): issuing
a pair begins one, a rotation stays in it, a logout ends it. Of many concurrent uses of one
refresh token exactly one succeeds, and the others end the session (reuse detection).
"""
from dataclasses import dataclass

from rest_framework_simplejwt.tokens import RefreshToken

from accounts.sessions import services as sessions
from accounts.users.documents import User
from common import metrics


@dataclass
class LoginOutcome:
    """A login that passed the password check: either tokens (`refresh`), or, for a user with
    two-factor on, an `mfa_token` to present with a code at POST /auth/mfa."""

    user: User
    refresh: RefreshToken | None = None
    mfa_token: str | None = None
    # The second factors the user can answer with (`totp`, `webauthn`, `recovery_code`).
    mfa_methods: list[str] | None = None


def login_outcome(user: User, *, ip: str | None = None, user_agent: str = "", live=None, also=()) -> LoginOutcome:
    """A login's end (by password, passkey, second factor or provider): a session begins for
    `user`, and its token pair is the outcome; counted as a successful login in /metrics.
    `live` and `also`: see `session_start` (a password login's writes go in the same round trip)."""
    metrics.count_login("success")
    return LoginOutcome(user=user, refresh=sessions.session_start(user=user, ip=ip, user_agent=user_agent, live=live, also=also))


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
