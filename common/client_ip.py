"""The client's address, as the lock-out, the audit log and the throttles see it."""
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    """The client address, trusting X-Forwarded-For only as far as NUM_PROXIES says."""
    return BaseThrottle().get_ident(request)
