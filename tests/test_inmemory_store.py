"""The in-memory store's shortcuts (tests/mongomock_store.py) answer exactly as mongomock's own code: aggregate()
with a leading $match, and find by _id. Checked on the pipelines the service runs and on edge cases."""
import inspect
from datetime import datetime, timezone

import pytest
from bson import ObjectId
from django.conf import settings
from mongoengine.connection import get_db
from mongomock.collection import Collection

pytestmark = pytest.mark.skipif(bool(settings.MONGODB_URI), reason="only the in-memory store is patched")


@pytest.fixture
def people():
    db = get_db()
    ids = [ObjectId() for _ in range(5)]
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    db.bench_people.insert_many([{"_id": i, "name": f"p{n}", "group": n % 2, "at": stamp} for n, i in enumerate(ids)])
    db.bench_links.insert_many([{"user": ids[n % 3], "linked_id": f"l{n}", "created_at": stamp} for n in range(6)])
    return db.bench_people, ids, stamp


def both(collection, pipeline) -> tuple[list, list]:
    original = inspect.unwrap(Collection.aggregate)
    return list(collection.aggregate(pipeline)), list(original(collection, pipeline))


def test_the_patch_is_installed():
    assert getattr(inspect.unwrap(Collection.aggregate, stop=lambda f: getattr(f, "match_first", False)), "match_first", False)


@pytest.mark.parametrize(
    "make_pipeline",
    [
        # The user-with-details join's shape: one _id, a projection, a $lookup.
        lambda ids, stamp: [
            {"$match": {"_id": ids[0]}},
            {"$project": {"name": 1}},
            {"$lookup": {"from": "bench_links", "localField": "_id", "foreignField": "user", "as": "links"}},
        ],
        # The chain delete's count per user.
        lambda ids, stamp: [{"$match": {"_id": {"$in": ids[:3]}}}, {"$group": {"_id": "$group", "n": {"$sum": 1}}}],
        lambda ids, stamp: [{"$match": {}}],
        lambda ids, stamp: [{"$match": {"_id": ObjectId()}}],  # matches nothing
        lambda ids, stamp: [{"$match": {"at": stamp}}],  # a datetime: left to mongomock
        lambda ids, stamp: [{"$project": {"name": 1}}, {"$match": {"name": "p1"}}],  # $match not first
        lambda ids, stamp: [{"$match": {"group": 1}}, {"$match": {"name": "p1"}}],
    ],
)
def test_same_answer_as_mongomock(people, make_pipeline):
    collection, ids, stamp = people
    fast, plain = both(collection, make_pipeline(ids, stamp))
    assert fast == plain


def test_the_join_selector_is_unchanged(make_user, client_for):
    user = make_user()
    client = client_for(user)
    client.post("/users/link_id", {"user_id": str(user.id), "linked_id": "ext-1"}, format="json")
    client.post("/users/add_details", {"user_id": str(user.id), "address": "1 Main St"}, format="json")
    make_user()  # another user the $match must leave out
    body = client.get(f"/users/user_with_details/{user.id}").json()
    assert body["user"]["_id"] == str(user.id) and body["user"]["linked_ids"] == ["ext-1"]
    assert body["details"]["address"] == "1 Main St"


# --- find by _id (tests/mongomock_store.py reads the store's key instead of scanning) ---------------------
def test_find_by_id_is_installed():
    assert getattr(Collection._iter_documents, "by_id", False)


def test_find_by_id_same_answer_as_a_scan(people):
    collection, ids, stamp = people
    scan = inspect.unwrap(Collection._iter_documents)
    for filter_ in ({"_id": ids[2]}, {"_id": ObjectId()}, {"_id": ids[2], "group": 0}, {"_id": {"$in": ids[:2]}}, {"_id": str(ids[0])}):
        assert list(collection._iter_documents(filter_)) == list(scan(collection, filter_)), filter_
    assert collection.find_one({"_id": ids[1]})["name"] == "p1"
    assert collection.update_one({"_id": ids[1]}, {"$set": {"name": "renamed"}}).modified_count == 1
    assert collection.find_one({"_id": ids[1]})["name"] == "renamed"
    assert collection.delete_one({"_id": ids[1]}).deleted_count == 1
    assert collection.find_one({"_id": ids[1]}) is None


def test_find_by_id_leaves_out_expired_documents():
    collection = get_db().bench_expiring
    collection.create_index("expires_at", expireAfterSeconds=0)
    gone, kept = ObjectId(), ObjectId()
    collection.insert_many([
        {"_id": gone, "expires_at": datetime(2000, 1, 1, tzinfo=timezone.utc)},
        {"_id": kept, "expires_at": datetime(2999, 1, 1, tzinfo=timezone.utc)},
    ])
    assert collection.find_one({"_id": gone}) is None
    assert collection.find_one({"_id": kept})["_id"] == kept
