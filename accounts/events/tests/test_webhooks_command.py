"""manage.py webhooks: an admin's endpoints from a shell, with the API's rules, delivering for real."""
import io

import pytest
from django.core.management import CommandError, call_command

from accounts.events.documents import WebhookDelivery, WebhookEndpoint
from accounts.events.outbox import outbox_drain
from accounts.events.tests.receivers import Receiver
from accounts.events.webhooks import webhook_create
from tests.conftest import PASSWORD


def run(*args) -> str:
    out = io.StringIO()
    call_command("webhooks", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_secret_once_and_deliveries_verify_with_it(settings, api):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        outbox_drain()
        out = run("add", receiver.url, "--events", "user.created", "--description", "the CRM")
        secret = out.split("Secret (shown this once; verify signatures with it): ")[1].strip()
        assert secret.startswith("whsec_")
        receiver.secret = secret
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.events == ["user.created"] and endpoint.description == "the CRM"
        assert secret not in str(endpoint.to_mongo())  # stored encrypted
        assert secret not in run("list")
        api.post("/users/register", {"username": "cli", "email": "cli@example.com", "password": PASSWORD}, format="json")
        outbox_drain()
        assert [e["type"] for e in receiver.received] == ["user.created"] and receiver.forged == 0


def test_list_disable_enable_remove(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    endpoint, _ = webhook_create(url="http://127.0.0.1:9/hooks", events=["*"])
    assert f"{endpoint.id}  enabled " in run("list") and "1 webhook." in run("list")
    assert "disabled." in run("disable", str(endpoint.id))
    assert WebhookEndpoint.objects.get().enabled is False and f"{endpoint.id}  disabled" in run("list")
    assert "enabled." in run("enable", str(endpoint.id))
    assert WebhookEndpoint.objects.get().enabled is True
    assert "Removed webhook" in run("remove", str(endpoint.id))
    assert WebhookEndpoint.objects.count() == 0 and WebhookDelivery.objects.count() == 0
    assert "0 webhooks." in run("list")


@pytest.mark.parametrize(
    "args, message",
    [
        (("add", "http://127.0.0.1:9/x", "--events", "*"), "url:"),  # loopback refused by default
        (("add", "https://93.184.215.14/x", "--events", "user.nonsense"), "events: Choose among"),
        (("remove", "not-an-id"), "No webhook with this id."),
        (("enable", "65f000000000000000000000"), "No webhook with this id."),
    ],
)
def test_mistakes_are_one_line_and_write_nothing(settings, args, message):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert message in str(caught.value)
    assert WebhookEndpoint.objects.count() == 0
