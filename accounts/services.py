"""Writes on users and what hangs off them. Every business rule of `accounts` lives here.

Services take keyword arguments, raise the exceptions DRF renders (ValidationError, NotFound,
PermissionDenied, Conflict) and never return a password hash to a caller that renders.
"""
import logging
import secrets
from collections import Counter
from datetime import datetime, timezone
from types import SimpleNamespace

from bson import ObjectId
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from mongoengine import FileField, NotUniqueError
from mongoengine.connection import get_db
from pymongo.errors import BulkWriteError
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import email_tokens, email_verification, throttling
from accounts.authentication import TOKEN_VERSION_CLAIM, user_for_token
from accounts.documents import (
    ROLE_ADMIN,
    ROLE_USER,
    AuditEvent,
    DeletionRecord,
    LinkedId,
    RevokedToken,
    TrashEntry,
    User,
    casefold_key,
    now,
    user_dependents,
)
from config.exceptions import Conflict

logger = logging.getLogger(__name__)

INVALID_LOGIN = "Invalid email or password."
EMAIL_TAKEN = "A user with this email already exists."
USERNAME_TAKEN = "This username is taken."
WRONG_PASSWORD = "The current password is not correct."


# --- Audit ------------------------------------------------------------------------------------
def audit_record(*, action: str, actor=None, target=None, ip: str | None = None, **detail) -> None:
    """Record a security event. Callers pass no secrets; `detail` holds plain facts only."""
    AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        target=getattr(target, "id", target),
        ip=ip,
        detail=detail,
    ).save(force_insert=True)
    logger.info("audit %s actor=%s target=%s", action, getattr(actor, "id", actor), getattr(target, "id", target))


# --- Passwords --------------------------------------------------------------------------------
class _PasswordOwner(SimpleNamespace):
    """What Django's UserAttributeSimilarityValidator reads from a user, without an ORM model."""

    class _meta:  # noqa: N801 - the validator reads `user._meta.get_field(name).verbose_name`
        @staticmethod
        def get_field(name: str):
            return SimpleNamespace(verbose_name=name)


def password_validate(password: str, *, username: str, email: str, field: str = "password") -> None:
    """Django's password validators (length, common, numeric, similarity), as a 400 on `field`."""
    try:
        validate_password(password, user=_PasswordOwner(username=username, email=email))
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from exc


def _dummy_hash() -> None:
    """Run the hasher once so a login for an unknown email costs what a real one does."""
    make_password(secrets.token_urlsafe(12))


# --- Registration and the user ----------------------------------------------------------------
def _unique_conflict(*, email_key: str, username: str, exclude_id: ObjectId | None = None) -> Conflict:
    """Which unique index refused a write (MongoDB's error does not say so portably)."""
    if User.objects(email_key=email_key, id__ne=exclude_id).only("id").first() is not None:
        return Conflict(EMAIL_TAKEN)
    return Conflict(USERNAME_TAKEN, suggested_usernames=username_suggestions(username=username))


def username_suggestions(*, username: str, count: int = 5) -> list[str]:
    """`count` usernames like `username` that are free now (one query for all candidates)."""
    base = username.strip()[:140]
    candidates = [f"{base}{n}" for n in range(1, 6)] + [f"{base}_{secrets.randbelow(10**6)}" for _ in range(10)]
    taken = set(User.objects(username_key__in=[casefold_key(c) for c in candidates]).distinct("username_key"))
    free = []
    for candidate in candidates:
        key = casefold_key(candidate)
        if key not in taken and candidate not in free:
            free.append(candidate)
    return free[:count]


