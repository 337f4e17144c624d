"""WSGI entry point (gunicorn, and runserver). Creates the first admin from ADMIN_* if asked."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()

from accounts.services.admins import admin_bootstrap_from_env  # noqa: E402  (needs the apps loaded)

admin_bootstrap_from_env()

# What is loaded by now (Django, the apps, URL patterns, the first admin) lives as long as the
# process. Frozen, it is left out of the garbage collector's full passes, which otherwise walk
# ~90,000 objects and pause every request in flight for tens of milliseconds.
gc.collect()
gc.freeze()
