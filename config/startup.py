"""What a server process does once, after Django is set up (config/wsgi.py, config/asgi.py)."""
import gc
import os
import sys

# gunicorn's "App failed to load": its master stops instead of respawning workers. Not 3, which
# Django's autoreloader (runserver) takes as "restart me".
DATABASE_UNAVAILABLE_EXIT = 4


def process_ready() -> None:
    """Make the database ready and say which it is (config/mongo.py `startup`: on the embedded
    default, start it unless it runs), create the first admin from ADMIN_* if asked
    (accounts.admin.admins), start the outbox's worker threads, then freeze what is loaded by now (Django, the apps, URL
    patterns) out of the garbage collector's way: it lives as long as the process, and otherwise
    every full collection walks ~90,000 objects and pauses every request in flight for tens of
    milliseconds.

    When the database cannot be started or reached, one line says what to do and the process
    exits with DATABASE_UNAVAILABLE_EXIT, without a traceback."""
    from accounts.admin.admins import admin_bootstrap_from_env  # needs the apps loaded
    from config import mongo

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
    _static_files_note()
    # The outbox's worker threads (mail, webhook events), unless OUTBOX_WORKERS_IN_PROCESS=0
    # because `manage.py outbox` runs elsewhere (accounts/events/outbox.py).
    from accounts.events.outbox import worker_start_in_process

    worker_start_in_process()
    sql_housekeeping_off()
    gc.collect()
    gc.freeze()


def sql_housekeeping_off() -> bool:
    """Disconnect Django's per-request SQL housekeeping when there is no SQL database.

    Django connects `reset_queries` and `close_old_connections` to every request's start and end;
    each walks the SQL connections of the thread (an asgiref `Local`, a context variable per
    lookup). This service has none (settings: `DATABASES = {}`, Django's dummy backend), so both
    have nothing to do. Measured: a request's start and finish signals cost 29-35 µs of CPU with
    them, 13-17 µs without (about 1% of a signed-in read under granian; issue 26). With a real SQL
    database configured they stay connected. Returns whether they were disconnected."""
    from django.conf import settings
    from django.core import signals
    from django.db import close_old_connections, reset_queries

    if any(db.get("ENGINE") != "django.db.backends.dummy" for db in settings.DATABASES.values()):
        return False
    signals.request_started.disconnect(reset_queries)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    return True


def _static_files_note() -> None:
    """With DEBUG off and no `collectstatic` run, the pages still work (settings: STATIC_COLLECTED),
    but their files are not hashed nor compressed: say so once, at start-up."""
    import logging

    from django.conf import settings

    if not settings.DEBUG and not settings.STATIC_COLLECTED:
        logging.getLogger(__name__).warning(
            "Static files are served from the apps' folders, uncompressed and briefly cached: run "
            "`python manage.py collectstatic --noinput` before starting (the Dockerfile does)."
        )
