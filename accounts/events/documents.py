"""What the outbox and the webhooks store (README, "Integrating other services").

- `OutboxJob` (collection `outbox`): one piece of work to do outside the request: a mail to send
  (`kind` `mail`) or an event to fan out to the webhook endpoints (`kind` `event`). A job that
  carries a user's data references the user with CASCADE, so the chain delete, the export and
  `check_integrity` cover it by that declaration (a pending mail to a deleted user goes with
  them). The one job that must outlive its user, `user.deleted`, holds no reference: only the
  bare id (`subject_id`) and the user's linked external ids, which receivers need to find their
  own copy, and loses those once every delivery of it is final.
- `WebhookDelivery` (collection `webhook_deliveries`): one event for one endpoint, claimed and
  retried like a job, and the endpoint's delivery log. Those of `user.deleted` are the erasure
  receipts; they are kept (without the linked ids) after the user is gone.
- `WebhookEndpoint` (collection `webhook_endpoints`): a receiver registered by an admin; its
  signing secret is stored encrypted (Fernet, the keys of `MFA_ENCRYPTION_KEYS`).

Every job is claimed by one atomic findAndModify that sets a lease (`leased_until`, `lease_token`);
a worker that dies leaves the lease to expire and another worker takes the job up again. Only the
holder of the current lease may record the outcome (the update names its `lease_token`).
"""
from mongoengine import (
    CASCADE,
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    IntField,
    ListField,
    ObjectIdField,
    ReferenceField,
    StringField,
)

from accounts.users.documents import User, now

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
JOB_STATUSES = (PENDING, DELIVERED, FAILED, CANCELLED)

_CLAIM_INDEX = {"fields": ["status", "next_attempt_at"], "partialFilterExpression": {"status": PENDING}}


class OutboxJob(Document):
    kind = StringField(required=True, choices=("mail", "event"))
    status = StringField(default=PENDING, choices=JOB_STATUSES)
    # mail: {"template", "to"?, ...}; event: {"type", "data", "timestamp"}. Never a token or hash.
    payload = DictField()
    # The user the job is about, when it carries their data (CASCADE: goes with the user).
    user = ReferenceField(User, null=True, reverse_delete_rule=CASCADE)
    # The user an event is about, kept as a bare id (user.deleted outlives the user).
    subject_id = ObjectIdField(null=True)
    attempts = IntField(default=0)
    next_attempt_at = DateTimeField(default=now)
    leased_until = DateTimeField(null=True)
    lease_token = StringField(null=True)
    last_error = StringField(null=True)
    created_at = DateTimeField(default=now)
    finished_at = DateTimeField(null=True)
    # Finished jobs are dropped by the TTL index a while after they finished.
    expires_at = DateTimeField(null=True)

    export_exclude = ("lease_token",)
    meta = {
        "collection": "outbox",
        "indexes": [
            _CLAIM_INDEX,
            "user",
            {"fields": ["status", "-created_at"]},
            {"fields": ["expires_at"], "expireAfterSeconds": 0},
            # One user.deleted event per user, however often a crashed chain delete is run again.
            {
                "fields": ["subject_id"],
                "unique": True,
                "partialFilterExpression": {"payload.type": "user.deleted"},
                "name": "one_user_deleted_event",
            },
        ],
    }


class WebhookEndpoint(Document):
    url = StringField(required=True)
    events = ListField(StringField(), required=True)
    description = StringField(default="")
    enabled = BooleanField(default=True)
    disabled_reason = StringField(null=True)
    secret_encrypted = StringField(required=True)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    last_success_at = DateTimeField(null=True)
    # The first failure since the last success: an endpoint failing since then is disabled once
    # a delivery to it is given up.
    failing_since = DateTimeField(null=True)

    meta = {"collection": "webhook_endpoints", "indexes": ["enabled"]}


class WebhookDelivery(Document):
    # A bare id and the URL as it was: an erasure receipt outlives an endpoint deleted later.
    webhook = ObjectIdField(required=True)
    url = StringField(required=True)
    event_id = StringField(required=True)  # the `webhook-id` sent, the same on every retry
    type = StringField(required=True)
    timestamp = DateTimeField(required=True)
    data = DictField(null=True)  # dropped once a user.deleted delivery is final
    user = ReferenceField(User, null=True, reverse_delete_rule=CASCADE)
    subject_id = ObjectIdField(null=True)
    status = StringField(default=PENDING, choices=JOB_STATUSES)
    attempts = IntField(default=0)
    next_attempt_at = DateTimeField(default=now)
    leased_until = DateTimeField(null=True)
    lease_token = StringField(null=True)
    last_status_code = IntField(null=True)
    last_error = StringField(null=True)
    created_at = DateTimeField(default=now)
    delivered_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)

    export_exclude = ("lease_token",)
    meta = {
        "collection": "webhook_deliveries",
        "indexes": [
            _CLAIM_INDEX,
            {"fields": ["event_id", "webhook"], "unique": True},  # a fan-out run twice adds nothing
            {"fields": ["webhook", "-created_at"]},
            {"fields": ["subject_id", "type"]},
            "user",
            {"fields": ["expires_at"], "expireAfterSeconds": 0},
        ],
    }
