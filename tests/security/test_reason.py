"""Issue 12, item 13: `reason` on every delete is free text like the others: no NUL, no control
characters (line breaks included), at most 500 characters; the stored reason is what was sent."""
import json
from urllib.parse import quote

import pytest

from accounts.user_data.documents import DeletionRecord
from accounts.admin.documents import TrashEntry

BAD = ["a\x00b", "line one\nline two", "a\rb", "a\x1b[31mb", "a\u202eb", "x" * 501]


@pytest.mark.parametrize("reason", BAD)
def test_a_bad_reason_on_the_soft_delete_is_400(client_for, user, reason):
    r = client_for(user).delete(f"/users/{user.id}?reason={quote(reason, safe='', errors='surrogatepass')}")
    assert r.status_code == 400 and "reason" in r.json()
    assert TrashEntry.objects.count() == 0


@pytest.mark.parametrize("reason", BAD)
def test_a_bad_reason_on_the_chain_delete_is_400(client_for, user, reason):
    r = client_for(user).delete(f"/users/delete_user/{user.id}?reason={quote(reason, safe='', errors='surrogatepass')}")
    assert r.status_code == 400 and "reason" in r.json()
    assert DeletionRecord.objects.count() == 0


@pytest.mark.parametrize("reason", BAD)
def test_a_bad_reason_on_the_bulk_delete_is_400(client_for, admin, user, reason):
    body = json.dumps({"ids": [str(user.id)], "reason": reason})  # ASCII: \ud800 stays an escape
    r = client_for(admin).generic("POST", "/trash/bulk_delete", body, content_type="application/json")
    assert r.status_code == 400 and "reason" in r.json()
    assert TrashEntry.objects.count() == 0


def test_a_plain_reason_is_kept_as_sent(client_for, user, make_user):
    assert client_for(user).delete(f"/users/{user.id}?reason={quote('leaving: moving to Zürich, 2027')}").status_code == 204
    assert TrashEntry.objects.get().reason == "leaving: moving to Zürich, 2027"
    other = make_user()
    assert client_for(other).delete(f"/users/delete_user/{other.id}").status_code == 200
    assert DeletionRecord.objects.get(user_id=other.id).reason == "delete_user"
