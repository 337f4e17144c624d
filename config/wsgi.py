"""WSGI entry point (gunicorn, and runserver). Creates the first admin from ADMIN_* if asked.

At import the database is made ready (on the embedded default: started unless it runs) and
named in the log. When it cannot be started or reached, one line says what to do and the process
exits with status 4: gunicorn's "App failed to load" (its master stops instead of respawning
workers), and not 3, which Django's autoreloader would take as "restart me".
"""
import gc
import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()

from accounts.services.admins import admin_bootstrap_from_env  # noqa: E402  (needs the apps loaded)
from config import mongo  # noqa: E402

DATABASE_UNAVAILABLE_EXIT = 4

try:
    mongo.startup()
    admin_bootstrap_from_env()
except Exception as exc:  # noqa: BLE001 - only a database problem is turned into one line
    line = mongo.problem(exc)
    if line is None:
        raise
    sys.stderr.write(f"{line}\n")
    sys.stderr.flush()
    # os._exit: under runserver's autoreloader this runs in a thread, where SystemExit would
    # only end that thread and leave a process serving nothing.
    os._exit(DATABASE_UNAVAILABLE_EXIT)

# What is loaded by now (Django, the apps, URL patterns, the first admin) lives as long as the
# process. Frozen, it is left out of the garbage collector's full passes, which otherwise walk
# ~90,000 objects and pause every request in flight for tens of milliseconds.
gc.collect()
gc.freeze()
