"""The import of users from the older systems (`manage.py import_users`): all or nothing."""
from bson import ObjectId
from pymongo.errors import BulkWriteError

from accounts.users.documents import LinkedId, User, casefold_key
from accounts.users.identity import username_skeleton
from accounts.users.linked_ids import link_copy_entry


def _problems(rows: list[dict]) -> list[str]:
    """Every reason to refuse the rows, by line: repeats within them, and what is taken."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        for key in (f"username:{username_skeleton(row['username'])}", f"email:{casefold_key(row['email'])}", f"linked_id:{row.get('linked_id')}"):
            if key.endswith(":None"):
                continue
            if key in seen:
                problems.append(f"line {row['line']}: {key.split(':')[0]} repeats line {seen[key]}")
            seen.setdefault(key, row["line"])
    # Taken: the same key, or a look-alike (same skeleton) of a stored name.
    keys, skeletons = [casefold_key(r["username"]) for r in rows], [username_skeleton(r["username"]) for r in rows]
    taken = User._get_collection().find(
        {"$or": [{"username_key": {"$in": keys}}, {"username_skeleton": {"$in": skeletons}}]}, {"username_key": 1, "username_skeleton": 1}
    )
    taken_names = {value for row in taken for value in (row.get("username_key"), row.get("username_skeleton")) if value}
    taken_emails = set(User.objects(email_key__in=[casefold_key(r["email"]) for r in rows]).distinct("email_key"))
    taken_links = set(LinkedId.objects(linked_id__in=[r["linked_id"] for r in rows if r.get("linked_id")]).distinct("linked_id"))
    taken_ids = set(User.objects(id__in=[r["id"] for r in rows if r.get("id")]).distinct("id"))
    for row in rows:
        if casefold_key(row["username"]) in taken_names or username_skeleton(row["username"]) in taken_names:
            problems.append(f"line {row['line']}: username {row['username']!r} is taken")
        if casefold_key(row["email"]) in taken_emails:
            problems.append(f"line {row['line']}: email {row['email']!r} is taken")
        if row.get("linked_id") in taken_links:
            problems.append(f"line {row['line']}: linked_id {row['linked_id']!r} is taken")
        if row.get("id") in taken_ids:
            problems.append(f"line {row['line']}: _id {row['id']} exists")
    return problems


def users_import(*, rows: list[dict], dry_run: bool = False) -> int:
    """Insert checked users (`username`, `email`, wrapped legacy `password`, optional `id`
    and `linked_id`, and the file `line`), all or nothing.

    Refuses (ValueError listing every problem by line) duplicates within the rows and names,
    emails or linked ids already taken. There are no transactions to lean on, so if the
    database refuses a write midway, what this call inserted is deleted again."""
    problems = _problems(rows)
    if problems:
        raise ValueError("\n".join(sorted(problems, key=lambda p: int(p.split(":")[0].split()[1]))))
    if dry_run:
        return len(rows)
    users = []
    for row in rows:
        user = User(
            username=row["username"],
            username_key=casefold_key(row["username"]),
            username_skeleton=username_skeleton(row["username"]),
            email=row["email"],
            email_key=casefold_key(row["email"]),
            password=row["password"],
        )
        user.id = row.get("id") or ObjectId()
        users.append(user)
    links = []
    for row, user in zip(rows, users):
        user.links_copy = []  # the copy the join reads (accounts/users/linked_ids.py), written with the user
        if row.get("linked_id"):
            links.append(LinkedId(id=ObjectId(), linked_id=row["linked_id"], user=user.id))
            user.links_copy = [link_copy_entry(links[-1])]
    user_ids = [u.id for u in users]
    try:
        User._get_collection().insert_many([u.to_mongo() for u in users], ordered=True)
        if links:
            LinkedId._get_collection().insert_many([link.to_mongo() for link in links], ordered=True)
    except BulkWriteError as exc:
        LinkedId._get_collection().delete_many({"user": {"$in": user_ids}})
        User._get_collection().delete_many({"_id": {"$in": user_ids}})
        raise ValueError(f"the database refused a write ({exc.details.get('writeErrors', [{}])[0].get('errmsg', exc)}); nothing was kept") from exc
    return len(users)
