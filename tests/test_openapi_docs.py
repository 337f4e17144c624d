"""The OpenAPI schema as the API's users read it: every operation has a summary, a description
for callers (no internal docstring), a readable operationId and a description for each response;
error bodies are typed as the service writes them.

Adding an operation? Give it `config.openapi.documented(...)` (see accounts/users/api_docs.py) and
these tests pass; 400 bodies are typed from its request serializer without more work."""
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

AUTO_OPERATION_ID = re.compile(r"_(create|retrieve|list|update|partial_update|destroy)$")
INTERNAL_WORDS = ("viewset", "get_object", "queryset", "DRF's generic", "serializer", "mixin")


@pytest.fixture(scope="module")
def schema():
    from rest_framework.test import APIClient

    return json.loads(APIClient().get("/api/schema/?format=json").content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                yield f"{method.upper()} {path}", operation


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_every_operation_is_written_for_its_callers(schema):
    ids = []
    for name, operation in operations(schema):
        assert operation.get("summary"), f"{name}: no summary (use config.openapi.documented)"
        description = operation.get("description", "")
        assert len(description) > 40, f"{name}: no description for callers"
        assert not any(word in description for word in INTERNAL_WORDS), f"{name}: internal wording: {description[:120]}"
        assert not AUTO_OPERATION_ID.search(operation["operationId"]), f"{name}: generated operationId {operation['operationId']}"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", operation["operationId"])
        assert len(operation["tags"]) == 1
        ids.append(operation["operationId"])
        for code, response in operation["responses"].items():
            assert response.get("description"), f"{name} {code}: no description"
    assert len(ids) == len(set(ids))


def test_who_may_call_is_said_for_every_operation(schema):
    who = ("Anyone", "owner", "Admins only", "signed in")
    for name, operation in operations(schema):
        assert any(w in operation["description"] for w in who), f"{name}: the description does not say who may call it"


def test_the_login_reads_as_written(schema):
    login = schema["paths"]["/login"]["post"]
    assert login["operationId"] == "login" and login["summary"] == "Log in with email and password"
    assert login["responses"]["401"]["description"].startswith('`{"detail": "Invalid email or password."}`')


def test_error_body_detail_carries_code(schema):
    detail = schema["components"]["schemas"]["Detail"]
    assert detail["required"] == ["detail"]
    assert {"detail", "code", "messages"} <= set(detail["properties"])


def test_every_400_is_typed_by_the_input_it_rejects(schema):
    for name, operation in operations(schema):
        if "400" not in operation["responses"]:
            continue
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert error["$ref"].endswith("Error"), name
        properties = resolve(schema, error)["properties"]
        body = next(iter(operation.get("requestBody", {}).get("content", {}).values()), None)
        if body:
            fields = set(resolve(schema, body["schema"]).get("properties", {}))
        else:
            fields = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert fields and fields <= set(properties), (name, fields, set(properties))
        assert {"non_field_errors", "detail"} <= set(properties)


def test_operations_without_input_document_no_400(schema):
    assert "400" not in schema["paths"]["/users/{user_id}"]["get"]["responses"]
    assert "400" not in schema["paths"]["/users/{user_id}/linked_ids/{linked_id}"]["delete"]["responses"]


def test_real_bodies_match_their_documented_shapes(api, client_for, user, schema):
    """The 400 of a registration and the 401 of a bad token carry only documented keys."""
    r = api.post("/users/register", {"username": "x", "email": "nope", "password": "1"}, format="json")
    documented = set(resolve(schema, {"$ref": "#/components/schemas/RegisterInputError"})["properties"])
    assert r.status_code == 400 and set(r.json()) <= documented
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in r.json().values())
    r = api.get("/users/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    body = r.json()
    assert r.status_code == 401 and set(body) <= set(schema["components"]["schemas"]["Detail"]["properties"])
    assert body["code"] == "token_not_valid"


def test_the_export_is_typed(schema, client_for, user):
    export = schema["paths"]["/users/{user_id}/export"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    component = resolve(schema, export)
    assert set(component["properties"]) == {"user", "collections"}
    account = resolve(schema, component["properties"]["user"])
    assert {"_id", "username", "email", "role", "created_at"} <= set(account["required"])
    body = client_for(user).get(f"/users/{user.id}/export").json()
    assert set(account["required"]) <= set(body["user"]) and "password" not in body["user"]
    assert all(isinstance(docs, list) for docs in body["collections"].values())


def test_reason_is_required_and_described_on_trash(schema):
    (reason,) = [p for p in schema["paths"]["/users/{user_id}"]["delete"]["parameters"] if p["name"] == "reason"]
    # No maxLength in the schema: a fuzzer would send 500 four-byte characters, a URL past what
    # gunicorn accepts (414); the description says it.
    assert reason["required"] is True and "500 characters" in reason["description"]


# --- the avatar as a file, for generated clients -------------------------------------------------
def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "PNG")
    return out.getvalue()


def test_the_avatar_get_is_binary_in_a_media_type_generators_know(schema):
    content = schema["paths"]["/users/{user_id}/avatar"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"image/jpeg", "image/png", "application/octet-stream"}
    assert all(media["schema"] == {"type": "string", "format": "binary"} for media in content.values())


@pytest.mark.parametrize(
    "accept, expected",
    [
        (None, "image/png"),
        ("image/png", "image/png"),
        ("image/*", "image/png"),
        ("*/*", "image/png"),
        ("application/octet-stream", "application/octet-stream"),
        ("application/json, application/octet-stream", "application/octet-stream"),
        ("image/png, application/octet-stream", "image/png"),
    ],
)
def test_the_avatar_answers_octet_stream_to_who_asks_only_for_that(client_for, user, accept, expected):
    client = client_for(user)
    put = client.put(f"/users/{user.id}/avatar", {"file": SimpleUploadedFile("a.png", png())}, format="multipart")
    assert put.status_code == 200
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    r = client.get(f"/users/{user.id}/avatar", **headers)
    assert r.status_code == 200 and r["Content-Type"] == expected
    assert r.content.startswith(b"\x89PNG")


def test_component_descriptions_speak_to_callers(schema):
    for name, component in schema["components"]["schemas"].items():
        text = component.get("description", "") + " ".join(p.get("description", "") for p in component.get("properties", {}).values())
        assert not any(word in text for word in INTERNAL_WORDS + ("documentation only", "services")), f"{name}: {text[:160]}"
