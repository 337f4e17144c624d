"""POST /users/register: 201 `{"message": "User registered successfully", "user_id"}` (API.md)."""
import pytest
from django.contrib.auth.hashers import check_password

from accounts.users.documents import ROLE_USER, User
from accounts.users.registration import user_register
from common.exceptions import Conflict
from tests.conftest import PASSWORD
from tests.helpers_http import assert_no_password_material, is_object_id, run_together

PATHS = ["/users/register", "/users/register/"]


def register(api, path="/users/register", **fields):
    body = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, **fields}
    return api.post(path, body, format="json")


# --- success ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_register_creates_the_user_and_answers_201_with_its_id(api, path):
    r = register(api, path)

    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"message", "user_id"}
    assert body["message"] == "User registered successfully"
    assert is_object_id(body["user_id"])
    stored = User.objects.get(id=body["user_id"])
    assert (stored.username, stored.email, stored.role) == ("carol", "carol@example.com", ROLE_USER)
    assert_no_password_material(r, label=path, extra=(PASSWORD,))


def test_the_password_is_stored_hashed_and_logs_in(api):
    user_id = register(api).json()["user_id"]

    stored = User.objects.get(id=user_id)
    assert stored.password != PASSWORD and check_password(PASSWORD, stored.password)
    r = api.post("/login", {"email": "carol@example.com", "password": PASSWORD}, format="json")
    assert r.status_code == 200 and r.json()["user_id"] == user_id


def test_unknown_fields_are_ignored_and_nobody_becomes_admin(api, client_for):
    """Regression (seed 004 had open admin sign-up; FastAPI-Users tests the same)."""
    r = register(api, role="admin", is_active=False, in_trash=True, token_version=7, _id="0" * 24, is_admin=True)

    assert r.status_code == 201, r.content
    stored = User.objects.get(id=r.json()["user_id"])
    assert stored.role == ROLE_USER
    assert stored.is_active is True and stored.in_trash is False and stored.token_version == 0
    assert str(stored.id) != "0" * 24
    signed_in = client_for(stored)
    assert signed_in.get(f"/users/user_with_details/{stored.id}").json()["user"]["role"] == "user"
    assert signed_in.get("/users").status_code == 403  # the admin listing stays closed


# --- username rules ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "username",
    ["abc", "a" * 150, "John Smith", "j.s_m-1", "José Ñandú", "123", "a b", "..."],
)
def test_valid_usernames_are_accepted(api, username):
    r = register(api, username=username)
    assert r.status_code == 201, r.content
    assert User.objects.get(id=r.json()["user_id"]).username == username


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 151, "", "   ", "bad!name", "tab\tname", "new\nline", "semi;colon", "slash/x", "at@sign", "emoji😀x", "quote'x", "nul\x00x"],
)
def test_invalid_usernames_are_400_on_username(api, username):
    r = register(api, username=username)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["username"] and all(isinstance(m, str) for m in r.json()["username"])
    assert User.objects.count() == 0


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_each_field_is_required(api, missing):
    body = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    del body[missing]
    r = api.post("/users/register", body, format="json")
    assert r.status_code == 400
    assert r.json() == {missing: ["This field is required."]}


@pytest.mark.parametrize(
    "email", ["not-an-email", "carol@", "@example.com", "carol@example", "carol example@example.com", "a" * 250 + "@ex.com", ""]
)
def test_invalid_email_is_400_on_email(api, email):
    r = register(api, email=email)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["email"]
    assert User.objects.count() == 0


# --- password strength ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "fields", "message"),
    [
        ("sandesh", {}, "This password is too short. It must contain at least 8 characters."),  # seed 000's sample
        ("73920184651", {}, "This password is entirely numeric."),
        ("password123", {}, "This password is too common."),
        ("qwertyuiop", {}, "This password is too common."),
        ("kensington1", {"username": "kensington"}, "The password is too similar to the username."),
        ("marvellous.pumpkin", {"email": "marvellous.pumpkin@example.com"}, "The password is too similar to the email."),
    ],
)
def test_weak_passwords_are_refused(api, password, fields, message):
    r = register(api, password=password, **fields)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["password"]
    assert message in r.json()["password"]
    assert User.objects.count() == 0
    assert password not in r.content.decode()


