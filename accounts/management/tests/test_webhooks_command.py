"""manage.py webhooks: an operator registers, lists, enables, disables and removes endpoints with
the admin API's rules; the secret is printed once, and a receiver verifies deliveries with it."""
import io
import re

import pytest
from django.core.management import CommandError, call_command

from accounts.events.documents import WebhookEndpoint
from accounts.events.outbox import outbox_drain
from accounts.events.tests.receivers import Receiver


def run(*args) -> str:
    out = io.StringIO()
    call_command("webhooks", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_secret_once_and_a_receiver_verifies_with_it(settings, make_user):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    outbox_drain()
    with Receiver() as receiver:
        added = run("add", receiver.url, "--events", "user.created", "--description", "crm")
        webhook_id, secret = re.search(r"Webhook ([0-9a-f]{24}) registered", added).group(1), re.search(r"(whsec_\S+)", added).group(1)
        receiver.secret = secret
        user = make_user("heard", "heard@example.com")
        outbox_drain()
        assert receiver.forged == 0 and [p["data"]["user_id"] for p in receiver.received] == [str(user.id)]
    listed = run("list")
    assert webhook_id in listed and "enabled" in listed and "user.created" in listed and "crm" in listed
    assert "whsec_" not in listed and "1 webhook." in listed
    assert secret not in str(WebhookEndpoint._get_collection().find_one())  # stored encrypted


def test_enable_disable_and_remove(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    webhook_id = re.search(r"Webhook (\w+) registered", run("add", "https://93.184.215.14/hooks", "--events", "*")).group(1)
    assert "Webhook" in run("disable", webhook_id)
    assert WebhookEndpoint.objects.get(id=webhook_id).enabled is False
    assert "disabled (by an admin)" in run("list")
    run("enable", webhook_id)
    assert WebhookEndpoint.objects.get(id=webhook_id).enabled is True
    run("remove", webhook_id)
    assert WebhookEndpoint.objects.count() == 0 and "0 webhooks." in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "http://127.0.0.1:9/x", "--events", "*"), "url: The URL's host resolves to a private"),
        (("add", "ftp://example.com/x", "--events", "*"), "url: Enter an http or https URL."),
        (("add", "https://93.184.215.14/hooks", "--events", "user.exploded"), "events:"),
        (("remove", "nope"), "No webhook with the id 'nope'."),
        (("enable", "0123456789abcdef01234567"), "No webhook with the id"),
    ],
)
def test_mistakes_are_one_line_and_change_nothing(settings, args, message):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert WebhookEndpoint.objects.count() == 0
