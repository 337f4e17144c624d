"""Bringing users stored before the look-alike rules (issue 12, item 10) under them.

Such users have no `username_skeleton`, and an email with a Unicode domain is stored, and keyed,
as it was typed. They keep working as they are (login looks up the older email key too), but the
unique indexes cannot refuse a look-alike of their names until they carry the new fields.
`identities_normalize` sets them, user by user, through the same unique indexes: a user whose
name or email turns out to look like another account's is left unchanged and reported, for a
person to decide (rename one of them).
"""
from pymongo.errors import DuplicateKeyError

from accounts.users.documents import User, casefold_key
from accounts.users.identity import EmailError, email_normalize, username_skeleton


def identities_normalize(*, dry_run: bool = False, batch_size: int = 500) -> tuple[int, list[str]]:
    """Give every user without a skeleton its skeleton, keys and stored email form. Returns how
    many users were (or, with `dry_run`, would be) updated and the problems, one line each.
    Reads in batches by id; safe to interrupt and to run again."""
    collection = User._get_collection()
    updated, problems, after = 0, [], None
    while True:
        query: dict = {"username_skeleton": {"$exists": False}}
        if after is not None:
            query["_id"] = {"$gt": after}
        rows = list(collection.find(query, {"username": 1, "email": 1}).sort("_id", 1).limit(batch_size))
        if not rows:
            return updated, problems
        for row in rows:
            after = row["_id"]
            fields = {"username_key": casefold_key(row["username"]), "username_skeleton": username_skeleton(row["username"])}
            try:
                email = email_normalize(row["email"])
                fields.update(email=email, email_key=casefold_key(email))
            except EmailError:
                problems.append(f"{row['_id']}: the email is not valid under the current rules; kept as it is")
            if dry_run:
                updated += 1
                continue
            try:
                collection.update_one({"_id": row["_id"]}, {"$set": fields})
            except DuplicateKeyError:
                problems.append(f"{row['_id']}: its username or email would look alike another account's; left unchanged")
                continue
            updated += 1
