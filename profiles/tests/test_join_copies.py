"""The join read from the copies the user document carries (issue 26): the same bytes as the
join of the LinkedId and Details documents themselves, exact under racing writers, and any
difference a crash leaves found and mended by check_integrity."""
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from bson import ObjectId
from django.core.management import call_command

from accounts.users.documents import LinkedId, User
from accounts.users import linked_ids as linked_ids_module
from accounts.users.linked_ids import LINKS_COPY, links_copy_differing, links_copy_of, linked_id_add, linked_id_remove
from profiles import services as profile_services
from profiles.documents import DETAILS_COPY, Details
from profiles.services import details_copy_differing, details_upsert

TRICKY_PREFERENCES = {
    "theme": "dark",
    "ratio": 2.5e-05,
    "tiny": 1e-07,
    "big": 2**62,
    "neg": -0.0,
    "flag": False,
    "none": None,
    "text": "naïve \u2028 \u2029 \"quoted\" </script> 日本語 😀",
}


def without_copies(user_id) -> None:
    """The user as stored before the copies existed."""
    User._get_collection().update_one({"_id": user_id}, {"$unset": {LINKS_COPY: "", DETAILS_COPY: ""}})


def bodies(client, user_id) -> list[bytes]:
    responses = [client.get(f"/users/user_with_details/{user_id}"), client.get("/users/me")]
    assert all(r.status_code == 200 for r in responses), [r.content for r in responses]
    return [r.content for r in responses]


def shape(make_user, kind: str) -> User:
    user = make_user()
    if kind in ("links", "both", "ties"):
        for n in range(3):
            linked_id_add(user=user, linked_id=f"ext-{user.id}-{n}")
    if kind == "ties":
        # Links stored with the same created_at: the order falls back to their ids.
        same = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
        for n in (5, 4):
            link = LinkedId(id=ObjectId(), linked_id=f"tie-{user.id}-{n}", user=user.id, created_at=same).save(force_insert=True)
            User._get_collection().update_one({"_id": user.id}, {"$push": {LINKS_COPY: linked_ids_module.link_copy_entry(link)}})
    if kind in ("details", "both"):
        details_upsert(user=user, address="1 Main St\nFlat ☃", phone="+15551234567", preferences=TRICKY_PREFERENCES)
        details_upsert(user=user, phone=None)
    if kind == "null details":
        details_upsert(user=user, address=None)
    return user


@pytest.mark.parametrize("kind", ["bare", "links", "details", "both", "ties", "null details"])
def test_the_join_from_the_copies_is_byte_for_byte_the_join_of_the_documents(client_for, make_user, admin, kind):
    """Before/after: the same requests answered from the copies, then (the copies removed) from
    the documents by $lookup, as before issue 26. Every byte equal, for the owner and an admin."""
    user = shape(make_user, kind)
    owner, boss = client_for(user), client_for(admin)
    assert User._get_collection().find_one({"_id": user.id}).get(LINKS_COPY) is not None
    from_copies = bodies(owner, user.id) + [boss.get(f"/users/user_with_details/{user.id}").content]
    without_copies(user.id)
    assert User._get_collection().find_one({"_id": user.id}).get(LINKS_COPY) is None
    from_documents = bodies(owner, user.id) + [boss.get(f"/users/user_with_details/{user.id}").content]
    assert from_copies == from_documents
    assert b"ratio" in from_copies[0] or kind not in ("details", "both")


def test_a_user_without_copies_is_served_and_check_integrity_makes_them(client_for, make_user, round_trips):
    user = shape(make_user, "both")
    client = client_for(user)
    before = client.get("/users/me").content
    without_copies(user.id)
    with round_trips() as n:
        assert client.get("/users/me").content == before
    assert n.count == 2  # authentication, then the $lookup of the documents
    assert user.id in links_copy_differing() and user.id in details_copy_differing()

    with pytest.raises(SystemExit):
        call_command("check_integrity", stdout=io.StringIO())
    out = io.StringIO()
    call_command("check_integrity", "--fix", stdout=out)
    assert "users.links_copy" in out.getvalue() and "users.details_copy" in out.getvalue()
    assert links_copy_differing() == [] and details_copy_differing() == []
    with round_trips() as n:
        assert client.get("/users/me").content == before
    assert n.count == 1
    out = io.StringIO()
    call_command("check_integrity", stdout=out)
    assert "copies match" in out.getvalue()


