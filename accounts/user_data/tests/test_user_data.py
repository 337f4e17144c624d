"""accounts/user_data/services.py: a collection that declares `ReferenceField(User,
reverse_delete_rule=CASCADE)` and nothing else is purged, counted, exported and checked for
orphans, its GridFS files included."""
import pytest
from bson import ObjectId
from mongoengine import CASCADE, Document, FileField, ReferenceField, StringField
from mongoengine.connection import get_db

from accounts.user_data.documents import DeletionRecord
from accounts.users.documents import User
from accounts.user_data import services as user_data


@pytest.fixture
def scratch():
    """A collection no code in the service knows about, declared the documented way."""

    class Scratch(Document):
        owner = ReferenceField(User, reverse_delete_rule=CASCADE)
        note = StringField()
        secret = StringField()
        blob = FileField(collection_name="scratch_files")

        export_exclude = ("secret",)
        meta = {"collection": "scratch_test", "indexes": ["owner"]}

    yield Scratch
    User._meta["delete_rules"].pop((Scratch, "owner"), None)
    for name in ("scratch_test", "scratch_files.files", "scratch_files.chunks"):
        get_db().drop_collection(name)


def _stored(scratch, owner_id) -> Document:
    doc = scratch(owner=owner_id, note="kept", secret="s3cret")
    doc.blob.put(b"bytes of a file", content_type="text/plain")
    if User.objects(id=owner_id).count():
        return doc.save()
    # An orphan as a crash or another program leaves it: written past the service's owner guard
    # (which refuses a save for a user who does not exist).
    doc.id = scratch._get_collection().insert_one(doc.to_mongo()).inserted_id
    return doc


def test_the_walk_finds_a_newly_declared_collection(scratch):
    assert (scratch, "owner") in user_data.user_dependents()


def test_counts_and_purge_cover_it_with_its_files_and_chunks(scratch, user, other, admin):
    _stored(scratch, user.id)
    _stored(scratch, other.id)
    counts = user_data.users_chain_delete_counts(user_ids=[user.id])
    assert counts["scratch_test"] == 1 and counts["scratch_files.files"] == 1

    removed = user_data.user_delete(user=user, actor=admin, reason="test")

    assert removed["scratch_test"] == 1 and removed["scratch_files.files"] == 1
    assert scratch.objects(owner=user.id).count() == 0 and scratch.objects(owner=other.id).count() == 1
    db = get_db()
    assert db["scratch_files.files"].count_documents({}) == 1 and db["scratch_files.chunks"].count_documents({}) == 1
    assert DeletionRecord.objects.get(user_id=user.id).counts["scratch_test"] == 1


def test_export_lists_it_with_file_metadata_and_without_excluded_fields(scratch, user, client_for):
    doc = _stored(scratch, user.id)
    body = client_for(user).get(f"/users/{user.id}/export").json()
    [exported] = body["collections"]["scratch_test"]
    assert exported["note"] == "kept" and "secret" not in exported
    assert exported["blob"]["_id"] == str(doc.blob.grid_id) and exported["blob"]["length"] == len(b"bytes of a file")
    assert "password" not in body["user"]


def test_orphans_of_it_are_found_and_removed(scratch, user):
    _stored(scratch, user.id)
    orphan = _stored(scratch, ObjectId())
    stray = get_db()["scratch_files.files"].insert_one({"length": 0, "chunkSize": 255}).inserted_id

    found = user_data.orphans_find()
    assert found["scratch_test"] == [orphan.id]
    assert set(found["scratch_files.files"]) == {stray}

    removed = user_data.orphans_delete(found)
    assert removed["scratch_test"] == 1 and removed["scratch_files.files"] == 2  # the orphan's file and the stray
    assert not any(user_data.orphans_find().values())
    assert scratch.objects(owner=user.id).count() == 1
