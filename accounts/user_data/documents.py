"""What remains of a chain-deleted user (a record with no reference to them)."""
from mongoengine import DateTimeField, DictField, Document, ObjectIdField, StringField

from accounts.users.documents import now


class DeletionRecord(Document):
    """What remains of a chain-deleted user: the id, who, when, why and how many documents
    went from each collection. Deliberately no reference to the user and nothing personal."""

    user_id = ObjectIdField(required=True)
    deleted_by = ObjectIdField(null=True)  # null when run from a management command
    deleted_at = DateTimeField(default=now)
    reason = StringField(default="")
    counts = DictField()

    meta = {"collection": "deletion_records", "indexes": [{"fields": ["user_id"]}, {"fields": ["-deleted_at"]}]}
