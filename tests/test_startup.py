"""config/startup.py: what config/wsgi.py and config/asgi.py run once per server process."""
import gc

import pytest
from django.core import signals

from accounts.users.documents import User
from config.startup import process_ready


@pytest.fixture(autouse=True)
def _request_signals_restored():
    """process_ready disconnects Django's SQL housekeeping: the rest of the suite gets it back."""
    saved = {signal: list(signal.receivers) for signal in (signals.request_started, signals.request_finished)}
    yield
    for signal, receivers in saved.items():
        signal.receivers = receivers
        signal.sender_receivers_cache.clear()


def test_process_ready_creates_the_first_admin_and_freezes_what_is_loaded(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "first", "first@example.com", "first admin passphrase"
    try:
        process_ready()
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert User.objects(role="admin").get().email == "first@example.com"
    assert frozen > 0


def test_a_database_that_cannot_be_started_is_one_line_and_exit_4(monkeypatch, capsys):
    """No traceback: the line says what to do; the status is gunicorn's "App failed to load"."""
    import pytest

    from config import mongo, startup
    from config.embedded_mongodb import EmbeddedDatabaseError

    def cannot_start():
        raise EmbeddedDatabaseError("The embedded database did not start: set EMBEDDED_MONGODB_PORT.")

    def exit_(status):
        raise SystemExit(status)

    monkeypatch.setattr(mongo, "startup", cannot_start)
    monkeypatch.setattr(startup.os, "_exit", exit_)
    with pytest.raises(SystemExit) as caught:
        process_ready()
    assert caught.value.code == startup.DATABASE_UNAVAILABLE_EXIT == 4
    assert capsys.readouterr().err == "The embedded database did not start: set EMBEDDED_MONGODB_PORT.\n"


def test_any_other_start_up_error_is_raised_as_is(monkeypatch):
    import pytest

    from config import mongo

    def broken():
        raise ValueError("a bug")

    monkeypatch.setattr(mongo, "startup", broken)
    with pytest.raises(ValueError, match="a bug"):
        process_ready()


def test_without_a_sql_database_the_per_request_sql_housekeeping_is_disconnected(settings):
    """Django's reset_queries/close_old_connections have nothing to do with the dummy backend; a
    real SQL database keeps them."""
    from django.db import close_old_connections, reset_queries

    from config.startup import sql_housekeeping_off

    def connected():
        return (
            reset_queries in _receivers(signals.request_started),
            close_old_connections in _receivers(signals.request_started),
            close_old_connections in _receivers(signals.request_finished),
        )

    def _receivers(signal):
        return [ref() for _, ref, _ in signal.receivers]

    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    assert sql_housekeeping_off() is False
    assert connected() == (True, True, True)
    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.dummy"}}
    assert sql_housekeeping_off() is True
    assert connected() == (False, False, False)
