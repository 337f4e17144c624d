"""`request.user` is a `Caller` (accounts/sessions/caller.py): who the caller is answers from the
document authentication read; anything more builds the same `User` authentication built before."""
import copy

import pytest

from accounts.sessions import caller as caller_module
from accounts.sessions.caller import Caller, user_from_document
from accounts.sessions.selectors import caller_for_token, user_for_token
from accounts.sessions.tokens import token_pair_for
from accounts.users.documents import User
from profiles.documents import Details
from rest_framework_simplejwt.tokens import AccessToken


@pytest.fixture
def builds(monkeypatch):
    """How many `User`s were built from a document during the block."""
    counted = []
    real = caller_module.user_from_document

    def counting(document):
        counted.append(document["_id"])
        return real(document)

    monkeypatch.setattr(caller_module, "user_from_document", counting)
    return counted


def _document(user):
    return User._get_collection().find_one({"_id": user.id})


def test_get_users_me_builds_no_user(client_for, user, builds):
    """Authentication, both permissions, the view and the request log ask only who the caller is."""
    response = client_for(user).get("/users/me")
    assert response.status_code == 200 and response.json()["user"]["_id"] == str(user.id)
    assert builds == []


def test_a_request_that_needs_the_user_builds_it_once(client_for, user, builds):
    """A service that takes the caller as its `User` (here: the verification mail, which reads the
    caller's address and verified flag) gets the one built from the request's document."""
    User.objects(id=user.id).update(set__email_verified=False)
    response = client_for(user).post("/auth/email/resend")
    assert response.status_code == 202, response.content
    assert builds == [user.id]


def test_an_admin_is_known_from_the_document(client_for, admin, user, builds):
    response = client_for(admin).get(f"/users/user_with_details/{user.id}")
    assert response.status_code == 200
    assert builds == []


def test_who_the_caller_is_without_building(user, builds):
    caller = Caller(_document(user))
    assert (caller.id, caller.pk, caller.role, caller.is_admin) == (user.id, user.id, "user", False)
    assert caller and caller.is_authenticated and not caller.is_anonymous
    assert caller.son["_id"] == user.id  # the document, for the join (prefetch.py)
    assert builds == []


def test_anything_else_builds_the_same_user(user, admin, builds):
    caller = Caller(_document(user))
    assert isinstance(caller, User) and caller.__class__ is User
    assert caller.username == user.username and caller.email == user.email
    assert builds == [user.id]  # once, whatever is asked after
    assert caller == user and user == caller and caller != admin and hash(caller) == hash(user)
    assert str(caller) == str(user)
    assert caller._data == user_for_token_like(user)._data
    assert builds == [user.id]


def user_for_token_like(user):
    return user_from_document(_document(user))


def test_a_change_made_to_the_built_user_is_what_the_caller_answers(user, builds):
    caller = Caller(_document(user))
    caller.role = "admin"  # builds, then sets on the User (nothing saved)
    assert caller.is_admin and caller.role == "admin"
    caller.save()
    assert User.objects.get(id=user.id).role == "admin"


def test_a_caller_can_be_a_reference_and_a_query_value(user):
    caller = Caller(_document(user))
    Details(user=caller, address="2 High St").save()
    assert Details.objects(user=caller).count() == 1
    assert Details.objects.get(user=user.id).user.id == user.id


def test_copies_are_copies_of_the_user(user):
    caller = Caller(_document(user))
    shallow, deep = copy.copy(caller), copy.deepcopy(caller)
    assert type(shallow) is User and type(deep) is User
    assert shallow.id == deep.id == user.id


def test_caller_for_token_refuses_what_user_for_token_refuses(user):
    access = AccessToken(str(token_pair_for(user).access_token))
    assert caller_for_token(access).id == user_for_token(access).id == user.id
    User.objects(id=user.id).update(inc__token_version=1)
    from rest_framework_simplejwt.exceptions import AuthenticationFailed

    for read in (caller_for_token, user_for_token):
        with pytest.raises(AuthenticationFailed):
            read(access)
