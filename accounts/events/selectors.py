"""Reads of the webhooks: endpoints, an endpoint's delivery log, the erasure receipts of a user."""
from bson import ObjectId
from rest_framework.exceptions import NotFound

from accounts.user_data.documents import DeletionRecord
from accounts.events.documents import CANCELLED, DELIVERED, FAILED, PENDING, OutboxJob, WebhookDelivery, WebhookEndpoint
from accounts.events.webhooks import USER_DELETED

DELIVERY_LOG_SIZE = 100


def webhook_get(*, webhook_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects(id=webhook_id).first() if ObjectId.is_valid(webhook_id) else None
    if endpoint is None:
        raise NotFound("No webhook with this id.")
    return endpoint


def webhook_row(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }


def webhooks_list() -> list[dict]:
    return [webhook_row(e) for e in WebhookEndpoint.objects.order_by("created_at")]


def deliveries_list(*, endpoint: WebhookEndpoint) -> list[dict]:
    """The endpoint's latest deliveries, newest first (one query)."""
    rows = WebhookDelivery._get_collection().find({"webhook": endpoint.id}).sort("created_at", -1).limit(DELIVERY_LOG_SIZE)
    return [
        {
            "id": str(row["_id"]),
            "event_id": row["event_id"],
            "type": row["type"],
            "status": FAILED if row["status"] == CANCELLED else row["status"],
            "attempts": row.get("attempts", 0),
            "last_status_code": row.get("last_status_code"),
            "last_error": row.get("last_error"),
            "next_attempt_at": row.get("next_attempt_at") if row["status"] == PENDING else None,
            "delivered_at": row.get("delivered_at"),
            "created_at": row["created_at"],
        }
        for row in rows
    ]


def receipt_status(row: dict) -> str:
    if row["status"] == DELIVERED:
        return "delivered"
    if row["status"] in (FAILED, CANCELLED):
        return "given_up"
    return "failing" if row.get("attempts") else "pending"


def receipts_for(*, user_ids: list[ObjectId]) -> dict[ObjectId, list[dict]]:
    """Per deleted user, one receipt per endpoint the user.deleted event went to (one query)."""
    found: dict[ObjectId, list[dict]] = {i: [] for i in user_ids}
    for row in WebhookDelivery._get_collection().find({"subject_id": {"$in": user_ids}, "type": USER_DELETED}).sort("created_at", 1):
        found[row["subject_id"]].append(
            {
                "webhook_id": str(row["webhook"]),
                "url": row["url"],
                "status": receipt_status(row),
                "attempts": row.get("attempts", 0),
                "delivered_at": row.get("delivered_at"),
            }
        )
    return found


def deletion_get(*, user_id: str) -> dict:
    """The deletion record of a chain-deleted user with its erasure receipts (three queries): the
    export of what remains of them. 404 when no deletion of this id is recorded."""
    record = DeletionRecord.objects(user_id=user_id).order_by("-deleted_at").first() if ObjectId.is_valid(user_id) else None
    if record is None:
        raise NotFound("No deletion of this user is recorded.")
    event = OutboxJob._get_collection().find_one({"subject_id": record.user_id, "payload.type": USER_DELETED}, {"status": 1})
    return {
        "user_id": str(record.user_id),
        "deleted_at": record.deleted_at,
        "deleted_by": str(record.deleted_by) if record.deleted_by else None,
        "reason": record.reason,
        "counts": record.counts,
        "notified": event is None or event["status"] != PENDING,
        "receipts": receipts_for(user_ids=[record.user_id])[record.user_id],
    }


def receipts_summary(*, since, wait: float = 0) -> dict[str, dict[str, int]]:
    """Per endpoint URL, how many user.deleted deliveries of events written since `since` are in each
    receipt status (`manage.py delete_users` prints it). With `wait`, first runs the outbox here
    for up to that many seconds, until every such event is fanned out and every delivery final."""
    import time
    from collections import Counter, defaultdict

    from accounts.events.outbox import outbox_drain

    deadline = time.monotonic() + wait
    events = OutboxJob._get_collection()
    deliveries = WebhookDelivery._get_collection()
    while wait and time.monotonic() < deadline:
        outbox_drain(rounds=1)
        pending_events = events.count_documents({"payload.type": USER_DELETED, "created_at": {"$gte": since}, "status": PENDING})
        if not pending_events and not deliveries.count_documents({"type": USER_DELETED, "timestamp": {"$gte": since}, "status": PENDING}):
            break
        time.sleep(0.2)
    found: dict[str, Counter] = defaultdict(Counter)
    # `timestamp` is the event's: the deletions of this run, not deliveries of older ones.
    for row in deliveries.find({"type": USER_DELETED, "timestamp": {"$gte": since}}, {"url": 1, "status": 1, "attempts": 1}):
        found[row["url"]][receipt_status(row)] += 1
    return {url: dict(counts) for url, counts in found.items()}
