"""Issue 12, item 1: the client address behind proxies. X-Forwarded-For is trusted only as far as
NUM_PROXIES says; an entry that is not an IP address is never taken as the client's identity."""
import pytest
from django.test import RequestFactory

from accounts.users.documents import AuditEvent
from common.client_ip import client_ip

RF = RequestFactory()


def request(xff=None, remote="10.0.0.9"):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RF.get("/", **extra)


def test_with_no_proxies_the_header_is_ignored(settings):
    settings.NUM_PROXIES = 0
    assert client_ip(request("1.2.3.4")) == "10.0.0.9"
    assert client_ip(request("x" * 5000)) == "10.0.0.9"


@pytest.mark.parametrize(
    "xff, n, expected",
    [
        ("1.2.3.4", 1, "1.2.3.4"),
        ("spoofed, 1.2.3.4", 1, "1.2.3.4"),  # the client wrote the left part, the proxy the right
        ("spoofed, 1.2.3.4, 172.16.0.2", 2, "1.2.3.4"),
        ("1.2.3.4 , 5.6.7.8", 1, "5.6.7.8"),
        ("2001:DB8::1", 1, "2001:db8::1"),  # one spelling per address
        ("not-an-ip", 1, "10.0.0.9"),  # a broken proxy chain falls back to the socket
        ("x" * 5000, 1, "10.0.0.9"),
        ("1.2.3.4", 2, "10.0.0.9"),  # fewer entries than proxies: the chain was bypassed
        ("", 1, "10.0.0.9"),
    ],
)
def test_with_proxies_the_nth_entry_from_the_right_if_it_is_an_address(settings, xff, n, expected):
    settings.NUM_PROXIES = n
    assert client_ip(request(xff)) == expected


def test_a_socket_address_that_is_not_an_ip_is_not_used(settings):
    settings.NUM_PROXIES = 0
    assert client_ip(request(remote="evil\nline")) == "unknown"


def test_rotating_the_header_does_not_escape_the_login_throttle(api, settings, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    settings.NUM_PROXIES = 0
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"login": "3/min", "register": "3/min", "token": "3/min"})
    codes = [
        api.post("/login", {"email": "a@example.com", "password": "wrong password"}, format="json", HTTP_X_FORWARDED_FOR=f"9.9.9.{n}").status_code
        for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_a_spoofed_header_never_reaches_the_audit_log_or_the_counters(api, user, settings):
    settings.NUM_PROXIES = 0
    api.post("/login", {"email": user.email, "password": "wrong password"}, format="json", HTTP_X_FORWARDED_FOR="<script>" * 600)
    event = AuditEvent.objects(action="login_failed").first()
    assert event.ip == "127.0.0.1"
    from accounts.users.documents import LoginFailure

    assert all("<script>" not in f.key for f in LoginFailure.objects)
