"""manage.py webhooks: the webhook endpoints, for an operator at the command line (the same rules
as the admin API, `POST /webhooks` ...: accounts/events/webhooks.py).

    manage.py webhooks add URL --events TYPE [TYPE ...] [--description TEXT]
                                        register one; prints its id and its secret, this once
    manage.py webhooks list             every endpoint: id, enabled or why it was disabled, URL, events
    manage.py webhooks enable ID        turn on one the service disabled (or `disable ID`)
    manage.py webhooks remove ID        delete it and its delivery log (its erasure receipts stay)

The secret is shown only by `add` (stored encrypted); give it to the receiver.
"""
from django.core.management.base import CommandError

from accounts.events import selectors, webhooks
from accounts.events.serializers import WebhookInput
from accounts.management.errors import ServiceCommand, plural
from common.validation import validated


class Command(ServiceCommand):
    help = "Register, list, enable, disable and remove webhook endpoints (the secret is shown once, by add)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list,enable,disable,remove}")
        add = actions.add_parser("add", help="register an endpoint; prints its secret, this once")
        add.add_argument("url")
        add.add_argument("--events", nargs="+", required=True, metavar="TYPE", help=f'among {", ".join(webhooks.EVENT_TYPES)}, or "*" for all')
        add.add_argument("--description", default="")
        actions.add_parser("list", help="every endpoint")
        for name, text in (("enable", "turn an endpoint on again"), ("disable", "stop deliveries to it"), ("remove", "delete it and its delivery log")):
            actions.add_parser(name, help=text).add_argument("id")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, *, url: str, events: list[str], description: str, **options):
        data = validated(WebhookInput, {"url": url, "events": events, "description": description})
        endpoint, secret = webhooks.webhook_create(url=data["url"], events=data["events"], description=data["description"])
        self.stdout.write(self.style.SUCCESS(f"Webhook {endpoint.id} registered for {', '.join(endpoint.events)}."))
        self.stdout.write(f"Its secret, shown this once (give it to the receiver): {secret}")

    def _list(self, **options):
        rows = selectors.webhooks_list()
        for row in rows:
            state = "enabled" if row["enabled"] else f"disabled ({row['disabled_reason'] or 'by an admin'})"
            self.stdout.write(f"{row['id']}  {state}  {row['url']}  {','.join(row['events'])}  {row['description']}".rstrip())
        self.stdout.write(f"{plural(len(rows), 'webhook')}.")

    def _endpoint(self, webhook_id: str):
        try:
            return selectors.webhook_get(webhook_id=webhook_id)
        except Exception as exc:  # NotFound: one line, the id as given
            raise CommandError(f"No webhook with the id {webhook_id!r}.") from exc

    def _enable(self, *, id: str, **options):
        webhooks.webhook_update(endpoint=self._endpoint(id), changes={"enabled": True})
        self.stdout.write(self.style.SUCCESS(f"Webhook {id} enabled."))

    def _disable(self, *, id: str, **options):
        webhooks.webhook_update(endpoint=self._endpoint(id), changes={"enabled": False})
        self.stdout.write(self.style.SUCCESS(f"Webhook {id} disabled."))

    def _remove(self, *, id: str, **options):
        webhooks.webhook_delete(endpoint=self._endpoint(id))
        self.stdout.write(self.style.SUCCESS(f"Webhook {id} removed."))
