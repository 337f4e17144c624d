"""Sessions (API.md, "Sessions and two-factor"): GET /users/{id}/sessions, DELETE one, DELETE all
but the caller's; logout ends the session; ended sessions refuse refresh and access tokens at
once; refresh-token reuse ends the whole session, also when two parties race."""
import threading
from datetime import timedelta

import pytest
from bson import ObjectId
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.sessions import services as sessions, tokens
from accounts.users.documents import AuditEvent, User, now
from accounts.sessions.documents import Session
from tests.conftest import PASSWORD

SESSION_KEYS = {"id", "created_at", "last_used_at", "ip", "user_agent", "current"}


def login(email, *, agent="", ip="127.0.0.1"):
    r = APIClient().post("/login", {"email": email, "password": PASSWORD}, format="json", HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    assert r.status_code == 200, r.content
    return r.json()


def device(tokens) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def sid(tokens) -> str:
    return RefreshToken(tokens["refresh"])["sid"]


def refresh(raw):
    return APIClient().post("/auth/refresh", {"refresh": raw}, format="json")


# --- what a session is ------------------------------------------------------------------------
def test_every_token_of_a_session_carries_its_id(user):
    first = login(user.email)
    assert AccessToken(first["access"])["sid"] == sid(first)
    second = refresh(first["refresh"]).json()
    assert sid(second) == sid(first) and AccessToken(second["access"])["sid"] == sid(first)
    assert login(user.email)["refresh"] != first["refresh"] and sid(login(user.email)) != sid(first)


def test_two_devices_list_both_sessions_with_the_callers_marked(user):
    phone = login(user.email, agent="Phone/1.0", ip="10.1.1.1")
    laptop = login(user.email, agent="Laptop/2.0", ip="10.2.2.2")
    r = device(phone).get(f"/users/{user.id}/sessions")
    assert r.status_code == 200
    rows = r.json()
    assert all(set(row) == SESSION_KEYS for row in rows)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {sid(phone), sid(laptop)}
    assert by_id[sid(phone)]["current"] is True and by_id[sid(laptop)]["current"] is False
    assert (by_id[sid(phone)]["user_agent"], by_id[sid(phone)]["ip"]) == ("Phone/1.0", "10.1.1.1")
    assert (by_id[sid(laptop)]["user_agent"], by_id[sid(laptop)]["ip"]) == ("Laptop/2.0", "10.2.2.2")
    # Trailing slash too; the most recently used first.
    assert [row["id"] for row in device(laptop).get(f"/users/{user.id}/sessions/").json()] == [sid(laptop), sid(phone)]


def test_a_refresh_updates_last_used_address_and_agent(user):
    tokens = login(user.email, agent="Old/1", ip="10.0.0.1")
    before = Session.objects.get(id=sid(tokens))
    r = APIClient().post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json", HTTP_USER_AGENT="New/2", REMOTE_ADDR="10.0.0.2")
    assert r.status_code == 200
    after = Session.objects.get(id=sid(tokens))
    assert (after.ip, after.user_agent) == ("10.0.0.2", "New/2")
    assert after.last_used_at >= before.last_used_at and after.created_at == before.created_at
    assert after.expires_at >= before.expires_at


# --- ending sessions --------------------------------------------------------------------------
def test_ending_the_other_session_refuses_its_access_and_refresh_tokens_at_once(user):
    phone, laptop = login(user.email), login(user.email)
    assert device(laptop).get("/users/me").status_code == 200
    r = device(phone).delete(f"/users/{user.id}/sessions/{sid(laptop)}")
    assert r.status_code == 204, r.content
    assert device(laptop).get("/users/me").status_code == 401
    assert refresh(laptop["refresh"]).status_code == 401
    assert device(phone).get("/users/me").status_code == 200
    assert [row["id"] for row in device(phone).get(f"/users/{user.id}/sessions").json()] == [sid(phone)]
    assert AuditEvent.objects(action="session_end", target=user.id).count() == 1
    # Ending it again, or a session that never was, or somebody else's: 404.
    assert device(phone).delete(f"/users/{user.id}/sessions/{sid(laptop)}").status_code == 404
    assert device(phone).delete(f"/users/{user.id}/sessions/{ObjectId()}").status_code == 404


def test_ending_all_but_the_callers_own(user):
    mine, *others = [login(user.email) for _ in range(4)]
    assert device(mine).delete(f"/users/{user.id}/sessions").status_code == 204
    assert device(mine).get("/users/me").status_code == 200
    for tokens in others:
        assert device(tokens).get("/users/me").status_code == 401
        assert refresh(tokens["refresh"]).status_code == 401
    assert [row["id"] for row in device(mine).get(f"/users/{user.id}/sessions").json()] == [sid(mine)]
    assert Session.objects(user=user.id).count() == 1


def test_a_session_of_another_user_cannot_be_ended_through_ones_own_path(user, other):
    mine, theirs = login(user.email), login(other.email)
    assert device(mine).delete(f"/users/{user.id}/sessions/{sid(theirs)}").status_code == 404
    assert device(theirs).get("/users/me").status_code == 200


def test_owner_or_admin_only(user, other, admin, client_for):
    tokens = login(user.email)
    assert client_for(other).get(f"/users/{user.id}/sessions").status_code == 403
    assert client_for(other).delete(f"/users/{user.id}/sessions").status_code == 403
    assert client_for(other).delete(f"/users/{user.id}/sessions/{sid(tokens)}").status_code == 403
    assert client_for(None).get(f"/users/{user.id}/sessions").status_code == 401
    assert client_for(admin).get(f"/users/{'f' * 24}/sessions").status_code == 404
    assert client_for(admin).get("/users/not-an-id/sessions").status_code == 404
    assert client_for(admin).delete(f"/users/{user.id}/sessions/not-an-id").status_code == 404
    # An admin sees them (none is the admin's "current") and ends them all (ASVS 7.4.5).
    rows = client_for(admin).get(f"/users/{user.id}/sessions").json()
    assert [row["id"] for row in rows] == [sid(tokens)] and rows[0]["current"] is False
    assert client_for(admin).delete(f"/users/{user.id}/sessions").status_code == 204
    assert device(tokens).get("/users/me").status_code == 401
    assert client_for(admin).get(f"/users/{user.id}/sessions").json() == []


def test_logout_ends_the_session_access_token_included(user):
    tokens = login(user.email)
    assert APIClient().post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    assert device(tokens).get("/users/me").status_code == 401
    assert Session.objects(id=sid(tokens)).count() == 0
    assert sid(tokens) not in [str(i) for i in User.objects.get(id=user.id).session_ids]


def test_a_password_change_ends_every_session(user):
    first, second = login(user.email), login(user.email)
    r = device(first).post(f"/users/{user.id}/password", {"current_password": PASSWORD, "new_password": "a fresh long passphrase"}, format="json")
    assert r.status_code == 204
    for tokens in (first, second):
        assert device(tokens).get("/users/me").status_code == 401
    assert Session.objects(user=user.id).count() == 0


def test_a_token_without_a_session_is_refused(user):
    token = RefreshToken.for_user(user)
    token["ver"] = user.token_version
    assert APIClient().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {token.access_token}").status_code == 401
    token["sid"] = "not-an-object-id"
    assert APIClient().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {token.access_token}").status_code == 401
    assert refresh(str(token)).status_code == 401


def test_expired_sessions_are_not_listed_and_leave_the_users_list_at_the_next_login(user):
    old = login(user.email)
    Session.objects(id=sid(old)).update_one(set__expires_at=now() - timedelta(seconds=1))  # as the TTL monitor would see it
    fresh = login(user.email)
    assert [row["id"] for row in device(fresh).get(f"/users/{user.id}/sessions").json()] == [sid(fresh)]
    assert [str(i) for i in User.objects.get(id=user.id).session_ids] == [sid(fresh)]


def test_ending_is_safe_to_repeat_and_survives_a_crash_between_its_two_writes(user, monkeypatch):
    tokens = login(user.email)
    real = sessions.Session._get_collection

    class Crash(Exception):
        pass

    def crashing():
        raise Crash

    monkeypatch.setattr(sessions.Session, "_get_collection", staticmethod(crashing))
    with pytest.raises(Crash):
        sessions.user_sessions_end(user_id=user.id)
    monkeypatch.setattr(sessions.Session, "_get_collection", real)
    # The id left the user's list first, so the tokens are refused already.
    assert device(tokens).get("/users/me").status_code == 401
    assert sessions.user_sessions_end(user_id=user.id) == 1  # the document goes on the second run
    assert sessions.user_sessions_end(user_id=user.id) == 0
    assert Session.objects(user=user.id).count() == 0


# --- reuse detection --------------------------------------------------------------------------
def test_replaying_a_rotated_refresh_token_ends_the_whole_session(user):
    stolen = login(user.email)
    owner = refresh(stolen["refresh"]).json()  # the owner rotates; the thief keeps the old copy
    assert device(owner).get("/users/me").status_code == 200
    r = refresh(stolen["refresh"])
    assert r.status_code == 401
    # Both copies are dead: the owner's new refresh and access tokens too.
    assert refresh(owner["refresh"]).status_code == 401
    assert device(owner).get("/users/me").status_code == 401
    event = AuditEvent.objects.get(action="refresh_token_reuse")
    assert event.target.id == user.id and event.detail["session"] == sid(stolen)
    # Other sessions of the user are untouched.
    assert device(login(user.email)).get("/users/me").status_code == 200


def test_logout_with_a_rotated_refresh_token_is_a_reuse(user):
    tokens = login(user.email)
    newer = refresh(tokens["refresh"]).json()
    assert APIClient().post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert device(newer).get("/users/me").status_code == 401
    assert AuditEvent.objects(action="refresh_token_reuse").count() == 1


def test_two_parties_racing_with_one_refresh_token(user):
    """The thief and the owner present the same refresh token at the same moment, over HTTP,
    many times: exactly one rotation succeeds per round, and every round ends the session, so
    the winner's new tokens are refused whoever won."""
    for _ in range(5):
        tokens = login(user.email)
        barrier = threading.Barrier(2)
        results = [None, None]

        def party(i):
            barrier.wait()
            results[i] = Client().post("/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json")

        threads = [threading.Thread(target=party, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 401], codes
        winner = next(r.json() for r in results if r.status_code == 200)
        assert refresh(winner["refresh"]).status_code == 401
        assert device(winner).get("/users/me").status_code == 401
        assert Session.objects(id=sid(tokens)).count() == 0
    assert AuditEvent.objects(action="refresh_token_reuse").count() == 5


def test_concurrent_rotations_at_the_service_level_have_one_winner(user):
    raw = str(tokens.token_pair_for(user))
    barrier = threading.Barrier(8)
    outcomes = []

    def attempt():
        barrier.wait()
        try:
            tokens.token_refresh(raw_refresh=raw)
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - the losers must be 401s
            outcomes.append(getattr(exc, "status_code", repr(exc)))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [401] * 7 + ["ok"], outcomes
    assert User.objects.get(id=user.id).session_ids == []


# --- check_integrity ------------------------------------------------------------------------------
def test_check_integrity_finds_and_fixes_sessions_out_of_step(user, other):
    import io

    from django.core.management import call_command

    def run(*args):
        out = io.StringIO()
        call_command("check_integrity", *args, stdout=out)
        return out.getvalue()

    listed_only, document_only, orphan, fine = login(user.email), login(user.email), login(other.email), login(user.email)
    Session.objects(id=sid(listed_only)).delete()  # as after a crash, or the TTL
    User.objects(id=user.id).update_one(pull__session_ids=ObjectId(sid(document_only)))
    Session.objects(id=sid(document_only)).update_one(set__created_at=now() - timedelta(minutes=5))
    User._get_collection().delete_one({"_id": other.id})  # an orphaned session (the CASCADE's case)
    with pytest.raises(SystemExit):
        run()
    out = run("--fix")
    assert "users.session_ids" in out and "sessions (not listed)" in out and "sessions " in out
    assert Session.objects(id=sid(document_only)).count() == 0 and Session.objects(id=sid(orphan)).count() == 0
    assert [str(i) for i in User.objects.get(id=user.id).session_ids] == [sid(fine)]
    assert device(fine).get("/users/me").status_code == 200
    assert "No orphaned documents" in run()


def test_ending_every_session_inside_another_update_of_many_users(user, other):
    """The form a state change uses (a trash move of many users, a password reset): the end of
    every session joins the caller's own atomic update."""
    mine, theirs, kept = login(user.email), login(other.email), login(other.email)
    User._get_collection().update_many(
        {"_id": {"$in": [user.id, other.id]}}, {"$set": {"updated_at": now(), **sessions.sessions_end_all_set()}}
    )
    for tokens in (mine, theirs, kept):
        assert device(tokens).get("/users/me").status_code == 401
    assert sessions.sessions_documents_delete(user_ids=[user.id, other.id]) == 3
    assert Session.objects.count() == 0


def test_past_the_limit_a_login_ends_the_oldest_session(user, settings):
    settings.SESSIONS_MAX_PER_USER = 3
    first, second, third = login(user.email), login(user.email), login(user.email)
    fourth = login(user.email)
    assert device(first).get("/users/me").status_code == 401
    assert refresh(first["refresh"]).status_code == 401
    for tokens in (second, third, fourth):
        assert device(tokens).get("/users/me").status_code == 200
    assert len(User.objects.get(id=user.id).session_ids) == 3 and Session.objects(user=user.id).count() == 3


def test_a_trash_move_ends_every_session_for_good(user, admin, client_for):
    tokens = login(user.email)
    assert client_for(admin).delete(f"/users/{user.id}?reason=spam").status_code == 204
    assert client_for(admin).post(f"/trash/{user.id}/restore").status_code == 200
    assert device(tokens).get("/users/me").status_code == 401 and refresh(tokens["refresh"]).status_code == 401
    assert User.objects.get(id=user.id).session_ids == [] and Session.objects(user=user.id).count() == 0
