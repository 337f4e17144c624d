"""Issue 12, item 10: look-alike identities. Usernames are NFKC-normalised before case folding,
may not mix scripts, and may not be confusable (same Unicode skeleton) with an existing one;
names and emails refuse control, format and bidi characters; email domains are stored in one
canonical (IDNA A-label) form. Users stored before keep working."""
import pytest

from accounts.users.documents import User, casefold_key
from accounts.users.identity import email_normalize, username_skeleton
from tests.conftest import PASSWORD


def register(api, username, email):
    return api.post("/users/register", {"username": username, "email": email, "password": PASSWORD}, format="json")


@pytest.fixture
def admin_name(make_user):
    return make_user("admin", "admin@example.com")


@pytest.mark.parametrize(
    "username, code",
    [
        ("ＡＤＭＩＮ", 409),  # fullwidth: NFKC makes it "ADMIN"
        ("ADMIN", 409),
        ("\u0430dmin", 400),  # Cyrillic a among Latin letters: mixed scripts
        ("adm\u0131n", 409),  # dotless i: all Latin, but its skeleton is "admin"
        ("\U0001d41a\U0001d41d\U0001d426\U0001d422\U0001d427", 409),  # mathematical bold: NFKC
        ("adm\u0456n", 400),  # Cyrillic i
        ("admin\u200b", 400),  # zero-width space
        ("admin\u202e", 400),  # right-to-left override
        ("adm\u0069\u0307n", 400),  # combining dot above
    ],
)
def test_a_username_that_looks_like_an_existing_one_is_refused(api, admin_name, username, code):
    r = register(api, username, "someone@example.com")
    assert r.status_code == code, r.content
    assert User.objects.count() == 1


def test_confusables_are_refused_on_rename_too(api, client_for, admin_name, make_user):
    other = make_user("bob", "bob@example.com")
    r = client_for(other).patch(f"/users/{other.id}", {"username": "adm\u0131n"}, format="json")
    assert r.status_code == 409 and r.json()["detail"] == "This username is taken."
    assert all(username_skeleton(s) != username_skeleton("admin") for s in r.json()["suggested_usernames"])


def test_single_script_names_in_other_scripts_are_welcome(api):
    for n, name in enumerate(["Ελένη", "Иван Петров", "山田太郎", "やまだ たろう", "José María", "Zoë_99"]):
        assert register(api, name, f"p{n}@example.com").status_code == 201, name
    assert User.objects(username="José María").first() is not None


def test_the_username_is_stored_in_nfkc(api):
    assert register(api, "ｃａｒｏｌ", "carol@example.com").status_code == 201
    user = User.objects.get(email="carol@example.com")
    assert user.username == "carol" and user.username_key == "carol" and user.username_skeleton == "carol"


@pytest.mark.parametrize(
    "email",
    ["ad\u202emin@example.com", "admin@exa\u202emple.com", "admin@example.com\u200b", "admin@exam\u0000ple.com", "admin@example\u2028.com"],
)
def test_control_format_and_bidi_characters_in_emails_are_refused(api, email):
    r = register(api, "carol", email)
    assert r.status_code == 400 and "email" in r.json()


@pytest.mark.parametrize("lookalike", ["admin@ｅｘａｍｐｌｅ．ｃｏｍ", "ADMIN@EXAMPLE.COM"])
def test_an_email_domain_in_another_spelling_is_the_same_email(api, admin_name, lookalike):
    r = register(api, "carol", lookalike)
    assert r.status_code == 409 and r.json()["detail"] == "A user with this email already exists."


def test_an_idn_domain_and_its_a_label_are_one_email(api):
    assert register(api, "carol", "carol@exämple.com").status_code == 201
    assert User.objects.get(username="carol").email == "carol@xn--exmple-cua.com"
    r = register(api, "dave", "carol@xn--exmple-cua.com")
    assert r.status_code == 409
    login = api.post("/login", {"email": "carol@exämple.com", "password": PASSWORD}, format="json")
    assert login.status_code == 200


def test_email_normalize_keeps_ascii_domains_as_given():
    assert email_normalize("Alice@Example.COM") == "Alice@Example.COM"
    assert email_normalize("a@ＥＸＡＭＰＬＥ．ｃｏｍ") == "a@example.com"


def test_users_stored_before_keep_working(api, client_for):
    """Stored with the old keys (plain case folding, no skeleton, a Unicode domain)."""
    legacy = User(username="old\u0131", username_key=casefold_key("old\u0131"), email="old@exämple.com", email_key="old@exämple.com")
    from django.contrib.auth.hashers import make_password

    legacy.password = make_password(PASSWORD)
    legacy.save(force_insert=True)
    User._get_collection().update_one({"_id": legacy.id}, {"$unset": {"username_skeleton": ""}})
    login = api.post("/login", {"email": "old@exämple.com", "password": PASSWORD}, format="json")
    assert login.status_code == 200
    assert client_for(legacy).get(f"/users/{legacy.id}").status_code == 200
    assert register(api, "someone", "fresh@example.com").status_code == 201
