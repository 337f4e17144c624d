"""Prometheus metrics (prometheus-client), read at `GET /metrics`.

What is counted, and where:
- every request, by route (the URL pattern's name, never the raw path: ids stay out of the
  labels), method and status, and its latency (`RequestMetricsMiddleware`, the first middleware);
- every database round trip, by command and outcome, and its latency (`DatabaseMetrics`, a pymongo
  `CommandListener` that config/mongo.py gives every client);
- logins by outcome, lock-outs, mail handed to the mail server and every outcome of the outbox's
  workers (mail, event fan-outs, webhook deliveries): `count_login`, `count_lockout`,
  `count_mail`, `count_outbox_delivery` (common/metrics.py, where every metric is defined),
  called where those happen.

Several processes: when `PROMETHEUS_MULTIPROC_DIR` is set (config/serve.py sets it, emptied, for
granian's workers) prometheus-client keeps each process's values in files there and `/metrics`
sums them, whichever worker answers. Without it (runserver, tests) one process's values.

Who may read it: decision, a scrape comes from the operator's network or carries a token. A client
(its address as `NUM_PROXIES` lets us trust it, common/client_ip.py) in `METRICS_ALLOWED_NETWORKS`
(default: loopback only) or a request with `Authorization: Bearer <METRICS_TOKEN>` (when that is
set); anyone else gets 403 `{"detail"}`. The figures name no user and no address.
"""
import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from pymongo import monitoring
from rest_framework.decorators import api_view, authentication_classes, permission_classes, renderer_classes
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from common.client_ip import client_ip
from common.metrics import DB_COMMANDS, DB_LATENCY, HTTP_LATENCY, HTTP_REQUESTS

class RequestMetricsMiddleware:
    """Counts and times every request. The route label is the URL pattern's name (`user-detail`),
    so the number of series is bounded whatever paths clients send."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            match = getattr(request, "resolver_match", None)
            route = (match.view_name or match.url_name or "unnamed") if match else "unmatched"
            method = request.method if request.method in _METHODS else "other"
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class DatabaseMetrics(monitoring.CommandListener):
    """One count per command the driver sends (a round trip), with its time."""

    def started(self, event) -> None:
        pass

    def succeeded(self, event) -> None:
        self._count(event, "ok")

    def failed(self, event) -> None:
        self._count(event, "error")

    @staticmethod
    def _count(event, outcome: str) -> None:
        DB_COMMANDS.labels(event.command_name, outcome).inc()
        DB_LATENCY.labels(event.command_name).observe(event.duration_micros / 1e6)


DATABASE_LISTENER = DatabaseMetrics()


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def registry():
    """Every process's values when several share PROMETHEUS_MULTIPROC_DIR, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)
        return combined
    return REGISTRY


@extend_schema(exclude=True)  # operations, not the API: left out of the OpenAPI schema
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@renderer_classes([JSONRenderer])
def metrics(request):
    """Prometheus's text format, for a scraper on an allowed network or holding the token."""
    if not _allowed(request):
        raise PermissionDenied("Metrics are readable from the allowed networks or with the metrics token.")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)




def metrics_server_start(*, host: str, port: int):
    """Serve `GET /metrics` from a thread of a process that serves no API (`manage.py outbox
    --metrics-port`: its deliveries are counted in its own process, which the API's `/metrics`
    does not see), with the same answer and the same access rule as the API's `/metrics` (the
    view above). Anything else is a 404. Returns the server (`server_port`, `shutdown()`)."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.handlers.wsgi import WSGIRequest

    def app(wsgi_environ, start_response):
        request = WSGIRequest(wsgi_environ)
        if request.path_info != "/metrics" or request.method != "GET":
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"detail":"Not found."}']
        response = metrics(request)
        if hasattr(response, "render"):
            response.render()  # a refusal is DRF's Response
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass  # a scrape every 15 s is not news

    server = make_server(host, port, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
