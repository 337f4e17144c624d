"""WSGI entry point (gunicorn, and runserver). Creates the first admin from ADMIN_* if asked."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()

from accounts.services import admin_bootstrap_from_env  # noqa: E402  (needs the apps loaded)

admin_bootstrap_from_env()
