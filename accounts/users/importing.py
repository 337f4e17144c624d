"""The import of users from the older systems (`manage.py import_users`): all or nothing."""
from bson import ObjectId
from pymongo.errors import BulkWriteError

from accounts.events.documents import OutboxJob
from accounts.events.outbox import outbox_forget, outbox_write
from accounts.events.webhooks import event_job, user_deleted_events
from accounts.users.documents import ROLE_USER, LinkedId, User, casefold_key
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


IMPORT_BATCH = 1000


def rows_existing(*, rows: list[dict]) -> list[dict]:
    """The rows whose user is stored already: the same `_id`, or the same email (ignoring case).
    `import_users --skip-existing` leaves them out, so a file can be imported again (or after a
    partial earlier import); any other clash (a username or linked id held by somebody else)
    is still refused."""
    emails = set(User.objects(email_key__in=[casefold_key(r["email"]) for r in rows]).distinct("email_key"))
    ids = set(User.objects(id__in=[r["id"] for r in rows if r.get("id")]).distinct("id"))
    return [r for r in rows if casefold_key(r["email"]) in emails or (r.get("id") and r["id"] in ids)]


def users_import(*, rows: list[dict], dry_run: bool = False, progress=None) -> int:
    """Insert checked users (`username`, `email`, wrapped legacy `password`, optional `id`
    and `linked_id`, and the file `line`), all or nothing.

    Refuses (ValueError listing every problem by line) duplicates within the rows and names,
    emails or linked ids already taken. There are no transactions to lean on, so if the
    database refuses a write midway, what this call inserted is deleted again. Inserted in
    batches of IMPORT_BATCH; `progress(n)` is called after each with its number of users."""
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
    links_of = {}  # user id -> the LinkedId written with that user's batch
    for row, user in zip(rows, users):
        user.links_copy = []  # the copy the join reads (accounts/users/linked_ids.py), written with the user
        if row.get("linked_id"):
            links_of[user.id] = LinkedId(id=ObjectId(), linked_id=row["linked_id"], user=user.id)
            user.links_copy = [link_copy_entry(links_of[user.id])]
    user_ids = [u.id for u in users]
    events: list = []
    try:
        for start in range(0, len(users), IMPORT_BATCH):
            batch = users[start : start + IMPORT_BATCH]
            # user.created first, as a sign-up writes it (accounts/users/registration.py): a crash
            # before the users leaves events whose users never came, which the outbox cancels.
            events += outbox_write([_created_event(user) for user in batch], before_the_user=True)
            User._get_collection().insert_many([u.to_mongo() for u in batch], ordered=True)
            batch_links = [links_of[u.id].to_mongo() for u in batch if u.id in links_of]
            if batch_links:
                LinkedId._get_collection().insert_many(batch_links, ordered=True)
            if progress is not None:
                progress(len(batch))
    except BulkWriteError as exc:
        _events_taken_back(events)
        LinkedId._get_collection().delete_many({"user": {"$in": user_ids}})
        User._get_collection().delete_many({"_id": {"$in": user_ids}})
        raise ValueError(f"the database refused a write ({exc.details.get('writeErrors', [{}])[0].get('errmsg', exc)}); nothing was kept") from exc
    return len(users)


def _created_event(user: User) -> dict:
    """What a sign-up's user.created says, for an imported user (a user, their address as the old
    system had it, their one linked id if any)."""
    linked = [entry["linked_id"] for entry in user.links_copy]
    data = {"username": user.username, "email": user.email, "email_verified": user.email_verified, "role": ROLE_USER, "linked_ids": linked}
    return event_job("user.created", user_id=user.id, data=data)


def _events_taken_back(event_ids: list) -> None:
    """An import undone: its user.created events go too. One a worker has taken already (sent,
    or being sent: its user of an earlier batch existed) is answered by a user.deleted, written
    while the user still exists, as a chain delete does (accounts/events/webhooks.py)."""
    if not event_ids:
        return
    outbox_forget(event_ids)
    told = [job["user"] for job in OutboxJob._get_collection().find({"_id": {"$in": event_ids}}, {"user": 1})]
    if told:
        user_deleted_events(user_ids=told)
