"""What the trash stores: one entry per trashed account."""
from mongoengine import CASCADE, DateTimeField, Document, ObjectIdField, ReferenceField, StringField

from accounts.users.documents import User, now


class TrashEntry(Document):
    """An account in the trash: who moved it there, when and why. The stored names
    (`deleted_by`, `deleted_at`) predate the vocabulary and are what GET /trash answers."""

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    trashed_by = ObjectIdField(required=True, db_field="deleted_by")
    trashed_at = DateTimeField(default=now, db_field="deleted_at")
    reason = StringField(required=True, max_length=500)
    # A restore's intent, written before it takes the account out (accounts/admin/trash.py): the
    # id its audit event and user.restored event get, and who restores. Absent until then.
    restoring = ObjectIdField(null=True)
    restoring_by = ObjectIdField(null=True)

    meta = {"collection": "trash", "indexes": [{"fields": ["trashed_at"]}]}
