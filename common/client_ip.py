"""The client's address, as the lock-out, the audit log and the throttles see it (and its
user agent, which a session keeps)."""
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    """The client address, trusting X-Forwarded-For only as far as NUM_PROXIES says."""
    return BaseThrottle().get_ident(request)


def user_agent(request) -> str:
    """The client's User-Agent header, cut to what a session keeps (it is the client's word)."""
    return request.META.get("HTTP_USER_AGENT", "")[:512]
