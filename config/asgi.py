"""ASGI entry point. Creates the first admin from ADMIN_* if asked."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_asgi_application()

from accounts.services import admin_bootstrap_from_env  # noqa: E402

admin_bootstrap_from_env()
