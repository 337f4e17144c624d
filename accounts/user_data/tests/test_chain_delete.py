"""The chain delete at the service level: every collection, interrupted runs, the record left."""
import pytest

from accounts.users.documents import AuditEvent, LinkedId, LoginFailure, User
from accounts.user_data.documents import DeletionRecord
from accounts.mfa.documents import RevokedToken
from accounts.admin.documents import TrashEntry
from accounts.users.lockout import login_attempt_reserve
from accounts.users.linked_ids import linked_id_add
from accounts.sessions.tokens import token_pair_for, token_revoke
from accounts.admin.trash import user_trash
from accounts.user_data.services import user_delete, user_dependents, users_chain_delete
from profiles.documents import Details
from profiles.services import details_upsert
from tests.two_factor_helpers import enrol


def fill(user, admin, links=3):
    for n in range(links):
        linked_id_add(user=user, linked_id=f"{user.username.replace(' ', '')}-{n}")
    details_upsert(user=user, address="somewhere", phone="+15551234567", preferences={"a": 1})
    token_revoke(raw_refresh=str(token_pair_for(user)))
    token_pair_for(user)  # a live session
    enrol(user)
    login_attempt_reserve(email_key=user.email_key, ip="10.0.0.1", user_id=user.id)
    user_trash(user=user, actor=admin, reason="test")  # which ends the user's sessions
    token_pair_for(user)  # a session document, for the chain delete to find


def test_every_dependent_collection_is_declared():
    names = {cls._get_collection_name() for cls, _ in user_dependents()}
    assert {"linked_ids", "details", "revoked_tokens", "sessions", "mfa_totp", "login_failures", "trash", "audit_events"} <= names


def test_chain_delete_removes_everything_of_the_user_and_nothing_else(user, other, admin):
    fill(user, admin)
    fill(other, admin)
    counts = user_delete(user=user, actor=admin, reason="gdpr")
    assert counts["users"] == 1 and counts["linked_ids"] == 3 and counts["details"] == 1
    assert counts["sessions"] == 1 and counts["mfa_totp"] == 1
    assert counts["login_failures"] == 1 and counts["trash"] == 1
    for cls, field in user_dependents():
        assert cls.objects(**{field: user.id}).count() == 0, cls
        assert cls.objects(**{field: other.id}).count() > 0 or cls is not LinkedId
    assert User.objects(id=user.id).count() == 0 and User.objects(id=other.id).count() == 1


def test_only_a_deletion_record_remains_with_counts_and_nothing_personal(user, admin):
    fill(user, admin)
    user_delete(user=user, actor=admin, reason="gdpr")
    record = DeletionRecord._get_collection().find_one({"user_id": user.id})
    assert set(record) == {"_id", "user_id", "deleted_by", "deleted_at", "reason", "counts"}
    assert record["deleted_by"] == admin.id and record["reason"] == "gdpr"
    assert record["counts"]["linked_ids"] == 3 and record["counts"]["users"] == 1
    assert user.email not in str(record) and user.username not in str(record)


def test_running_it_twice_is_safe(user, admin):
    fill(user, admin)
    user_delete(user=user, actor=admin, reason="x")
    assert users_chain_delete(user_ids=[user.id], actor_id=admin.id, reason="x") == {}
    assert DeletionRecord.objects(user_id=user.id).count() == 1


def test_an_interrupted_delete_completes_when_run_again(user, admin, monkeypatch):
    fill(user, admin)
    calls = {"n": 0}
    queryset_class = type(Details.objects)
    real_delete = queryset_class.delete

    def crash_after_some(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("process killed")
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(queryset_class, "delete", crash_after_some)
    with pytest.raises(RuntimeError):
        user_delete(user=user, actor=admin, reason="x")
    monkeypatch.setattr(queryset_class, "delete", real_delete)
    assert calls["n"] == 3
    assert User.objects(id=user.id).count() == 1  # the user goes last
    user_delete(user=user, actor=admin, reason="x")
    for cls, field in user_dependents():
        assert cls.objects(**{field: user.id}).count() == 0
    assert User.objects(id=user.id).count() == 0


def test_audit_events_about_others_keep_the_actor_id_only(user, other, admin):
    user_trash(user=other, actor=user, reason="reported")
    user_delete(user=user, actor=admin, reason="x")
    event = AuditEvent.objects(target=other.id, action="trash").first()
    assert event.actor_id == user.id


def test_round_trips_do_not_grow_with_related_documents(make_user, admin, round_trips):
    small, large = make_user(), make_user()
    fill(small, admin, links=1)
    fill(large, admin, links=20)
    with round_trips() as one:
        user_delete(user=small, actor=admin, reason="x")
    with round_trips() as twenty:
        user_delete(user=large, actor=admin, reason="x")
    assert one.count == twenty.count, (one.commands, twenty.commands)


def test_bulk_round_trips_grow_with_batches_not_users(make_user, admin, round_trips):
    ten = [make_user().id for _ in range(10)]
    sixty = [make_user().id for _ in range(60)]  # six times as many: the same round trips
    for user_id in ten + sixty:
        LinkedId(linked_id=f"l-{user_id}", user=user_id).save()
    with round_trips() as few:
        users_chain_delete(user_ids=ten, actor_id=admin.id, reason="x")
    with round_trips() as many:
        users_chain_delete(user_ids=sixty, actor_id=admin.id, reason="x")
    assert few.count == many.count, (few.commands, many.commands)
    assert DeletionRecord.objects.count() == 70
    assert RevokedToken.objects.count() == LoginFailure.objects.count() == TrashEntry.objects.count() == 0
