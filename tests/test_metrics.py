"""GET /metrics (config/metrics.py): what real requests leave in it, and who may read it."""
from types import SimpleNamespace

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from common import metrics
from config.metrics import DATABASE_LISTENER
from tests.conftest import PASSWORD


def read_metrics(api, **extra) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of one scrape."""
    response = api.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_the_requests_just_made(api, user):
    before = read_metrics(api)
    assert api.post("/users/register", {"username": "new person", "email": "new@example.com", "password": "a long river stone"}, format="json").status_code == 201
    assert api.post("/login", {"email": user.email, "password": PASSWORD}, format="json").status_code == 200
    assert api.post("/login", {"email": user.email, "password": "wrong password"}, format="json").status_code == 401
    assert api.get(f"/users/{user.id}").status_code == 401
    assert api.get("/no/such/path").status_code == 404
    after = read_metrics(api)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("http_requests_total", route="register-register", method="POST", status="201") == 1
    assert delta("http_requests_total", route="auth-login", method="POST", status="200") == 1
    assert delta("http_requests_total", route="auth-login", method="POST", status="401") == 1
    assert delta("http_requests_total", route="user-detail", method="GET", status="401") == 1
    # An unknown path is one series, whatever the path: no client can grow the label set.
    assert delta("http_requests_total", route="not-found", method="GET", status="404") == 1
    assert delta("http_request_duration_seconds_count", route="auth-login", method="POST") == 2
    assert delta("http_request_duration_seconds_bucket", route="auth-login", method="POST", le="+Inf") == 2
    assert not [key for key in after if "alice" in str(key) or str(user.id) in str(key)]


def test_database_round_trips_are_counted(api, user):
    if not settings.MONGODB_URI:
        # mongomock is not pymongo: no driver events. Feed the listener as pymongo would.
        DATABASE_LISTENER.succeeded(SimpleNamespace(command_name="find", duration_micros=1500))
        DATABASE_LISTENER.failed(SimpleNamespace(command_name="insert", duration_micros=800))
    before = read_metrics(api)
    if settings.MONGODB_URI:
        assert api.get("/health").status_code == 200  # one ping
        after = read_metrics(api)
        assert value(after, "mongodb_commands_total", command="ping", outcome="ok") - value(before, "mongodb_commands_total", command="ping", outcome="ok") >= 1
    else:
        assert value(before, "mongodb_commands_total", command="find", outcome="ok") >= 1
        assert value(before, "mongodb_commands_total", command="insert", outcome="error") >= 1
        assert value(before, "mongodb_command_duration_seconds_count", command="find") >= 1


def test_the_counters_for_logins_lockouts_mail_and_events(api):
    before = read_metrics(api)
    metrics.count_login("success")
    metrics.count_lockout()
    metrics.count_mail("verify_email", "sent")
    metrics.count_outbox_delivery("webhook", "delivered")
    after = read_metrics(api)
    assert value(after, "logins_total", outcome="success") - value(before, "logins_total", outcome="success") == 1
    assert value(after, "login_lockouts_total") - value(before, "login_lockouts_total") == 1
    assert value(after, "mail_deliveries_total", kind="verify_email", outcome="sent") - value(before, "mail_deliveries_total", kind="verify_email", outcome="sent") == 1
    assert value(after, "outbox_deliveries_total", queue="webhook", outcome="delivered") - value(before, "outbox_deliveries_total", queue="webhook", outcome="delivered") == 1


@pytest.mark.parametrize("address", ["203.0.113.9", "10.1.2.3", "2001:db8::1"])
def test_other_networks_are_refused_in_drfs_error_shape(api, address):
    response = api.get("/metrics", REMOTE_ADDR=address)
    assert response.status_code == 403
    assert response.json() == {"detail": "Metrics are readable from the allowed networks or with the metrics token."}


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(api, settings):
    settings.METRICS_TOKEN = "a-long-scrape-token"
    assert api.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer a-long-scrape-token").status_code == 200
    assert api.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer a-long-scrape-tokeX").status_code == 403
    assert api.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_without_a_token_setting_no_header_opens_it(api, settings):
    settings.METRICS_TOKEN = ""
    assert api.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_allowed_networks_follow_the_setting_and_the_trusted_proxy(api, settings):
    import ipaddress

    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert api.get("/metrics", REMOTE_ADDR="10.9.8.7").status_code == 200
    assert api.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    # A client-written X-Forwarded-For never picks its own address (NUM_PROXIES=0)...
    assert api.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 403
    # ...but the entry a trusted proxy appended does.
    settings.NUM_PROXIES = 1
    assert api.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 200


def test_a_bad_allowed_networks_setting_stops_the_start(monkeypatch):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.base", "DEBUG": "true", "METRICS_ALLOWED_NETWORKS": "not-a-network"},
        cwd=settings.BASE_DIR if hasattr(settings, "BASE_DIR") else None, capture_output=True, text=True,
    )
    assert out.returncode != 0 and "METRICS_ALLOWED_NETWORKS lists networks" in out.stderr


def test_metrics_are_not_in_the_api_schema(api):
    assert "/metrics" not in api.get("/api/schema/?format=json").json()["paths"]


def test_logins_lockouts_and_mail_are_counted_where_they_happen(api, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    before = read_metrics(api)
    assert api.post("/login", {"email": user.email, "password": PASSWORD}, format="json").status_code == 200
    for _ in range(2):
        assert api.post("/login", {"email": user.email, "password": "wrong password"}, format="json").status_code == 401
    assert api.post("/login", {"email": user.email, "password": "wrong password"}, format="json").status_code == 429
    assert api.post("/users/register", {"username": "mailed person", "email": "mailed@example.com", "password": "a long river stone"}, format="json").status_code == 201
    from accounts.events.outbox import outbox_drain

    outbox_drain()  # the outbox's worker sends it (accounts/events/)
    after = read_metrics(api)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("logins_total", outcome="success") == 1
    assert delta("logins_total", outcome="failure") == 2
    assert delta("login_lockouts_total") == 1
    assert delta("mail_deliveries_total", kind="verify_email", outcome="sent") == 1


def test_an_address_that_is_no_ip_is_refused(api):
    assert api.get("/metrics", REMOTE_ADDR="not-an-address").status_code == 403


def test_with_a_multiprocess_folder_the_scrape_sums_its_files(tmp_path, monkeypatch):
    from prometheus_client import CollectorRegistry

    from config.metrics import registry

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    combined = registry()
    assert isinstance(combined, CollectorRegistry) and combined is not __import__("prometheus_client").REGISTRY


def test_every_outcome_of_the_outbox_workers_is_counted(api, admin, client_for, settings, monkeypatch):
    """accounts/events/outbox.py `job_run`, where a worker settles a job: mail and webhook
    deliveries delivered, retried and given up, an event's fan-out, a cancelled mail."""
    from accounts.events import mail_jobs
    from accounts.events.outbox import outbox_drain
    from accounts.events.tests.receivers import Receiver
    from accounts.users.documents import User

    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1
    settings.OUTBOX_RETRY_DELAYS = [0]  # two attempts, then given up
    outbox_drain()  # what the fixtures set off
    real_send, failures = mail_jobs._transport[0], []

    def send_failing_once(**kwargs):
        if not failures:
            failures.append(kwargs["kind"])
            raise ConnectionRefusedError("the mail server is restarting")
        real_send(**kwargs)

    monkeypatch.setattr(mail_jobs, "_transport", [send_failing_once])
    with Receiver(fail_first=1) as recovering, Receiver(status=503) as broken:
        for receiver in (recovering, broken):
            r = client_for(admin).post("/webhooks", {"url": receiver.url, "events": ["user.created"]}, format="json")
            receiver.secret = r.json()["secret"]
        before = read_metrics(api)
        r = api.post("/users/register", {"username": "counted", "email": "counted@example.com", "password": "a long river stone"}, format="json")
        assert r.status_code == 201
        outbox_drain()
        assert recovering.types() == ["user.created"] and broken.attempts == 2
    # A verification mail for an address verified meanwhile has nothing to do: cancelled.
    User.objects(id=r.json()["user_id"]).update_one(set__email_verified=True)
    mail_jobs.mail_enqueue(mail_jobs.VERIFY, user_id=User.objects.get(id=r.json()["user_id"]).id)
    outbox_drain()
    after = read_metrics(api)

    def delta(queue, outcome):
        labels = {"queue": queue, "outcome": outcome}
        return value(after, "outbox_deliveries_total", **labels) - value(before, "outbox_deliveries_total", **labels)

    assert failures == ["verify_email"]
    assert (delta("mail", "retried"), delta("mail", "delivered"), delta("mail", "cancelled"), delta("mail", "given_up")) == (1, 1, 1, 0)
    assert delta("event", "delivered") == 1  # user.created fanned out to the two endpoints
    assert (delta("webhook", "retried"), delta("webhook", "delivered"), delta("webhook", "given_up")) == (2, 1, 1)


