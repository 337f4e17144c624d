"""WSGI entry point (granian in production, and runserver)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from config import tracing  # noqa: E402

# Before Django loads its middleware: OTEL_* may switch tracing on (config/tracing.py).
tracing.configure()

application = get_wsgi_application()

from config.startup import process_ready  # noqa: E402  (after the apps are loaded)

process_ready()