def user_register(*, username: str, email: str, password: str, role: str = ROLE_USER, email_verified: bool = False) -> User:
    """Create a user. Uniqueness of username and email (ignoring case) is decided by MongoDB's
    unique indexes, so of two concurrent registrations of one email exactly one succeeds.
    Sends no mail: sign-up goes through `email_verification.user_sign_up`."""
    password_validate(password, username=username, email=email)
    user = User(
        username=username,
        username_key=casefold_key(username),
        email=email,
        email_key=casefold_key(email),
        password=make_password(password),
        role=role,
        email_verified=email_verified,
    )
    try:
        user.save(force_insert=True)
    except NotUniqueError:
        raise _unique_conflict(email_key=user.email_key, username=username) from None
    return user


def user_update(*, user: User, actor: User, ip: str | None = None, current_password: str | None = None, **fields) -> User:
    """Change username, email or (admins only) role. 409 when the name or email is taken.

    An email change by the account's owner needs `current_password` (400 without it or when
    wrong), checked before anything else, so a stolen access token alone cannot move the account
    to another address. The new address is unverified; once the change is saved (the unique index
    on the address decided it: no two accounts ever hold one address, pending or not), the new
    address is mailed a verification link and the old one a notice."""
    if "role" in fields and not actor.is_admin:
        raise PermissionDenied("Only an admin may change a role.")
    if fields.get("role", user.role) != user.role and actor.id == user.id:
        # So that the last admin cannot lock everybody out of the admin endpoints by accident.
        raise PermissionDenied("Admins cannot change their own role; ask another admin.")
    old_email = user.email
    email_changes = "email" in fields and casefold_key(fields["email"]) != user.email_key
    if email_changes and actor.id == user.id:
        if not current_password:
            raise ValidationError({"current_password": ["The current password is required to change the email."]})
        if not check_password(current_password, user.password):
            raise ValidationError({"current_password": [WRONG_PASSWORD]})
    old_role = user.role
    if "username" in fields:
        user.username = fields["username"]
        user.username_key = casefold_key(fields["username"])
    if "email" in fields:
        user.email = fields["email"]
        user.email_key = casefold_key(fields["email"])
    if email_changes:
        user.email_verified = False
    if "role" in fields:
        user.role = fields["role"]
    user.updated_at = now()
    try:
        user.save()
    except NotUniqueError:
        raise _unique_conflict(email_key=user.email_key, username=user.username, exclude_id=user.id) from None
    if user.role != old_role:
        audit_record(action="role_change", actor=actor, target=user, ip=ip, old=old_role, new=user.role)
    if email_changes:
        email_verification.email_changed(user=user, old_email=old_email, actor=actor, ip=ip)
    return user


def user_password_change(*, user: User, current_password: str, new_password: str, ip: str | None = None) -> None:
    """Set a new password and revoke every token the user holds (their `ver` claim goes stale)."""
    if not check_password(current_password, user.password):
        raise ValidationError({"current_password": [WRONG_PASSWORD]})
    password_validate(new_password, username=user.username, email=user.email, field="new_password")
    User.objects(id=user.id).update_one(
        set__password=make_password(new_password), inc__token_version=1, set__updated_at=now()
    )
    # A reset link still in a mailbox must not outlive the password it was meant to replace.
    email_tokens.tokens_void(user_id=user.id, purpose=email_tokens.RESET)
    audit_record(action="password_change", actor=user, target=user, ip=ip)


