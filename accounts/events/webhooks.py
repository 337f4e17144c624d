"""Lifecycle events for other services, signed by the Standard Webhooks scheme.

Guarantees:
- `event_emit` writes one `event` job to the outbox, nothing else, in the request: a worker fans
  it out to the enabled endpoints subscribed to its type (one `WebhookDelivery` each; a unique
  index on (event, endpoint) makes a fan-out run twice add nothing) and each delivery is
  retried on its own (accounts/events/outbox.py).
- A delivery is a POST of `{"type", "timestamp", "data"}` with the headers `webhook-id` (the
  event's id, the same on every retry and for every endpoint: receivers de-duplicate on it),
  `webhook-timestamp` and `webhook-signature` (`standardwebhooks`, HMAC-SHA256 with the endpoint's
  secret). A 2xx answer is delivered; anything else, a timeout or a refused connection is a
  failed attempt. Redirects are not followed (a 3xx fails) and no proxy from the environment is
  used, so a delivery reaches the address that was checked.
- `data` never holds a password hash, secret or token: it is built by `event_data` from a fixed
  list of the user's fields.
- SSRF: an endpoint's host is resolved and every address checked, at registration and again
  before every delivery; loopback, private, link-local, multicast, reserved and unspecified
  addresses are refused unless `WEBHOOKS_ALLOW_PRIVATE` is true.
- An endpoint that keeps failing is disabled: when a delivery to it is given up (every retry
  failed, about 27.6 hours) and nothing was delivered to it since that delivery began to fail,
  it is disabled with the reason, which the admin sees (`disabled_reason`); re-enabling it is a
  PATCH, and `manage.py outbox --retry` sends the given-up deliveries again.
"""
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
from datetime import datetime, timezone
from urllib.parse import urlsplit

from bson import ObjectId
from cryptography.fernet import InvalidToken
from django.conf import settings
from pymongo.errors import BulkWriteError
from rest_framework.exceptions import ValidationError
from standardwebhooks.webhooks import Webhook

from accounts.users.documents import User, now
from accounts.events.documents import DELIVERED, FAILED, PENDING, OutboxJob, WebhookDelivery, WebhookEndpoint
from accounts.events import outbox
from accounts.events.outbox import Cancelled, Deferred, DeliveryError

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "user.created",
    "user.updated",
    "user.email_verified",
    "user.trashed",
    "user.restored",
    "user.deleted",
    "session.ended",
    "mfa.enabled",
    "mfa.disabled",
    "identity.linked",
    "identity.unlinked",
)
ALL = "*"
USER_DELETED = "user.deleted"
# The only user fields an event may carry (never the password hash, a secret or a token).
USER_FIELDS = ("username", "email", "email_verified", "role")


# --- Secrets --------------------------------------------------------------------------------
def _fernet():
    from accounts.mfa.factors import _fernet as fernet  # one key ring for secrets at rest

    return fernet()


def secret_new() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(endpoint: dict) -> str | None:
    try:
        return _fernet().decrypt(endpoint["secret_encrypted"].encode()).decode()
    except InvalidToken:
        return None  # encrypted under a key no longer configured


# --- SSRF -----------------------------------------------------------------------------------
def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback or ip.is_link_local)


def url_problem(url: str) -> str | None:
    """Why `url` may not receive webhooks, or None. Resolves the host and checks every address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http or https URL."
    if parts.username or parts.password:
        return "A webhook URL may not hold a user name or password; the signature authenticates us."
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return "The URL's host name does not resolve."
    if not infos or not all(_address_allowed(info[4][0]) for info in infos):
        return "The URL's host resolves to a private, loopback or reserved address (WEBHOOKS_ALLOW_PRIVATE is off)."
    return None


def url_check(url: str) -> None:
    problem = url_problem(url)
    if problem:
        raise ValidationError({"url": [problem]})


# --- Endpoints (admin) ----------------------------------------------------------------------
def events_check(events: list[str]) -> list[str]:
    unknown = [e for e in events if e != ALL and e not in EVENT_TYPES]
    if unknown or not events:
        raise ValidationError({"events": [f"Choose among {', '.join(EVENT_TYPES)} or \"*\"."]})
    return sorted(set(events))


def webhook_create(*, url: str, events: list[str], description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint. Returns it and its secret, which is shown this once (stored
    encrypted). 400 for a URL that is refused (SSRF) or an unknown event type."""
    url_check(url)
    secret = secret_new()
    endpoint = WebhookEndpoint(
        url=url, events=events_check(events), description=description, secret_encrypted=_fernet().encrypt(secret.encode()).decode()
    )
    endpoint.save()
    return endpoint, secret