def test_a_crash_between_the_document_and_its_copy_is_found_and_mended(client_for, make_user, monkeypatch):
    user = shape(make_user, "both")

    def crash(**kwargs):
        raise ConnectionError("the process died here")

    # Details written, copy not (the process died between the two writes).
    monkeypatch.setattr(profile_services, "details_copy_write", crash)
    with pytest.raises(ConnectionError):
        details_upsert(user=user, address="2 New Road")
    monkeypatch.undo()
    # A link removed, its copy not.
    LinkedId._get_collection().delete_one({"user": user.id, "linked_id": f"ext-{user.id}-0"})
    assert links_copy_differing() == [user.id] and details_copy_differing() == [user.id]

    call_command("check_integrity", "--fix", stdout=io.StringIO())
    assert links_copy_differing() == [] and details_copy_differing() == []
    body = client_for(user).get("/users/me").json()
    assert body["details"]["address"] == "2 New Road"
    assert f"ext-{user.id}-0" not in body["user"]["linked_ids"]


def test_an_unlink_between_a_links_insert_and_its_copy_leaves_no_ghost(make_user, monkeypatch):
    """The interleaving the re-check exists for: the link is removed (document and copy) after
    its insert but before its copy is written; the copy must not keep it."""
    user = make_user()
    real = linked_ids_module.link_copy_entry
    fired = []

    def unlink_first(link):
        if not fired:
            fired.append(True)
            linked_id_remove(user=user, linked_id="ext-race")
        return real(link)

    monkeypatch.setattr(linked_ids_module, "link_copy_entry", unlink_first)
    linked_id_add(user=user, linked_id="ext-race")
    assert fired
    assert LinkedId.objects(user=user.id).count() == 0
    assert User._get_collection().find_one({"_id": user.id})[LINKS_COPY] == []
    assert links_copy_differing() == []


def test_racing_writers_leave_copies_equal_to_their_documents(make_user):
    user = make_user()
    start = threading.Barrier(8)

    def write(n: int) -> None:
        start.wait()
        details_upsert(user=user, address=f"{n} Race Road", preferences={"n": n})
        try:
            linked_id_add(user=user, linked_id=f"race-{n}")
        finally:
            if n % 2:
                linked_id_remove(user=user, linked_id=f"race-{n}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))
    stored = User._get_collection().find_one({"_id": user.id})
    doc = Details._get_collection().find_one({"user": user.id})
    assert stored[DETAILS_COPY] == {"v": 8, "doc": doc}
    assert sorted(e["linked_id"] for e in stored[LINKS_COPY]) == [f"race-{n}" for n in range(0, 8, 2)]
    assert sorted(stored[LINKS_COPY], key=lambda e: e["_id"]) == sorted(links_copy_of(user.id), key=lambda e: e["_id"])
    assert links_copy_differing() == [] and details_copy_differing() == []


def test_an_older_copy_never_replaces_a_newer_one(make_user):
    user = make_user()
    details_upsert(user=user, address="first")
    first = Details._get_collection().find_one({"user": user.id})
    details_upsert(user=user, address="second")
    # A slow writer of the first version arrives last: refused, the copy stays at the second.
    assert profile_services.details_copy_write(user_id=user.id, doc=first) is False
    assert profile_services.details_copy_write(user_id=user.id, doc=first, repair=True) is False
    assert User._get_collection().find_one({"_id": user.id})[DETAILS_COPY]["doc"]["address"] == "second"


def test_copies_stay_out_of_the_export(client_for, make_user):
    user = shape(make_user, "both")
    body = client_for(user).get(f"/users/{user.id}/export").json()
    assert LINKS_COPY not in body["user"] and DETAILS_COPY not in body["user"]
    assert all("version" not in doc for doc in body["collections"]["details"])


def test_a_trashed_or_revoked_caller_is_refused_at_once(client_for, make_user):
    from accounts.admin.trash import user_trash

    user = shape(make_user, "both")
    client = client_for(user)
    assert client.get("/users/me").status_code == 200
    User._get_collection().update_one({"_id": user.id}, {"$inc": {"token_version": 1}})
    assert client.get("/users/me").status_code == 401
    other = shape(make_user, "both")
    client = client_for(other)
    user_trash(user=other, actor=other, reason="leaving")
    assert client.get("/users/me").status_code == 401