# --- Login and tokens -------------------------------------------------------------------------
def token_pair_for(user: User) -> RefreshToken:
    """A refresh token (its `.access_token` is the matching access token) for `user`."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    return refresh


def user_login(*, email: str, password: str, ip: str) -> tuple[User, RefreshToken]:
    """Check a password and issue tokens.

    Every failure (unknown email, wrong password, inactive or trashed account) is the same 401
    and costs one hash, so neither the answer nor its timing tells which emails exist. Failures
    are counted per account and per address; past the limit the answer is 429. A hash from an
    older hasher is upgraded to the preferred one (Argon2) on success.
    """
    email_key = casefold_key(email)
    counts = throttling.login_guard_check(email_key=email_key, ip=ip)
    user = User.objects(email_key=email_key).first()
    if user is None:
        _dummy_hash()
        ok = False
    else:

        def upgrade(raw: str) -> None:
            user.password = make_password(raw)
            User.objects(id=user.id).update_one(set__password=user.password)

        ok = check_password(password, user.password, setter=upgrade) and user.is_active and not user.in_trash
    if not ok:
        throttling.login_failure_record(email_key=email_key, ip=ip, user_id=user.id if user else None)
        audit_record(action="login_failed", target=user, ip=ip)
        raise AuthenticationFailed(INVALID_LOGIN)
    throttling.login_failures_clear(email_key=email_key, ip=ip, counts=counts)
    email_verification.login_verification_check(user=user)  # 403 past the right password
    audit_record(action="login", actor=user, target=user, ip=ip)
    return user, token_pair_for(user)


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc


def _refresh_token_claim(token: RefreshToken, user: User) -> None:
    """Revoke `token` by inserting its jti; the unique index lets exactly one caller win."""
    expires_at = datetime.fromtimestamp(token["exp"], tz=timezone.utc)
    try:
        RevokedToken(jti=token["jti"], user=user.id, expires_at=expires_at).save(force_insert=True)
    except NotUniqueError:
        raise AuthenticationFailed("Token is revoked.", code="token_not_valid") from None


def token_refresh(*, raw_refresh: str) -> RefreshToken:
    """Rotate: the given refresh token is revoked and a new pair issued. Of many concurrent
    uses of one refresh token exactly one succeeds; the rest are 401."""
    token = _refresh_token_parse(raw_refresh)
    user = user_for_token(token)
    _refresh_token_claim(token, user)
    return token_pair_for(user)


def token_revoke(*, raw_refresh: str, ip: str | None = None) -> None:
    """Log out: the given refresh token can no longer be used."""
    token = _refresh_token_parse(raw_refresh)
    user = user_for_token(token)
    _refresh_token_claim(token, user)
    audit_record(action="logout", actor=user, target=user, ip=ip)


# --- Linked ids -------------------------------------------------------------------------------
def linked_id_add(*, user: User, linked_id: str) -> LinkedId:
    """Link an external id. Linking it again to the same user is a no-op; an id held by
    another user is a 409 (decided by the unique index, so races have one winner)."""
    try:
        return LinkedId(linked_id=linked_id, user=user.id).save(force_insert=True)
    except NotUniqueError:
        existing = LinkedId.objects(linked_id=linked_id).first()
        if existing is not None and existing.user.id == user.id:
            return existing
        raise Conflict("This linked id belongs to another user.") from None


def linked_id_remove(*, user: User, linked_id: str) -> None:
    if not LinkedId.objects(user=user.id, linked_id=linked_id).delete():
        raise NotFound("This user has no such linked id.")


# --- Trash ------------------------------------------------------------------------------------
def user_trash(*, user: User, actor: User, reason: str, ip: str | None = None) -> bool:
    """Move an account to the trash: it cannot log in, its tokens fail, listings leave it out,
    its data and its username and email stay. False if it was in the trash already."""
    try:
        TrashEntry(user=user.id, deleted_by=actor.id, reason=reason).save(force_insert=True)
    except NotUniqueError:
        return False
    User.objects(id=user.id).update_one(set__in_trash=True, set__updated_at=now())
    audit_record(action="trash", actor=actor, target=user, ip=ip, reason=reason)
    return True


def user_restore(*, user: User, actor: User, ip: str | None = None) -> User:
    """Take an account out of the trash; 404 if it is not there."""
    if not TrashEntry.objects(user=user.id).delete():
        raise NotFound("This user is not in the trash.")
    user.in_trash, user.updated_at = False, now()
    User.objects(id=user.id).update_one(set__in_trash=False, set__updated_at=user.updated_at)
    audit_record(action="restore", actor=actor, target=user, ip=ip)
    return user


def users_trash_bulk(*, ids: list[str], actor: User, reason: str) -> dict[str, list[str]]:
    """Move many accounts to the trash at once (at most 1000 ids; a few queries in all)."""
    wanted = list(dict.fromkeys(ids))
    valid = [ObjectId(i) for i in wanted if ObjectId.is_valid(i)]
    found = {u.id: u for u in User.objects(id__in=valid).only("id", "in_trash")}
    result: dict[str, list[str]] = {"deleted_now": [], "already_deleted": [], "not_found": []}
    fresh = []
    for raw in wanted:
        user = found.get(ObjectId(raw)) if ObjectId.is_valid(raw) else None
        if user is None:
            result["not_found"].append(raw)
        elif user.in_trash:
            result["already_deleted"].append(raw)
        else:
            fresh.append(user.id)
    if fresh:
        entries = [TrashEntry(user=i, deleted_by=actor.id, reason=reason).to_mongo() for i in fresh]
        TrashEntry._get_collection().insert_many(entries, ordered=False)
        User.objects(id__in=fresh).update(set__in_trash=True, set__updated_at=now())
        AuditEvent._get_collection().insert_many(
            [AuditEvent(action="trash", actor_id=actor.id, target=i, detail={"reason": reason}).to_mongo() for i in fresh]
        )
    result["deleted_now"] = [str(i) for i in fresh]
    return result


# --- The chain delete -------------------------------------------------------------------------
def _grid_files_delete(bucket: str, grid_ids: list) -> int:
    """Delete GridFS files of `bucket` by id: chunks first, then the file documents."""
    db = get_db()
    db[f"{bucket}.chunks"].delete_many({"files_id": {"$in": grid_ids}})
    return db[f"{bucket}.files"].delete_many({"_id": {"$in": grid_ids}}).deleted_count


def _files_delete(document_cls, query: dict) -> dict[str, int]:
    """Delete the GridFS files (and chunks) that the matched documents' FileFields point at,
    which a plain QuerySet.delete() would leave behind. Returns counts by files collection."""
    counts = {}
    for field in document_cls._fields.values():
        if not isinstance(field, FileField):
            continue
        grid_ids = [i for i in document_cls._get_collection().distinct(field.db_field, query) if i is not None]
        if grid_ids:
            counts[f"{field.collection_name}.files"] = _grid_files_delete(field.collection_name, grid_ids)
    return counts


def users_chain_delete(*, user_ids: list[ObjectId], actor_id: ObjectId | None, reason: str) -> dict[str, int]:
    """Delete users and every document of theirs in every collection.

    Afterwards the users, every document that references them with CASCADE (details, linked
    ids, token records, login counters, trash entries, audit events) and their stored files with
    their chunks are gone; their tokens fail because they name no user. What remains is one
    DeletionRecord per user: id, actor, time, reason, and how many documents went from each
    collection. Dependents go first and the users last, so a run interrupted half-way is
    completed by running it again; running it twice is safe (the second finds nothing).
    The number of queries depends on the number of collections, not of users or documents.
    Returns the totals per collection.
    """
    if not user_ids:
        return {}
    per_user: dict[ObjectId, Counter] = {i: Counter() for i in user_ids}
    totals: Counter = Counter()
    for cls, field in user_dependents():
        db_field = cls._fields[field].db_field
        query = {db_field: {"$in": user_ids}}
        collection = cls._get_collection()
        name = collection.name
        if len(user_ids) > 1:  # one user's counts are the delete's own counts
            for row in collection.aggregate([{"$match": query}, {"$group": {"_id": f"${db_field}", "n": {"$sum": 1}}}]):
                if row["_id"] in per_user:
                    per_user[row["_id"]][name] += row["n"]
        totals.update(_files_delete(cls, query))
        deleted = cls.objects(**{f"{field}__in": user_ids}).delete()
        totals[name] += deleted
        if len(user_ids) == 1:
            per_user[user_ids[0]][name] += deleted
    live = User.objects(id__in=user_ids).distinct("id")
    totals["users"] += User._get_collection().delete_many({"_id": {"$in": user_ids}}).deleted_count
    records = []
    for user_id in live:
        counts = {k: v for k, v in per_user[user_id].items() if v}
        counts["users"] = 1
        records.append(DeletionRecord(user_id=user_id, deleted_by=actor_id, reason=reason, counts=counts).to_mongo())
    if records:
        DeletionRecord._get_collection().insert_many(records)
    return {k: v for k, v in totals.items() if v}


def users_chain_delete_counts(*, user_ids: list[ObjectId]) -> dict[str, int]:
    """What `users_chain_delete` would remove, per collection, without removing anything."""
    totals: Counter = Counter()
    for cls, field in user_dependents():
        query = {cls._fields[field].db_field: {"$in": user_ids}}
        collection = cls._get_collection()
        totals[collection.name] += collection.count_documents(query)
        for f in cls._fields.values():
            if isinstance(f, FileField):
                totals[f"{f.collection_name}.files"] += len([i for i in collection.distinct(f.db_field, query) if i is not None])
    totals["users"] += User._get_collection().count_documents({"_id": {"$in": user_ids}})
    return {k: v for k, v in totals.items() if v}


def user_delete(*, user: User, actor: User | None, reason: str) -> dict[str, int]:
    """The chain delete of one user (see `users_chain_delete`)."""
    return users_chain_delete(user_ids=[user.id], actor_id=getattr(actor, "id", None), reason=reason)


def user_purge(*, user: User, actor: User) -> dict[str, int]:
    """The permanent chain delete of a trashed account; 404 unless it is in the trash.
    The deletion record keeps the reason it was trashed for."""
    entry = TrashEntry.objects(user=user.id).first()
    if entry is None:
        raise NotFound("This user is not in the trash.")
    return user_delete(user=user, actor=actor, reason=entry.reason)


# --- Import from the older systems --------------------------------------------------------------
def users_import(*, rows: list[dict], dry_run: bool = False) -> int:
    """Insert checked users (`username`, `email`, wrapped legacy `password`, optional `id`
    and `linked_id`, and the file `line`), all or nothing.

    Refuses (ValueError listing every problem by line) duplicates within the rows and names,
    emails or linked ids already taken. There are no transactions to lean on, so if the
    database refuses a write midway, what this call inserted is deleted again."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        for key in (f"username:{casefold_key(row['username'])}", f"email:{casefold_key(row['email'])}", f"linked_id:{row.get('linked_id')}"):
            if key.endswith(":None"):
                continue
            if key in seen:
                problems.append(f"line {row['line']}: {key.split(':')[0]} repeats line {seen[key]}")
            seen.setdefault(key, row["line"])
    taken_names = set(User.objects(username_key__in=[casefold_key(r["username"]) for r in rows]).distinct("username_key"))
    taken_emails = set(User.objects(email_key__in=[casefold_key(r["email"]) for r in rows]).distinct("email_key"))
    taken_links = set(LinkedId.objects(linked_id__in=[r["linked_id"] for r in rows if r.get("linked_id")]).distinct("linked_id"))
    taken_ids = set(User.objects(id__in=[r["id"] for r in rows if r.get("id")]).distinct("id"))
    for row in rows:
        if casefold_key(row["username"]) in taken_names:
            problems.append(f"line {row['line']}: username {row['username']!r} is taken")
        if casefold_key(row["email"]) in taken_emails:
            problems.append(f"line {row['line']}: email {row['email']!r} is taken")
        if row.get("linked_id") in taken_links:
            problems.append(f"line {row['line']}: linked_id {row['linked_id']!r} is taken")
        if row.get("id") in taken_ids:
            problems.append(f"line {row['line']}: _id {row['id']} exists")
    if problems:
        raise ValueError("\n".join(sorted(problems, key=lambda p: int(p.split(":")[0].split()[1]))))
    if dry_run:
        return len(rows)
    users = []
    for row in rows:
        user = User(
            username=row["username"],
            username_key=casefold_key(row["username"]),
            email=row["email"],
            email_key=casefold_key(row["email"]),
            password=row["password"],
        )
        user.id = row.get("id") or ObjectId()
        users.append(user)
    links = [LinkedId(linked_id=r["linked_id"], user=u.id) for r, u in zip(rows, users) if r.get("linked_id")]
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


