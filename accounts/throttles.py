"""DRF rate throttles of `accounts` beyond the scoped ones the viewsets declare. Their state is in
Django's cache (`CACHE_URL`; use Redis with several processes)."""
from rest_framework.throttling import SimpleRateThrottle


class LoginPageThrottle(SimpleRateThrottle):
    """The `login` rate of POST /login, sharing its counters: the browser page is no way around it."""

    scope = "login"

    def get_cache_key(self, request, view):
        # The same key as ScopedRateThrottle gives an anonymous POST /login.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
