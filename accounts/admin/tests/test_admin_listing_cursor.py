"""GET /users?cursor= (keyset pages, accounts/admin/listing.py) and ?starts_with=."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.admin import listing
from accounts.admin.trash import user_trash
from accounts.users.documents import User


@pytest.fixture
def people(make_user):
    """25 members created a minute apart (and one second for two of them: a tie on created_at)."""
    made = [make_user(f"member {n:02d}", f"member{n:02d}@corp.example") for n in range(25)]
    start = timezone.now() - timedelta(hours=1)
    for n, user in enumerate(made):
        User.objects(id=user.id).update_one(set__created_at=start + timedelta(minutes=min(n, 20)))
    return made


def walk(client, per_page=7, extra=""):
    """Every page by next_cursor: the ids in order, and the envelopes."""
    ids, pages, cursor = [], [], ""
    for _ in range(50):
        body = client.get(f"/users?cursor={cursor}&per_page={per_page}{extra}").json()
        pages.append(body)
        ids += [u["id"] for u in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages
    raise AssertionError("the cursor never ended")


def test_cursor_pages_cover_everyone_once_newest_first(client_for, admin, people):
    client = client_for(admin)
    ids, pages = walk(client)
    by_number = [u["id"] for page in (1, 2, 3) for u in client.get(f"/users?page={page}&per_page=10").json()["data"]]
    assert ids == by_number and len(ids) == 26  # the same order as the numbered pages, ties included
    first, last = pages[0], pages[-1]
    assert set(first) == {"total", "total_exact", "page", "per_page", "has_next", "has_previous", "next_cursor", "data"}
    assert (first["page"], first["has_previous"], first["has_next"]) == (None, False, True)
    assert (first["total"], first["total_exact"]) == (8, False)  # a lower bound: 7 shown and more
    assert (last["has_next"], last["next_cursor"], last["total"], last["total_exact"]) == (False, None, 26, True)


def test_pages_do_not_drift_when_users_arrive(client_for, admin, people, make_user):
    client = client_for(admin)
    first = client.get("/users?cursor=&per_page=10").json()
    make_user("newcomer", "newcomer@corp.example")
    second = client.get(f"/users?cursor={first['next_cursor']}&per_page=10").json()
    assert not {u["id"] for u in first["data"]} & {u["id"] for u in second["data"]}
    assert "newcomer" not in [u["username"] for u in second["data"]]


def test_trashed_users_are_left_out(client_for, admin, people):
    user_trash(user=people[3], actor=admin, reason="gone")
    ids, _ = walk(client_for(admin))
    assert str(people[3].id) not in ids and len(ids) == 25


def test_exact_total_on_request(client_for, admin, people):
    body = client_for(admin).get("/users?cursor=&per_page=5&total=exact").json()
    assert (body["total"], body["total_exact"]) == (26, True)


@pytest.mark.parametrize("cursor", ["x", "bm90IGEgY3Vyc29y", "MS4yLjMuNC41", "LTEuNjZjOTU1MWM5OTZmZWUxNWE4OGEyOGU0LjEuMC4w", "%00", "a" * 201])
def test_a_bad_cursor_is_a_400(client_for, admin, cursor):
    r = client_for(admin).get(f"/users?cursor={cursor}")
    assert r.status_code == 400 and "cursor" in r.json()


def test_page_and_cursor_together_are_a_400(client_for, admin):
    r = client_for(admin).get("/users?cursor=&page=2")
    assert r.status_code == 400 and r.json() == {"cursor": ["Give either page or cursor, not both."]}


def test_only_admins_list(client_for, people):
    assert client_for(people[0]).get("/users?cursor=").status_code == 403
    assert client_for(None).get("/users?cursor=").status_code == 401


def test_starts_with_finds_names_and_emails_by_their_start_any_case(client_for, admin, people, make_user):
    make_user("Zoë Quill", "quill@else.example")
    client = client_for(admin)
    body = client.get("/users?starts_with=MEMBER 0&per_page=30").json()
    assert sorted(u["username"] for u in body["data"]) == [f"member {n:02d}" for n in range(10)] and body["total"] == 10
    assert [u["username"] for u in client.get("/users?starts_with=QUILL@").json()["data"]] == ["Zoë Quill"]
    assert [u["username"] for u in client.get("/users?starts_with=zoë").json()["data"]] == ["Zoë Quill"]
    assert client.get("/users?starts_with=member 2&cursor=&per_page=2").json()["next_cursor"] is not None
    assert client.get("/users?starts_with=nobody").json()["data"] == []
    assert client.get("/users?starts_with=.*").json()["data"] == []  # plain text, never a pattern
    assert client.get("/users?starts_with=x&q=y").status_code == 400


def test_starts_with_leaves_trashed_users_out(client_for, admin, people):
    user_trash(user=people[0], actor=admin, reason="gone")
    names = [u["username"] for u in client_for(admin).get("/users?starts_with=member 0").json()["data"]]
    assert "member 00" not in names and len(names) == 9


def test_q_pages_by_cursor_too(client_for, admin, people):
    ids, pages = walk(client_for(admin), per_page=4, extra="&q=ber 1")
    assert len(ids) == len(set(ids)) == 10 and pages[0]["total"] == 10 and pages[0]["total_exact"]


def test_a_cursor_page_reads_few_keys_whatever_the_number_of_users(make_user, admin, client_for, round_trips, monkeypatch):
    """The windows read about as many users as a page shows: counted here as the rows every
    window query returned, with 12 and with 60 users spread over an hour."""
    read = []
    original = listing._key

    def counting(row):
        read.append(row["_id"])
        return original(row)

    monkeypatch.setattr(listing, "_key", counting)
    start = timezone.now() - timedelta(hours=1)
    figures = {}
    for count in (12, 60):
        User.objects(role="user").delete()
        for n in range(count):
            user = make_user(f"spread {count} {n}", f"s{count}.{n}@corp.example")
            User.objects(id=user.id).update_one(set__created_at=start + timedelta(seconds=n * 3600 // count))
        read.clear()
        body = client_for(admin).get("/users?cursor=&per_page=5").json()
        second = client_for(admin).get(f"/users?cursor={body['next_cursor']}&per_page=5").json()
        assert len(body["data"]) == len(second["data"]) == 5
        figures[count] = len(read)
    assert figures[60] <= 4 * figures[12], figures
