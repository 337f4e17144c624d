"""The browsable API as a person meets it (common/browsable.py, config/templates/rest_framework/api.html):
pages in the service's name and words, forms where DRF showed "405 Method Not Allowed", a PATCH
form that does not send a role back, a DELETE dialog that can send a reason, and a start page."""
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

HTML = {"HTTP_ACCEPT": "text/html"}
INTERNAL = ("viewset", "get_object", "queryset", "Endpoints anyone may call", "Mixin")


def page(client, path):
    r = client.get(path, **HTML)
    assert r["Content-Type"].startswith("text/html"), r["Content-Type"]
    return r, r.content.decode()


def raw_form_content(html: str, method: str) -> str:
    """The JSON a raw-data form is pre-filled with (DRF's textarea, HTML-escaped)."""
    forms = re.findall(r'<form[^>]*id="[^"]*"[^>]*>.*?</form>|<form.*?</form>', html, flags=re.S)
    for form in forms:
        if f'data-method="{method}"' in form or f"data-method='{method}'" in form or f">{method}</button>" in form:
            match = re.search(r"<textarea[^>]*name=\"_content\"[^>]*>(.*?)</textarea>", form, flags=re.S)
            if match:
                return match.group(1)
    return ""


@pytest.mark.parametrize("path, summary", [("/users/register", "Create an account"), ("/login", "Log in with email and password")])
def test_post_only_pages_show_their_form_not_a_405(api, path, summary):
    r, html = page(api, path)
    assert r.status_code == 200
    assert "Method Not Allowed" not in html and "405" not in html
    assert summary in html and "_content" in html  # the POST form, named as the schema names it
    assert "User service" in html and "Django REST framework" not in html
    assert not any(word in html for word in INTERNAL)
    # A program still gets the API's answer.
    assert api.get(path).status_code == 405


def test_the_register_form_holds_the_right_fields(api):
    _, html = page(api, "/users/register")
    content = raw_form_content(html, "POST")
    assert all(f"&quot;{field}&quot;" in content for field in ("username", "email", "password")), content
    assert "Register</a>" in html  # the link beside "Log in"


def test_link_id_page_offers_the_link_form_for_a_signed_in_user(client_for, user):
    r, html = page(client_for(user), "/users/link_id")
    assert r.status_code == 200 and "Link an external id to a user" in html
    content = raw_form_content(html, "POST")
    assert "&quot;linked_id&quot;" in content and "&quot;user_id&quot;" in content


def test_the_patch_form_does_not_send_the_role_back(client_for, user):
    r, html = page(client_for(user), f"/users/{user.id}")
    assert r.status_code == 200
    content = raw_form_content(html, "PATCH")
    assert "&quot;username&quot;" in content and "role" not in content, content
    # What the form holds, sent as it is, is accepted for a user.
    sent = client_for(user).patch(f"/users/{user.id}", {"username": "renamed person", "email": user.email}, format="json")
    assert sent.status_code == 200


def test_the_delete_dialog_can_send_a_reason(client_for, user):
    _, html = page(client_for(user), f"/users/{user.id}")
    assert 'id="deleteModal"' in html and "browsable/delete-reason.js" in html


def test_the_start_page_says_where_to_go(api, client_for, user):
    r, html = page(api, "/")
    assert r.status_code == 200
    for link in ("/api/docs/", "/api/redoc/", "/users/register", "/api-auth/login/", "/users/me"):
        assert f'href="{link}"' in html, link
    body = api.get("/").json()
    assert body["docs"] == "http://testserver/api/docs/" and body["register"] == "http://testserver/users/register"
    assert client_for(user).get("/").status_code == 200


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(out, "PNG")
    return out.getvalue()


def test_the_avatar_page_offers_an_upload_form_and_the_image_stays_an_image(client_for, user):
    client = client_for(user)
    r, html = page(client, f"/users/{user.id}/avatar")
    assert r.status_code == 404 and 'type="file"' in html and 'enctype="multipart/form-data"' in html
    client.put(f"/users/{user.id}/avatar", {"file": SimpleUploadedFile("a.png", png())}, format="multipart")
    r, html = page(client, f"/users/{user.id}/avatar")
    assert r.status_code == 200 and 'type="file"' in html and 'id="deleteModal"' in html
    # What an <img> tag asks for is the image.
    img = client.get(f"/users/{user.id}/avatar", HTTP_ACCEPT="image/avif,image/webp,image/apng,image/*,*/*;q=0.8")
    assert img["Content-Type"] == "image/png" and img.content.startswith(b"\x89PNG")


def test_pages_use_the_schema_words_never_docstrings(client_for, admin, user):
    for path in ("/users/me", f"/users/{user.id}", "/users", "/trash", f"/users/{user.id}/export", "/users/add_details"):
        r, html = page(client_for(admin), path)
        assert r.status_code == 200, path
        assert not any(word in html for word in INTERNAL), path
    _, html = page(client_for(admin), "/users")
    assert "List and search users" in html


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    return match.group(0) if match else ""


def test_the_register_page_is_a_form_with_a_field_per_input(api):
    """A newcomer fills in three fields; the page's script posts them as JSON (json-forms.js)."""
    _, html = page(api, "/users/register")
    assert input_tag(html, "username") and input_tag(html, "email")
    assert 'type="password"' in input_tag(html, "password")
    assert "browsable/json-forms.js" in html
    # The script's way: JSON with the form's fields, as DRF's ajax-form.js sends it.
    r = api.post("/users/register", {"username": "form person", "email": "form@example.com", "password": "a long river stone"}, format="json", **HTML)
    assert r.status_code == 201
    # A form-encoded post is still refused: JSON is the API's one body.
    assert api.post("/users/register", {"username": "x"}, format="multipart").status_code == 415


def test_a_mail_links_page_has_its_token_filled_in(api):
    _, html = page(api, "/auth/email/verify?token=AbC-123_x")
    assert 'value="AbC-123_x"' in input_tag(html, "token")
    assert "&quot;token&quot;: &quot;AbC-123_x&quot;" in raw_form_content(html, "POST")
    _, html = page(api, "/auth/password/reset/confirm?token=Zz9")
    assert 'value="Zz9"' in input_tag(html, "token") and input_tag(html, "new_password")


def test_a_token_in_the_link_cannot_write_markup_into_the_page(api):
    _, html = page(api, '/auth/email/verify?token="><script>alert(1)</script>')
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in input_tag(html, "token")


def test_pages_with_a_json_box_get_no_form_script(client_for, user):
    _, html = page(client_for(user), "/users/link_id")
    assert "json-forms.js" not in html and not input_tag(html, "linked_id")


def test_the_avatar_page_is_named_for_its_upload_form(client_for, user):
    _, html = page(client_for(user), f"/users/{user.id}/avatar")
    title = re.search(r"<title>(.*?)</title>", html, flags=re.S).group(1)
    assert "Download" not in title and "pload" in title, title