def webhook_update(*, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    """Change url, events, description or enabled. Enabling clears the reason it was disabled."""
    updates = {"updated_at": now()}
    if "url" in changes:
        url_check(changes["url"])
        updates["url"] = changes["url"]
    if "events" in changes:
        updates["events"] = events_check(changes["events"])
    if "description" in changes:
        updates["description"] = changes["description"]
    if "enabled" in changes:
        updates["enabled"] = bool(changes["enabled"])
        if changes["enabled"]:
            updates.update(disabled_reason=None, failing_since=None)
    WebhookEndpoint._get_collection().update_one({"_id": endpoint.id}, {"$set": updates})
    endpoint.reload()
    return endpoint


def webhook_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log. Its erasure receipts stay (they name its URL);
    those still pending are given up, since nobody will deliver them now."""
    deliveries = WebhookDelivery._get_collection()
    deliveries.delete_many({"webhook": endpoint.id, "type": {"$ne": USER_DELETED}})
    deliveries.update_many(
        {"webhook": endpoint.id, "type": USER_DELETED, "status": PENDING},
        {"$set": {"status": FAILED, "last_error": "the endpoint was deleted", "finished_at": now(), "data": None}},
    )
    endpoint.delete()


# --- Events ---------------------------------------------------------------------------------
def event_data(user: User, **extra) -> dict:
    """What an event says about a user: the id, the fields of USER_FIELDS and the linked ids."""
    from accounts.users.documents import LinkedId

    data = {"user_id": str(user.id), **{name: getattr(user, name, None) for name in USER_FIELDS}}
    data["linked_ids"] = [row["linked_id"] for row in LinkedId._get_collection().find({"user": user.id}, {"linked_id": 1}).sort("created_at", 1)]
    return {**data, **extra}


def event_job(event_type: str, *, user_id: ObjectId, data: dict, user_reference: bool = True) -> dict:
    """The outbox document of an event (for `event_emit`, or for a caller that writes it with
    other jobs)."""
    assert event_type in EVENT_TYPES, event_type
    payload = {"type": event_type, "data": {"user_id": str(user_id), **data}, "timestamp": now()}
    return OutboxJob(kind="event", payload=payload, user=user_id if user_reference else None, subject_id=user_id).to_mongo().to_dict()


def event_emit(event_type: str, *, user_id: ObjectId, data: dict | None = None, guard=None) -> ObjectId:
    """Write the event to the outbox (one round trip). Events about a user reference them, so a
    user deleted before delivery takes their pending events along (user.deleted, which must
    outlive them, is written by `user_deleted_events`).

    `guard`: the `owner_guard` block (accounts/users/guard.py) of the write the event describes;
    the event is one of the block's writes, proven with them by the block's one proof and removed
    with them when the owner turned out to be gone (no event about a change that was undone)."""
    return outbox.outbox_write([event_job(event_type, user_id=user_id, data=data or {})], guard=guard)[0]


def event_data_update(event_id: ObjectId, **fields) -> None:
    """Correct what a pending event says (a first sign-in's user.created, written before its
    account, whose username turned out to be taken: the free one it got instead)."""
    OutboxJob._get_collection().update_one({"_id": event_id, "status": PENDING}, {"$set": {f"payload.data.{name}": value for name, value in fields.items()}})


def identity_event_data(identity) -> dict:
    """What identity.linked / identity.unlinked say about an identity (accounts/providers): which
    one, at which provider, and the person's id there; not the email the provider shared."""
    return {"identity_id": str(identity.id), "provider": identity.provider, "issuer": identity.issuer, "subject": identity.subject}


def user_deleted_events(*, user_ids: list[ObjectId]) -> None:
    """Before a chain delete removes anything: one user.deleted event per user, holding the id and
    the user's linked external ids (what receivers need to find their copy), no reference to the
    user. Written once per user (a unique index): running a crashed delete again adds none. The
    fan-out waits until the user is really gone (`event_fan_out`). Three round trips."""
    from accounts.users.documents import LinkedId

    # Only ids that are users (a bulk delete may name others); on a run again after a crash, the
    # users not yet gone (those already gone have their event from the first run).
    user_ids = [row["_id"] for row in User._get_collection().find({"_id": {"$in": list(user_ids)}}, {"_id": 1})]
    if not user_ids:
        return
    linked: dict[ObjectId, list[str]] = {i: [] for i in user_ids}
    for row in LinkedId._get_collection().find({"user": {"$in": user_ids}}, {"user": 1, "linked_id": 1}).sort("created_at", 1):
        linked[row["user"]].append(row["linked_id"])
    documents = [event_job(USER_DELETED, user_id=i, data={"linked_ids": linked[i]}, user_reference=False) for i in user_ids]
    try:
        OutboxJob._get_collection().insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
            raise


# Events a request may write before the user they are about exists (a sign-up writes them first,
# under the id it chose): their fan-out waits for the user (accounts/providers writes
# identity.linked with the user.created of a first sign-in).
WRITTEN_BEFORE_THE_USER = ("user.created", "identity.linked")


def _cause_visible(job: dict) -> None:
    """Raise Deferred while the change an event announces is not visible: the user of the events
    of WRITTEN_BEFORE_THE_USER must exist, the user of user.deleted must be gone."""
    event_type = job["payload"]["type"]
    if event_type not in (*WRITTEN_BEFORE_THE_USER, USER_DELETED):
        return
    exists = User._get_collection().find_one({"_id": job["subject_id"]}, {"_id": 1}) is not None
    if exists != (event_type in WRITTEN_BEFORE_THE_USER):
        raise Deferred()


def event_fan_out(job: dict) -> None:
    """The worker's part of an event: one delivery per enabled endpoint subscribed to its type."""
    _cause_visible(job)
    payload = job["payload"]
    endpoints = WebhookEndpoint._get_collection().find({"enabled": True, "events": {"$in": [payload["type"], ALL]}}, {"url": 1})
    deleted = payload["type"] == USER_DELETED
    deliveries = [
        WebhookDelivery(
            webhook=endpoint["_id"],
            url=endpoint["url"],
            event_id=f"msg_{job['_id']}",
            type=payload["type"],
            timestamp=payload["timestamp"],
            data=payload["data"],
            user=None if deleted else job.get("user"),
            subject_id=job.get("subject_id"),
        ).to_mongo().to_dict()
        for endpoint in endpoints
    ]
    if deliveries:
        try:
            WebhookDelivery._get_collection().insert_many(deliveries, ordered=False)
        except BulkWriteError as exc:  # a fan-out done again after a crash: those exist already
            if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                raise
    if deleted:  # the linked ids now live only in the deliveries, which drop them when final
        OutboxJob._get_collection().update_one({"_id": job["_id"]}, {"$set": {"payload.data": {"user_id": payload["data"]["user_id"]}}})


# --- Delivery -------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer, not an instruction: it fails the attempt


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def delivery_body(delivery: dict) -> str:
    timestamp = delivery["timestamp"].replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
    # A receipt retried after it was final has dropped the linked ids: it still names the user.
    data = delivery.get("data") or {"user_id": str(delivery.get("subject_id"))}
    return json.dumps({"type": delivery["type"], "timestamp": timestamp, "data": data}, separators=(",", ":"))


def delivery_handle(delivery: dict) -> str | None:
    """POST one delivery, signed. Raises DeliveryError for a failed attempt."""
    endpoint = WebhookEndpoint._get_collection().find_one({"_id": delivery["webhook"]})
    if endpoint is None:
        raise Cancelled("the endpoint was deleted")
    if not endpoint.get("enabled"):
        raise DeliveryError("the endpoint is disabled")
    secret = secret_of(endpoint)
    if secret is None:
        raise DeliveryError("the endpoint's secret cannot be decrypted (MFA_ENCRYPTION_KEYS changed)")
    problem = url_problem(endpoint["url"])  # again: the name may resolve elsewhere by now
    if problem:
        raise DeliveryError(problem)
    body = delivery_body(delivery)
    sent_at = datetime.now(tz=timezone.utc)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "user-service-webhooks",
        "webhook-id": delivery["event_id"],
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery["event_id"], sent_at, body),
    }
    request = urllib.request.Request(endpoint["url"], data=body.encode(), headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # refused, reset, timed out, TLS
        _endpoint_failed(endpoint["_id"])
        raise DeliveryError(f"no answer: {type(exc).__name__}", extra={"last_status_code": None}) from None
    if not 200 <= status < 300:
        _endpoint_failed(endpoint["_id"])
        raise DeliveryError(f"HTTP {status}", extra={"last_status_code": status})
    at = now()
    WebhookEndpoint._get_collection().update_one({"_id": endpoint["_id"]}, {"$set": {"last_success_at": at, "failing_since": None}})
    final = {"last_status_code": status, "delivered_at": at, "attempts": delivery.get("attempts", 0) + 1, "last_error": None}
    if delivery["type"] == USER_DELETED:
        final["data"] = None  # the receipt stays; the linked ids go
    outbox.job_finish(WebhookDelivery, delivery, status=DELIVERED, keep=delivery["type"] == USER_DELETED, extra=final)
    return DELIVERED


def _endpoint_failed(endpoint_id: ObjectId) -> None:
    WebhookEndpoint._get_collection().update_one({"_id": endpoint_id, "failing_since": None}, {"$set": {"failing_since": now()}})


def delivery_given_up(delivery: dict, exc: Exception) -> None:
    """A delivery failed for good: drop what a receipt must not keep, and disable its endpoint if
    nothing reached it since this delivery began to fail."""
    if delivery["type"] == USER_DELETED:
        WebhookDelivery._get_collection().update_one({"_id": delivery["_id"]}, {"$set": {"data": None}})
    created = delivery["created_at"]
    reason = f"Disabled {now():%Y-%m-%d %H:%M} UTC: every attempt to deliver {delivery['event_id']} failed (last: {exc}) and nothing was delivered since."
    WebhookEndpoint._get_collection().update_one(
        {"_id": delivery["webhook"], "enabled": True, "$or": [{"last_success_at": None}, {"last_success_at": {"$lt": created}}]},
        {"$set": {"enabled": False, "disabled_reason": reason}},
    )



outbox.kind_handler_register("event", event_fan_out)
outbox.queue_register(WebhookDelivery, delivery_handle, delivery_given_up, name="webhook")
