"""What a server process does once, after Django is set up (config/wsgi.py, config/asgi.py)."""
import gc


def process_ready() -> None:
    """Create the first admin from ADMIN_* if asked (accounts.services.admins), then freeze what
    is loaded by now (Django, the apps, URL patterns) out of the garbage collector's way: it
    lives as long as the process, and otherwise every full collection walks ~90,000 objects and
    pauses every request in flight for tens of milliseconds."""
    from accounts.services.admins import admin_bootstrap_from_env  # needs the apps loaded

    admin_bootstrap_from_env()
    gc.collect()
    gc.freeze()
