"""Input and output shapes of the webhook endpoints and the erasure receipts."""
from rest_framework import serializers

from accounts.events.webhooks import ALL, EVENT_TYPES

EVENT_CHOICES = (*EVENT_TYPES, ALL)


class WebhookInput(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="Where events are POSTed: http or https, on a public address.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, max_length=len(EVENT_CHOICES), help_text='Event types wanted; "*" for all.'
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class WebhookPatchInput(serializers.Serializer):
    url = serializers.URLField(max_length=2000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, max_length=len(EVENT_CHOICES), required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False, help_text="true re-enables an endpoint that was disabled for failing.")


class WebhookOutput(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(allow_null=True, help_text="Why the service disabled it (null when enabled, or disabled by an admin).")
    created_at = serializers.DateTimeField()


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.CharField(help_text="`whsec_...`: the signing secret, shown this once. Give it to the receiver.")


class DeliveryOutput(serializers.Serializer):
    id = serializers.CharField()
    event_id = serializers.CharField(help_text="The `webhook-id` header: the same on every retry; receivers de-duplicate on it.")
    type = serializers.CharField()
    status = serializers.ChoiceField(choices=("pending", "delivered", "failed"), help_text="`failed`: given up after every retry.")
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True, help_text="Why the last attempt failed (no answer, HTTP 500 ...).")
    next_attempt_at = serializers.DateTimeField(allow_null=True, help_text="When a pending delivery is tried next.")
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ReceiptOutput(serializers.Serializer):
    webhook_id = serializers.CharField()
    url = serializers.CharField()
    status = serializers.ChoiceField(
        choices=("pending", "failing", "delivered", "given_up"),
        help_text="`delivered`: the receiver answered 2xx; `failing`: attempts failed, retries go on; `given_up`: every retry failed.",
    )
    attempts = serializers.IntegerField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class DeletionOutput(serializers.Serializer):
    user_id = serializers.CharField()
    deleted_at = serializers.DateTimeField()
    deleted_by = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Documents removed, per collection.")
    notified = serializers.BooleanField(help_text="false while the user.deleted event is still being handed to the endpoints.")
    receipts = ReceiptOutput(many=True)
