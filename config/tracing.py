"""OpenTelemetry tracing of Django (each request a server span) and pymongo (each command a
client span inside it), off by default and switched on by the standard `OTEL_*` variables.

Decision: tracing is on when `OTEL_TRACES_EXPORTER` names an exporter other than `none`
(`otlp`: OTLP over HTTP; `console`: printed; or any exporter package's entry-point name,
comma-separated for several), or when `OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (then `otlp`, the specification's default), and never
when `OTEL_SDK_DISABLED=true`. The SDK itself reads the rest: `OTEL_SERVICE_NAME` (default here
`user-service`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`(`_ARG`), the OTLP endpoint,
headers and timeout, the batch processor's limits. Spans carry no request body, no query string
value and no database document: Django's instrumentation records the route and status, pymongo's
the command name and collection (its `capture_statement` is left off, so no filter with an email
or a token hash leaves).

Called once per server process, before Django loads its middleware (config/wsgi.py).
"""
import os
from importlib.metadata import entry_points

OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def _otlp():
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _console():
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    return ConsoleSpanExporter()


EXPORTERS = {"otlp": _otlp, "otlp_proto_http": _otlp, "console": _console}


def exporter_names(environ=os.environ) -> list[str]:
    """The exporters the environment asks for; empty: tracing stays off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    if not names and any(environ.get(key, "").strip() for key in OTLP_ENDPOINTS):
        names = ["otlp"]
    return [name for name in names if name != "none"]


def _exporter(name: str):
    if name in EXPORTERS:
        return EXPORTERS[name]()
    for entry in entry_points(group="opentelemetry_traces_exporter", name=name):
        return entry.load()()
    raise ValueError(f"OTEL_TRACES_EXPORTER names {name!r}, which no installed package provides (otlp, console).")


def configure(environ=os.environ):
    """Switch tracing on if the environment asks for it; returns the TracerProvider, or None."""
    names = exporter_names(environ)
    if not names:
        return None
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The SDK reads OTEL_RESOURCE_ATTRIBUTES itself; OTEL_SERVICE_NAME wins over it, as it specifies.
    if environ.get("OTEL_SERVICE_NAME"):
        attributes = {"service.name": environ["OTEL_SERVICE_NAME"]}
    elif "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", ""):
        attributes = {}
    else:
        attributes = {"service.name": "user-service"}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider)
    PymongoInstrumentor().instrument(tracer_provider=provider)
    return provider
