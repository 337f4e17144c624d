"""config/startup.py: what config/wsgi.py and config/asgi.py run once per server process."""
import gc

from accounts.documents import User
from config.startup import process_ready


def test_process_ready_creates_the_first_admin_and_freezes_what_is_loaded(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "first", "first@example.com", "first admin passphrase"
    try:
        process_ready()
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert User.objects(role="admin").get().email == "first@example.com"
    assert frozen > 0
