"""Issue 12, item 8: no change may leave the service without an active admin (409), whether by
trash, chain delete, bulk trash, demotion or `manage.py delete_users`; the ADMIN_* bootstrap
treats a trashed admin as no admin. Item 12: audit events about others keep a purged admin's
bare id, never its address."""
import threading

import pytest
from django.core.management import CommandError, call_command

from accounts.users.documents import ROLE_ADMIN, AuditEvent, User
from accounts.admin import admin_guard
from accounts.admin.admins import admin_bootstrap_from_env
from accounts.admin.trash import user_trash
from tests.conftest import PASSWORD

LAST = {"detail": "This would leave the service without an active admin."}


@pytest.fixture
def boss(client_for, admin):
    return client_for(admin)


def test_the_last_admin_cannot_trash_itself(boss, admin):
    r = boss.delete(f"/users/{admin.id}?reason=bye")
    assert r.status_code == 409 and r.json() == LAST
    assert not User.objects.get(id=admin.id).in_trash


def test_the_last_admin_cannot_chain_delete_itself(boss, admin):
    assert boss.delete(f"/users/delete_user/{admin.id}").json() == LAST
    assert User.objects(id=admin.id).count() == 1


def test_the_last_admin_cannot_bulk_trash_itself(boss, admin, user):
    r = boss.post("/trash/bulk_delete", {"ids": [str(user.id), str(admin.id).upper()], "reason": "x"}, format="json")
    assert r.status_code == 409 and r.json() == LAST
    assert User.objects(in_trash=True).count() == 0  # all or nothing for the admins' part


def test_admins_cannot_demote_each_other_down_to_none(client_for, admin, make_user):
    second = make_user("second admin", "second@example.com", role=ROLE_ADMIN)
    assert client_for(admin).patch(f"/users/{second.id}", {"role": "user"}, format="json").status_code == 200
    second.reload()
    # The demoted one cannot demote back; an admin cannot demote itself; the last one stays.
    assert client_for(second).patch(f"/users/{admin.id}", {"role": "user"}, format="json").status_code == 403
    assert User.objects(role=ROLE_ADMIN).count() == 1


def test_with_two_admins_one_may_go(client_for, admin, make_user):
    second = make_user("second admin", "second@example.com", role=ROLE_ADMIN)
    assert client_for(admin).delete(f"/users/{admin.id}?reason=leaving").status_code == 204
    assert client_for(second).delete(f"/users/delete_user/{second.id}").json() == LAST
    assert client_for(second).patch(f"/users/{admin.id}", {"role": "user"}, format="json").status_code == 200  # trashed: no active admin


def test_a_trashed_admin_does_not_count(client_for, admin, make_user):
    second = make_user("second admin", "second@example.com", role=ROLE_ADMIN)
    user_trash(user=second, actor=admin, reason="x")
    assert client_for(admin).delete(f"/users/{admin.id}?reason=bye").status_code == 409


def test_two_admins_trashing_each_other_at_once_leave_one(make_user, monkeypatch):
    first = make_user("first admin", "first@example.com", role=ROLE_ADMIN)
    second = make_user("second admin", "second@example.com", role=ROLE_ADMIN)
    barrier = threading.Barrier(2)
    original = admin_guard._lock_acquire

    def acquire():
        barrier.wait(timeout=5)  # both checks start together
        return original()

    monkeypatch.setattr(admin_guard, "_lock_acquire", acquire)
    outcomes = []

    def trash(actor, target):
        try:
            outcomes.append(user_trash(user=target, actor=actor, reason="coup"))
        except Exception as exc:  # noqa: BLE001
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=trash, args=pair) for pair in ((first, second), (second, first))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes)) == ["Conflict", "True"]
    assert User.objects(role=ROLE_ADMIN, in_trash=False).count() == 1


def test_delete_users_refuses_to_remove_the_last_admin(admin):
    with pytest.raises(CommandError, match="without an active admin"):
        call_command("delete_users", "--ids", str(admin.id), "--yes")
    assert User.objects(id=admin.id).count() == 1


def test_the_bootstrap_treats_a_trashed_admin_as_no_admin(settings, admin, make_user):
    settings.ADMIN_USERNAME, settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "fresh admin", "fresh@example.com", PASSWORD
    assert admin_bootstrap_from_env() is None  # an active admin exists
    User.objects(id=admin.id).update_one(set__in_trash=True)
    created = admin_bootstrap_from_env()
    assert created is not None and created.role == ROLE_ADMIN


# --- item 12 -------------------------------------------------------------------------------------
def test_a_purged_admin_leaves_its_bare_id_and_no_address_in_others_events(client_for, admin, user, make_user):
    second = make_user("second admin", "second@example.com", role=ROLE_ADMIN)
    client_for(admin).delete(f"/users/{user.id}?reason=spam", REMOTE_ADDR="203.0.113.7")
    client_for(admin).post(f"/trash/{user.id}/restore", REMOTE_ADDR="203.0.113.7")
    assert AuditEvent.objects(actor_id=admin.id, target=user.id, ip="203.0.113.7").count() == 2
    user_trash(user=admin, actor=second, reason="offboarding")
    assert client_for(second).delete(f"/trash/{admin.id}").status_code == 204
    events = list(AuditEvent._get_collection().find({"actor_id": admin.id}))
    assert len(events) == 2 and all(event.get("target") == user.id for event in events)
    assert all("ip" not in event for event in events)
    assert "203.0.113.7" not in repr(list(AuditEvent._get_collection().find()))
