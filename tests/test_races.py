"""Races over real concurrency: many threads calling the WSGI app at once (Django's test Client
drives the full request stack: middleware, authentication, DRF, MongoEngine). Exactly one winner
where one is expected, no 500s, no duplicate documents."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from bson import ObjectId
from django.test import Client

from accounts.users.documents import LinkedId, User
from accounts.sessions.documents import Session
from accounts.sessions.tokens import token_pair_for
from profiles.documents import Details
from tests.conftest import PASSWORD, bearer

THREADS = 8


def race(requests):
    """Run the callables at the same moment (a barrier releases them together)."""
    barrier = threading.Barrier(len(requests))

    def go(request):
        barrier.wait()
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(go, requests))


def post(path, body, user=None):
    headers = {"HTTP_AUTHORIZATION": bearer(user)} if user else {}
    return lambda: Client().post(path, body, content_type="application/json", **headers).status_code


@pytest.mark.parametrize("same", ["email", "username"])
def test_parallel_registrations_of_one_email_or_username_make_one_user(same):
    bodies = [
        {
            "username": "racer" if same == "username" else f"racer {n}",
            "email": "racer@example.com" if same == "email" else f"racer{n}@example.com",
            "password": PASSWORD,
        }
        for n in range(THREADS)
    ]
    codes = race([post("/users/register", body) for body in bodies])
    assert sorted(codes) == [201] + [409] * (THREADS - 1), codes
    assert User.objects.count() == 1


def test_parallel_links_of_one_linked_id_have_one_owner(make_user):
    users = [make_user() for _ in range(THREADS)]
    codes = race([post("/users/link_id", {"user_id": str(u.id), "linked_id": "contested"}, u) for u in users])
    assert sorted(codes) == [200] + [409] * (THREADS - 1), codes
    assert LinkedId.objects(linked_id="contested").count() == 1


def test_parallel_relinks_by_the_owner_all_succeed_once_stored(user):
    codes = race([post("/users/link_id", {"user_id": str(user.id), "linked_id": "mine"}, user) for _ in range(THREADS)])
    assert codes == [200] * THREADS
    assert LinkedId.objects(linked_id="mine").count() == 1


def test_parallel_refreshes_of_one_token_have_one_winner(user):
    raw = str(token_pair_for(user))
    codes = race([post("/auth/refresh", {"refresh": raw}) for _ in range(THREADS)])
    assert sorted(codes) == [200] + [401] * (THREADS - 1), codes
    # The losers presented a spent token: reuse detection ended the session, the winner's new pair with it.
    assert Session.objects.count() == 0 and User.objects.get(id=user.id).session_ids == []


def test_parallel_detail_upserts_leave_one_document_with_every_field(user):
    fields = [{"address": "a street"}, {"phone": "+15550001111"}, {"preferences": {"k": 1}}] * 3
    codes = race([post("/users/add_details", {"user_id": str(user.id), **f}, user) for f in fields[:THREADS]])
    assert codes == [200] * THREADS
    assert Details.objects(user=user.id).count() == 1
    details = Details.objects.get(user=user.id)
    assert (details.address, details.phone, details.preferences) == ("a street", "+15550001111", {"k": 1})


# --- A write hanging data off a user, racing the chain delete of that user ---------------------
def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def _dependent_write(kind: str, person):
    """One write that hangs a document off `person`, as the service does it."""
    import io

    from accounts.mfa.two_factor import totp_enrol_start
    from accounts.sessions.tokens import token_pair_for
    from accounts.users import lockout
    from accounts.users.account import user_update
    from accounts.users.audit import audit_record
    from accounts.users.linked_ids import linked_id_add
    from accounts.users.login import user_login
    from accounts.users.passwords import user_password_change
    from profiles.services import avatar_replace, details_upsert

    return {
        "add_details": lambda: details_upsert(user=person, address="1 Main St"),
        "link_id": lambda: linked_id_add(user=person, linked_id=f"ext-{person.id}"),
        "avatar": lambda: avatar_replace(user=person, upload=io.BytesIO(_png())),
        "login_failure": lambda: lockout.login_attempt_reserve(email_key=person.email, ip="10.0.0.9", user_id=person.id),
        # Issue 20: these went around the old owner check and left a session, a TOTP secret, an
        # email token or an audit event behind, or (the email change) re-created the user.
        "login": lambda: user_login(email=person.email, password=PASSWORD, ip="10.0.0.8"),
        "session": lambda: token_pair_for(person),
        "totp_start": lambda: totp_enrol_start(user=person, current_password=PASSWORD),
        "email_change": lambda: user_update(user=person, actor=_AdminActor(), email=f"moved-{person.id}@example.com"),
        "password_change": lambda: user_password_change(user=person, current_password=PASSWORD, new_password="a brand new river"),
        "audit": lambda: audit_record(action="something", actor=person, target=person),
    }[kind]


class _AdminActor:
    """An admin acting on the person (no password asked), who is no user of the race."""

    id = ObjectId()
    is_admin = True
    role = "admin"


def _nothing_left_of(person) -> None:
    from accounts.user_data.services import orphans_find, user_dependents

    for cls, field in user_dependents():
        left = cls._get_collection().count_documents({cls._fields[field].db_field: person.id})
        assert left == 0, f"{cls._get_collection_name()} kept {left} document(s) of a deleted user"
    assert not any(orphans_find().values()), orphans_find()
    assert User.objects(id=person.id).count() == 0


WRITES = ["add_details", "link_id", "avatar", "login_failure", "login", "session", "totp_start", "email_change", "password_change", "audit"]
# What a write racing a chain delete may answer: 404 (NotFound) from the owner guard, or a login's 401.
UNDONE = ("NotFound", "AuthenticationFailed")


@pytest.mark.parametrize("kind", WRITES)
def test_a_write_racing_the_chain_delete_of_its_user_leaves_no_orphan(kind, make_user):
    """Threads released together, in rounds so that different interleavings occur; once both
    finish nothing of the user is left in any collection (GridFS included)."""
    from rest_framework.exceptions import NotFound

    from accounts.user_data.services import user_delete

    for _ in range(12):
        person = make_user()
        write = _dependent_write(kind, person)

        def writer():
            try:
                write()
            except Exception as exc:  # the user was gone or going: the write undid itself
                if type(exc).__name__ not in UNDONE:
                    raise

        race([writer, lambda: user_delete(user=person, actor=None, reason="race")])
        _nothing_left_of(person)


@pytest.mark.parametrize("kind", WRITES)
def test_a_write_landing_between_the_dependents_and_the_user_removes_itself(kind, make_user, monkeypatch):
    """The worst interleaving, forced: the write lands after the chain delete removed the
    user's dependents and before it removes the user. The mark set first makes the writer undo."""
    from rest_framework.exceptions import NotFound

    from accounts.user_data import services as user_data

    user_dependents = user_data.user_dependents
    person = make_user()
    write = _dependent_write(kind, person)
    outcome = {}

    def dependents_then_the_write():
        yield from user_dependents()
        try:  # the loop over dependents is done; the users are deleted next
            write()
            outcome["write"] = "kept"
        except Exception as exc:
            if type(exc).__name__ not in UNDONE:
                raise
            outcome["write"] = "undone"

    monkeypatch.setattr(user_data, "user_dependents", dependents_then_the_write)
    user_data.user_delete(user=person, actor=None, reason="race")
    if kind not in ("login_failure",):  # a failed login answers 401 whatever happens to its counter
        assert outcome["write"] == "undone"
    _nothing_left_of(person)
