"""DRF rate throttles of `accounts` beyond the scoped ones the viewsets declare. They count in
MongoDB, shared by every process (common/throttling.py)."""
from common.client_ip import ClientAddressMixin
from common.throttling import DeferredThrottle, SharedRateThrottle


class LoginPageThrottle(ClientAddressMixin, DeferredThrottle):
    """The `login` rate of POST /login, sharing its counters: the browser page is no way around it.
    Deferred as POST /login's is: `allow_request` leaves the hit on `request.rate_hit`, and the
    login counts it with the lock-out's counters (one round trip fewer; a 429 past the rate)."""

    scope = "login"

    def get_cache_key(self, request, view):
        # The same key as ScopedRateThrottle gives an anonymous POST /login.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class IdentityChangeThrottle(ClientAddressMixin, SharedRateThrottle):
    """The `identity_change` rate (THROTTLE_IDENTITY_CHANGE) of PATCH /users/{id} bodies that
    name a username or an email, per signed-in caller: each such request tells whether a name or
    an email is taken (409), so it must not be a free existence oracle. Other PATCHes (an admin
    changing a role) are not counted."""

    scope = "identity_change"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}
        if not ({"username", "email"} & set(data)):
            return None
        ident = request.user.pk if getattr(request.user, "is_authenticated", False) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ReauthThrottle(ClientAddressMixin, SharedRateThrottle):
    """The `reauth` rate (THROTTLE_REAUTH) of the endpoints that ask for the person again (the
    password change, TOTP on and off, new recovery codes, an admin's reset of their own
    two-factor) and of the enrolment's confirm, per signed-in caller (issue 21). The lock-out
    already counts every wrong proof of the re-authentication gate; this bounds the requests
    themselves, so a stolen access token is no faster a guesser here than anywhere else, even
    from many addresses, and a confirm is no oracle for an enrolment's codes."""

    scope = "reauth"

    def get_cache_key(self, request, view):
        ident = request.user.pk if getattr(request.user, "is_authenticated", False) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
