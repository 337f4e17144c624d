"""config/tracing.py: OpenTelemetry is off by default and switched on by the standard OTEL_* settings."""
import pytest
from django.conf import settings
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from rest_framework.test import APIClient

from config import mongo, tracing
from tests.roundtrips import COUNTER


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, []),
        ({"OTEL_SERVICE_NAME": "users"}, []),  # naming the service alone exports nothing
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console, otlp"}, ["console", "otlp"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
    ],
)
def test_which_environment_switches_tracing_on(environ, names):
    assert tracing.exporter_names(environ) == names


def test_off_by_default_nothing_is_instrumented():
    assert tracing.configure({}) is None
    assert not DjangoInstrumentor().is_instrumented_by_opentelemetry
    assert "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware" not in settings.MIDDLEWARE


def test_an_unknown_exporter_is_a_clear_error():
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER names 'carrier-pigeon'"):
        tracing._exporter("carrier-pigeon")


def test_switched_on_by_the_environment_it_traces_django_and_pymongo(monkeypatch, user):
    exporter = InMemorySpanExporter()
    monkeypatch.setitem(tracing.EXPORTERS, "otlp", lambda: exporter)  # instead of a collector
    provider = tracing.configure({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SERVICE_NAME": "users-under-test"})
    if settings.MONGODB_URI:
        # pymongo takes listeners when a client is made; in a server process that is after this
        # configure() (config/wsgi.py), here the suite's client exists already: make a new one.
        mongo.connect(event_listeners=(COUNTER,))
    try:
        assert provider is not None
        api = APIClient()  # a new handler: it loads the middleware the instrumentation added
        assert api.get("/health").status_code == 200
        assert api.post("/login", {"email": user.email, "password": "wrong password"}, format="json").status_code == 401
        provider.force_flush()
        spans = exporter.get_finished_spans()
        servers = [s for s in spans if s.kind == SpanKind.SERVER]
        assert [s.attributes.get("http.route") for s in servers] == ["^health/?$", "^login/?$"]
        assert [s.attributes.get("http.response.status_code", s.attributes.get("http.status_code")) for s in servers] == [200, 401]
        assert {s.resource.attributes["service.name"] for s in spans} == {"users-under-test"}
        clients = [s for s in spans if s.kind == SpanKind.CLIENT]
        if settings.MONGODB_URI:
            # Each command a child span of its request, without the statement (no filter values).
            assert any(s.name.endswith("ping") or "ping" in s.name for s in clients)
            assert all(s.parent is not None for s in clients)
            statements = [s.attributes.get("db.statement", s.attributes.get("db.query.text", "")) for s in clients]
            assert all(" " not in text for text in statements), statements  # the command's name, never its filter
            assert not [s for s in clients if user.email in str(s.attributes)]
        else:
            # mongomock is not pymongo: the instrumentation is in place, the driver sends nothing.
            assert PymongoInstrumentor().is_instrumented_by_opentelemetry
        assert not [s for s in spans if "wrong password" in str(s.attributes)]
    finally:
        DjangoInstrumentor().uninstrument()
        PymongoInstrumentor().uninstrument()
        if settings.MONGODB_URI:
            mongo.connect(event_listeners=(COUNTER,))


def test_the_named_exporters_are_the_sdks():
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    assert isinstance(tracing._exporter("otlp"), OTLPSpanExporter)
    assert isinstance(tracing._exporter("console"), ConsoleSpanExporter)


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "user-service"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attributes"}, "from-attributes"),
    ],
)
def test_the_service_name_defaults_to_user_service(monkeypatch, environ, name):
    exporter = InMemorySpanExporter()
    monkeypatch.setitem(tracing.EXPORTERS, "otlp", lambda: exporter)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)  # the SDK reads OTEL_RESOURCE_ATTRIBUTES from the process
    provider = tracing.configure(environ)
    try:
        assert provider.resource.attributes["service.name"] == name
    finally:
        DjangoInstrumentor().uninstrument()
        PymongoInstrumentor().uninstrument()