def test_a_process_without_the_api_serves_its_metrics_with_the_same_rule(settings):
    """config/metrics.py `metrics_server_start` (`manage.py outbox --metrics-port`)."""
    import ipaddress
    import json
    import urllib.error
    import urllib.request

    from config.metrics import metrics_server_start

    server = metrics_server_start(host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        metrics.count_outbox_delivery("webhook", "given_up")
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
            assert 'outbox_deliveries_total{outcome="given_up",queue="webhook"}' in response.read().decode()
        for path in ("/", "/users/me"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"{base}{path}", timeout=10)
            assert missing.value.code == 404
        settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/metrics", timeout=10)
        assert refused.value.code == 403
        assert json.loads(refused.value.read()) == {"detail": "Metrics are readable from the allowed networks or with the metrics token."}
        settings.METRICS_TOKEN = "a-long-scrape-token"
        request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": "Bearer a-long-scrape-token"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_the_outbox_command_serves_its_metrics_until_stopped():
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "outbox", "--workers", "1", "--metrics-port", "0"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        line = worker.stdout.readline()
        assert line.startswith("outbox: metrics at http://127.0.0.1:"), line
        with urllib.request.urlopen(line.split(" at ", 1)[1].strip(), timeout=10) as response:
            assert "# TYPE outbox_deliveries_total counter" in response.read().decode()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
        assert "outbox: stopped." in worker.stdout.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
