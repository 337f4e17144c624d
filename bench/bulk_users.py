"""Users for the bulk-delete benchmarks, written straight into the database (the API would hash
a password per user): each with a linked id and details, as `delete_users` finds them."""
from datetime import datetime

from bson import ObjectId


def users_insert(db, n: int, *, stamp: datetime, batch: int) -> None:
    """Insert `n` users (with one linked id and one details document each) in batches of `batch`."""
    for start in range(0, n, batch):
        ids = [ObjectId() for _ in range(min(batch, n - start))]
        db["users"].insert_many(
            [
                {"_id": i, "username": f"bulk {start + k}", "username_key": f"bulk {start + k}", "email": f"b{start + k}@bulk.example",
                 "email_key": f"b{start + k}@bulk.example", "password": "!", "role": "user", "is_active": True, "in_trash": False,
                 "token_version": 0, "has_avatar": False, "created_at": stamp, "updated_at": stamp}
                for k, i in enumerate(ids)
            ]
        )
        db["linked_ids"].insert_many([{"linked_id": f"l-{i}", "user": i, "created_at": stamp} for i in ids])
        db["details"].insert_many([{"user": i, "address": "x", "preferences": {}} for i in ids])
