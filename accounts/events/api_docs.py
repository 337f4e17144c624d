"""What the API's users read about the webhook and erasure-receipt operations."""
from drf_spectacular.utils import extend_schema_view

from accounts.events.views import DeletionViewSet, WebhookViewSet
from common.openapi import documented

ADMIN = "Admins only (`Authorization: Bearer <access>`)."
NOT_ADMIN = "The caller is not an admin."
NO_WEBHOOK = "No webhook endpoint with this id (a malformed or unknown id)."
TAG = "webhooks"

extend_schema_view(
    create=documented(
        "create_webhook",
        "Register a webhook endpoint",
        f"""
{ADMIN} Registers a receiver of our lifecycle events: its URL, the event types it wants (`"*"`
for all) and a description. The answer holds the signing secret (`whsec_...`) this once: give
it to the receiver, which verifies every delivery's `webhook-signature` with it (Standard
Webhooks). A URL whose host resolves to a loopback, private or reserved address is refused
unless the service allows it (`WEBHOOKS_ALLOW_PRIVATE`).
""",
        tag=TAG,
        statuses={201: "Registered; the secret is shown this once.", 400: "A URL that is not http(s), does not resolve or is not public, or an unknown event type.", 403: NOT_ADMIN},
    ),
    list=documented(
        "list_webhooks",
        "List the webhook endpoints",
        f"{ADMIN} Every endpoint, oldest first, without its secret. `disabled_reason` says why the service turned one off.",
        tag=TAG,
        statuses={200: "The endpoints.", 403: NOT_ADMIN},
    ),
    retrieve=documented(
        "get_webhook", "Read a webhook endpoint", f"{ADMIN} One endpoint, without its secret.", tag=TAG, statuses={200: "The endpoint.", 403: NOT_ADMIN, 404: NO_WEBHOOK}
    ),
    partial_update=documented(
        "update_webhook",
        "Change a webhook endpoint",
        f"""
{ADMIN} Changes the URL (checked as at registration), the event types, the description, or
`enabled`: `true` turns on an endpoint the service disabled after it kept failing (the reason is
cleared); deliveries it gave up on are sent again by `manage.py outbox --retry`.
""",
        tag=TAG,
        statuses={200: "The endpoint as it is now.", 400: "A refused URL or an unknown event type.", 403: NOT_ADMIN, 404: NO_WEBHOOK},
    ),
    destroy=documented(
        "delete_webhook",
        "Remove a webhook endpoint",
        f"""
{ADMIN} Removes the endpoint and its delivery log; nothing more is sent to it. Its erasure
receipts (`user.deleted`) are kept; those still pending are given up.
""",
        tag=TAG,
        statuses={204: "Removed.", 403: NOT_ADMIN, 404: NO_WEBHOOK},
    ),
    deliveries=documented(
        "list_webhook_deliveries",
        "The endpoint's delivery log",
        f"""
{ADMIN} The latest 100 deliveries to this endpoint, newest first: the event (`event_id` is the
`webhook-id` header, the same on every retry), its status (`pending` while retries go on,
`delivered` after a 2xx, `failed` once every retry failed), the attempts so far, the last HTTP
status or error, and when the next attempt is due. No payload: deliveries are listed, never shown.
""",
        tag=TAG,
        statuses={200: "The delivery log.", 403: NOT_ADMIN, 404: NO_WEBHOOK},
    ),
)(WebhookViewSet)

extend_schema_view(
    retrieve=documented(
        "get_deletion",
        "What remains of a deleted user, with the erasure receipts",
        f"""
{ADMIN} The deletion record of a chain-deleted user (when, by whom, why, how many documents went
from each collection) and, per webhook endpoint that was sent `user.deleted`, a receipt:
`delivered` (the receiver answered 2xx, and when), `failing` (attempts failed, retries go on),
`given_up` (every retry failed) or `pending` (not tried yet). `notified` is false while the event
is still being handed to the endpoints. Nothing personal of the user is kept.
""",
        tag=TAG,
        statuses={200: "The record and its receipts.", 403: NOT_ADMIN, 404: "No deletion of this user id is recorded."},
    ),
)(DeletionViewSet)
