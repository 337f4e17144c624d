"""The client's address, as the lock-out, the audit log and the throttles see it (and its user
agent, which a session keeps: `user_agent`).

`NUM_PROXIES = 0` (the default): the socket's address (`REMOTE_ADDR`); `X-Forwarded-For` is
ignored, since any client can write it. `NUM_PROXIES = N > 0`: the Nth entry from the right of
`X-Forwarded-For`, the one the outermost trusted proxy appended, and only if it parses as an IP
address; otherwise (a shorter header: the request bypassed a proxy; or garbage) the socket's
address. The result is always an IP address in its one canonical spelling (or "unknown"), so an
attacker-chosen string never becomes a counter key or reaches the audit log.
"""
import ipaddress

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from common.throttling import DeferredThrottle, ScopedSharedThrottle

UNKNOWN = "unknown"


def _canonical(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client address as far as NUM_PROXIES lets us trust the proxies' header."""
    meta = request.META
    socket_address = _canonical(meta.get("REMOTE_ADDR") or "") or UNKNOWN
    proxies = settings.NUM_PROXIES
    if proxies <= 0:
        return socket_address
    entries = (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    if len(entries) < proxies:
        return socket_address
    return _canonical(entries[-proxies]) or socket_address


class ClientAddressMixin:
    """For DRF throttles: identify an anonymous client by `client_ip`, not DRF's `get_ident`
    (which takes X-Forwarded-For unchecked whenever NUM_PROXIES is not 0)."""

    def get_ident(self, request) -> str:
        return client_ip(request)


class ScopedClientThrottle(ClientAddressMixin, ScopedSharedThrottle):
    """DRF's ScopedRateThrottle, counted in MongoDB (common/throttling.py) and keyed by `client_ip`
    for anonymous callers."""


class DeferredScopedClientThrottle(ClientAddressMixin, ScopedRateThrottle, DeferredThrottle):
    """`ScopedClientThrottle` whose hit the view's service counts with its own first write (the
    same key, limit and 429; common/throttling.py's `DeferredThrottle`): POST /login."""


def user_agent(request) -> str:
    """The client's User-Agent header, cut to what a session keeps (it is the client's word)."""
    return request.META.get("HTTP_USER_AGENT", "")[:512]
