"""manage.py webhooks: the admin's webhook endpoints from a shell (the same rules as `/webhooks`).

    manage.py webhooks add URL --events user.created user.deleted [--description TEXT]
                                        register an endpoint; its secret is printed this once
    manage.py webhooks list             every endpoint: id, enabled, events, URL, why disabled
    manage.py webhooks enable ID        turn on one the service disabled (or an admin did)
    manage.py webhooks disable ID       stop deliveries to it (they wait, and are given up later)
    manage.py webhooks remove ID        delete it and its delivery log; erasure receipts stay

The rules are the API's own (accounts/events/webhooks.py): the URL is resolved and refused on a
private or loopback address unless WEBHOOKS_ALLOW_PRIVATE is true, the event types are checked
against the catalogue (`*` for all), and the secret is stored encrypted.
"""
from accounts.events.selectors import webhook_get, webhooks_list
from accounts.events.webhooks import EVENT_TYPES, webhook_create, webhook_delete, webhook_update
from accounts.management.errors import ServiceCommand, plural


class Command(ServiceCommand):
    help = "Register, list, enable, disable or remove webhook endpoints (lifecycle events)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list,enable,disable,remove}")
        add = actions.add_parser("add", help="register an endpoint; prints its secret once")
        add.add_argument("url")
        add.add_argument("--events", nargs="+", required=True, metavar="TYPE", help=f"of: {', '.join(EVENT_TYPES)}, or *")
        add.add_argument("--description", default="")
        actions.add_parser("list", help="every endpoint")
        for name, text in (("enable", "turn deliveries on"), ("disable", "turn deliveries off"), ("remove", "delete the endpoint")):
            actions.add_parser(name, help=text).add_argument("webhook_id", metavar="ID")

    def handle(self, *args, action: str, **options):
        if action == "add":
            endpoint, secret = webhook_create(url=options["url"], events=options["events"], description=options["description"])
            self.stdout.write(self.style.SUCCESS(f"Registered webhook {endpoint.id} for {', '.join(endpoint.events)} at {endpoint.url}."))
            self.stdout.write(f"Secret (shown this once; verify signatures with it): {secret}")
            return
        if action == "list":
            rows = webhooks_list()
            for row in rows:
                state = "enabled " if row["enabled"] else "disabled"
                why = f"  ({row['disabled_reason']})" if row["disabled_reason"] else ""
                self.stdout.write(f"{row['id']}  {state}  {','.join(row['events']):<28} {row['url']}{why}")
            self.stdout.write(f"{plural(len(rows), 'webhook')}.")
            return
        endpoint = webhook_get(webhook_id=options["webhook_id"])  # 404 -> CommandError "No webhook with this id."
        if action == "remove":
            webhook_delete(endpoint=endpoint)
            self.stdout.write(self.style.SUCCESS(f"Removed webhook {endpoint.id}; its erasure receipts stay."))
            return
        webhook_update(endpoint=endpoint, changes={"enabled": action == "enable"})
        self.stdout.write(self.style.SUCCESS(f"Webhook {endpoint.id} {action}d."))
