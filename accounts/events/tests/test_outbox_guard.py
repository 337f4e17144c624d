"""Every outbox job that belongs to a user goes through the owner guard (accounts/users/guard.py),
by construction: written for a user a chain delete has begun on, it is removed, so none outlives
the delete (issue 20: "every write that hangs data off a user ... whatever comes later")."""
import pytest
from rest_framework.exceptions import NotFound

from accounts.events.documents import OutboxJob
from accounts.events.mail_jobs import NOTICE, mail_enqueue
from accounts.events.webhooks import event_emit
from accounts.sessions.services import sessions_documents_delete
from accounts.users.documents import User
from accounts.users.guard import owner_guard
from tests.roundtrips import COUNTER


def deleting(user) -> None:
    """The first step of a chain delete (accounts/user_data/services.py): the mark."""
    User._get_collection().update_one({"_id": user.id}, {"$set": {"deleting": True}})


def jobs_of(user) -> int:
    return OutboxJob._get_collection().count_documents({"user": user.id})


def test_a_mail_or_an_event_for_a_user_being_deleted_is_removed(make_user):
    alive, going = make_user("alive"), make_user("going")
    OutboxJob._get_collection().delete_many({})  # their sign-ups' jobs
    deleting(going)
    for user in (alive, going):
        mail_enqueue(NOTICE, user_id=user.id, to=user.email, what="test")
        event_emit("user.updated", user_id=user.id, data={"fields": ["username"]})
    assert jobs_of(alive) == 2 and jobs_of(going) == 0


def test_a_batch_proves_every_user_with_one_read_and_keeps_the_others(make_user, round_trips):
    users = [make_user(f"member {n}") for n in range(5)]
    OutboxJob._get_collection().delete_many({})
    deleting(users[2])
    COUNTER.reset()
    sessions_documents_delete(user_ids=[u.id for u in users])  # one session.ended per user
    assert COUNTER.count == 4, COUNTER.commands  # the sessions, the jobs, ONE read for the five owners, the removal
    assert [jobs_of(u) for u in users] == [1, 1, 0, 1, 1]


def test_inside_a_block_whose_owner_goes_the_job_goes_with_it(make_user):
    user = make_user("blocked")
    OutboxJob._get_collection().delete_many({})
    with pytest.raises(NotFound):
        with owner_guard(user.id):
            event_emit("user.updated", user_id=user.id, data={})
            deleting(user)
    assert jobs_of(user) == 0
