"""The trashed-user visibility rule (accounts.users.selectors.user_visible), the same for every read of
one user: a trashed account is a 404 to everybody but admins. Over HTTP the permission answers
first (403 for strangers, 401 for the trashed owner), so the rule is checked at the selectors."""
import pytest
from rest_framework.exceptions import NotFound

from accounts.users.selectors import NO_USER, user_get
from accounts.admin.trash import user_trash
from profiles.selectors import user_with_details


@pytest.mark.parametrize("read", [user_get, user_with_details], ids=["user_get", "user_with_details"])
def test_a_trashed_user_is_seen_by_admins_only(read, user, other, admin):
    user_trash(user=user, actor=admin, reason="test")
    for caller in (other, None) if read is user_get else (other,):
        with pytest.raises(NotFound) as refused:
            read(user_id=str(user.id), caller=caller)
        assert refused.value.detail == NO_USER
    assert read(user_id=str(user.id), caller=admin)


@pytest.mark.parametrize("read", [user_get, user_with_details], ids=["user_get", "user_with_details"])
def test_a_live_user_is_seen_by_others_and_a_malformed_id_is_a_404(read, user, other):
    assert read(user_id=str(user.id), caller=other)
    with pytest.raises(NotFound):
        read(user_id="not-an-id", caller=other)