# --- Integrity --------------------------------------------------------------------------------
def orphans_find() -> dict[str, list]:
    """Per collection (and GridFS bucket), the ids of documents whose user no longer exists.
    One aggregation per collection ($lookup of the user), so it scales with the database."""
    users = User._get_collection_name()
    found: dict[str, list] = {}
    for cls, field in user_dependents():
        db_field = cls._fields[field].db_field
        collection = cls._get_collection()
        pipeline = [
            {"$match": {db_field: {"$ne": None}}},
            {"$lookup": {"from": users, "localField": db_field, "foreignField": "_id", "as": "_owner"}},
            {"$match": {"_owner.0": {"$exists": False}}},
            {"$project": {"_id": 1}},
        ]
        found[collection.name] = [row["_id"] for row in collection.aggregate(pipeline)]
        for f in cls._fields.values():
            if isinstance(f, FileField):
                referenced = set(collection.distinct(f.db_field))
                bucket = get_db()[f"{f.collection_name}.files"]
                found[bucket.name] = [row["_id"] for row in bucket.find({}, {"_id": 1}) if row["_id"] not in referenced]
    return found


def orphans_delete(found: dict[str, list]) -> dict[str, int]:
    """Remove what `orphans_find` found (documents first, with their files; then stray files)."""
    removed: dict[str, int] = {}
    for cls, _ in user_dependents():
        name = cls._get_collection_name()
        if found.get(name):
            query = {"_id": {"$in": found[name]}}
            for files_name, count in _files_delete(cls, query).items():
                removed[files_name] = removed.get(files_name, 0) + count
            removed[name] = cls._get_collection().delete_many(query).deleted_count
        for f in cls._fields.values():
            files_name = f"{getattr(f, 'collection_name', '')}.files"
            if isinstance(f, FileField) and found.get(files_name):
                removed[files_name] = removed.get(files_name, 0) + _grid_files_delete(f.collection_name, found[files_name])
    return removed