def test_the_seed_sample_password_is_refused_at_the_service_too():
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        user_register(username="sandesh bhujbal", email="sandesh@gmail.com", password="sandesh")
    assert User.objects.count() == 0


def test_an_overlong_password_is_400_not_hashed(api):
    r = register(api, password="x" * 1025)
    assert r.status_code == 400 and list(r.json()) == ["password"]


# --- uniqueness, ignoring case ---------------------------------------------------------------
@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice", "aLiCe"])
def test_a_taken_username_any_case_is_409_with_five_free_suggestions(api, user, taken):
    r = register(api, username=taken, email="someone.else@example.com")

    assert r.status_code == 409, r.content
    body = r.json()
    assert set(body) == {"detail", "suggested_usernames"}
    assert isinstance(body["detail"], str) and body["detail"]
    suggestions = body["suggested_usernames"]
    assert len(suggestions) == 5 and len({s.casefold() for s in suggestions}) == 5
    assert User.objects.count() == 1
    # "Free" means free: each one registers.
    for n, suggestion in enumerate(suggestions):
        r = register(api, username=suggestion, email=f"suggested{n}@example.com")
        assert r.status_code == 201, (suggestion, r.content)
    assert User.objects.count() == 6


def test_suggestions_leave_out_names_already_taken_in_any_case(api, make_user, user):
    for name in ("alice1", "ALICE2", "Alice3"):
        make_user(name)

    suggestions = register(api, username="alice", email="new@example.com").json()["suggested_usernames"]

    taken = {"alice", "alice1", "alice2", "alice3"}
    assert len(suggestions) == 5
    assert not {s.casefold() for s in suggestions} & taken, suggestions
    for n, suggestion in enumerate(suggestions):
        assert register(api, username=suggestion, email=f"s{n}@example.com").status_code == 201


def test_suggestions_for_a_150_character_name_are_valid_usernames(api, make_user):
    long_name = "n" * 150
    make_user(long_name, "long@example.com")

    r = register(api, username=long_name, email="other@example.com")

    assert r.status_code == 409
    for n, suggestion in enumerate(r.json()["suggested_usernames"]):
        assert register(api, username=suggestion, email=f"l{n}@example.com").status_code == 201, suggestion


@pytest.mark.parametrize("taken", ["alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com", " alice@example.com "])
def test_a_taken_email_any_case_is_409_with_detail_only(api, user, taken):
    r = register(api, username="newname", email=taken)

    assert r.status_code == 409, r.content
    assert set(r.json()) == {"detail"}
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    assert User.objects.count() == 1


def test_conflicts_name_neither_password_nor_hash(api, user):
    r = register(api, username="alice", email="alice@example.com")
    assert r.status_code == 409
    assert_no_password_material(r, extra=(user.password,))


# --- races: the unique indexes decide --------------------------------------------------------
def test_parallel_registrations_of_one_email_make_exactly_one_user():
    def attempt(n):
        return user_register(username=f"racer{n}", email="race@example.com", password=PASSWORD)

    results = run_together(attempt, list(range(8)))

    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1, results
    assert len(refused) == 7, results
    assert User.objects(email_key="race@example.com").count() == 1
    assert User.objects.count() == 1


def test_parallel_registrations_of_one_username_make_exactly_one_user():
    def attempt(n):
        # Case varies too: uniqueness ignores it.
        name = "Racer" if n % 2 else "racer"
        return user_register(username=name, email=f"racer{n}@example.com", password=PASSWORD)

    results = run_together(attempt, list(range(8)))

    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 1, results
    assert len(refused) == 7, results
    assert all(len(c.extra["suggested_usernames"]) == 5 for c in refused)
    assert User.objects(username_key="racer").count() == 1
    assert User.objects.count() == 1