# --- Admins -----------------------------------------------------------------------------------
def admin_create(*, username: str, email: str, password: str | None) -> tuple[User, bool]:
    """Make the user with this email an admin, or create one. Returns (user, created)."""
    user = User.objects(email_key=casefold_key(email)).first()
    if user is not None:
        User.objects(id=user.id).update_one(set__role=ROLE_ADMIN, set__updated_at=now())
        user.reload()
        audit_record(action="role_change", target=user, old=ROLE_USER, new=ROLE_ADMIN, via="createadmin")
        return user, False
    if not password:
        raise ValidationError({"password": ["A password is needed to create a new admin."]})
    # The operator vouches for the address: an admin is never locked out by verification.
    return user_register(username=username, email=email, password=password, role=ROLE_ADMIN, email_verified=True), True


def admin_bootstrap_from_env() -> User | None:
    """At start-up: with ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD set and no admin in the
    database, create that admin (as Keycloak's first-admin variables do)."""
    if not (settings.ADMIN_USERNAME and settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD):
        return None
    if User.objects(role=ROLE_ADMIN).only("id").first() is not None:
        return None
    try:
        user = user_register(
            username=settings.ADMIN_USERNAME,
            email=settings.ADMIN_EMAIL,
            password=settings.ADMIN_PASSWORD,
            role=ROLE_ADMIN,
            email_verified=True,
        )
    except (ValidationError, Conflict) as exc:
        logger.error("ADMIN_* is set but the first admin could not be created: %s", exc.detail)
        return None
    logger.warning("Created the first admin %r from ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD.", user.username)
    return user
