"""Operations (API.md): GET /health, the OpenAPI 3 schema, Swagger UI and ReDoc served with local
assets (they work offline), and DRF's browsable API."""
import json
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from mongoengine.connection import get_db
from pymongo.errors import ServerSelectionTimeoutError

CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "cdn.redoc.ly")


# --- health -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_is_ok_when_the_database_answers(api, path):
    r = api.get(path)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_health_needs_no_token_and_ignores_a_bad_one(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert api.get("/health").status_code == 200


def test_health_is_503_when_the_database_cannot_be_reached(api, monkeypatch):
    """The driver's command fails as pymongo's does when no server answers; `ping` itself is real."""
    calls = []

    def unreachable(self, *args, **kwargs):
        calls.append(args)
        raise ServerSelectionTimeoutError("No servers found yet")

    monkeypatch.setattr(type(get_db()), "command", unreachable)

    r = api.get("/health")

    assert calls, "the health check did not reach the driver"
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "error"
    assert set(body) == {"status", "database"} and body["database"] != "ok"


def test_health_recovers_when_the_database_is_back(api, monkeypatch):
    def unreachable(self, *args, **kwargs):
        raise ServerSelectionTimeoutError("No servers found yet")

    monkeypatch.setattr(type(get_db()), "command", unreachable)
    assert api.get("/health").status_code == 503
    monkeypatch.undo()
    assert api.get("/health").status_code == 200


# --- the OpenAPI schema -------------------------------------------------------------------------
SEED_PATHS = {
    ("post", "/users/register"),
    ("post", "/login"),
    ("post", "/users/link_id"),
    ("post", "/users/add_details"),
    ("get", "/users/user_with_details/{user_id}"),
    ("delete", "/users/delete_user/{user_id}"),
}


def schema_json(api) -> dict:
    r = api.get("/api/schema/?format=json")
    assert r.status_code == 200, r.content[:200]
    return json.loads(r.content)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/schema"])
def test_the_schema_is_openapi_3(api, path):
    r = api.get(path)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.oai.openapi")
    assert re.match(rb"openapi: ['\"]?3\.\d+\.\d+", r.content), r.content[:60]


def test_the_json_schema_lists_the_seed_endpoints_with_bearer_auth(api):
    schema = schema_json(api)

    assert schema["openapi"].startswith("3.")
    operations = {(method, path.rstrip("/")) for path, item in schema["paths"].items() for method in item}
    missing = SEED_PATHS - operations
    assert not missing, f"not in the schema: {missing}"
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values()), schemes


def test_the_schema_documents_the_seed_responses(api):
    paths = {path.rstrip("/"): item for path, item in schema_json(api)["paths"].items()}

    assert "201" in paths["/users/register"]["post"]["responses"]
    assert "409" in paths["/users/register"]["post"]["responses"]
    assert "401" in paths["/login"]["post"]["responses"]
    assert "404" in paths["/users/user_with_details/{user_id}"]["get"]["responses"]
    assert "403" in paths["/users/delete_user/{user_id}"]["delete"]["responses"]
    assert not paths["/users/register"]["post"].get("security") or {} in paths["/users/register"]["post"]["security"]


def test_the_schema_carries_no_password_in_any_response(api):
    schema = schema_json(api)
    components = schema["components"]["schemas"]

    def resolve(node):
        if isinstance(node, dict) and "$ref" in node:
            return resolve(components[node["$ref"].rsplit("/", 1)[1]])
        return node

    def properties(node, depth=0):
        node = resolve(node)
        if not isinstance(node, dict) or depth > 8:
            return set()
        names = set(node.get("properties", {}))
        for child in list(node.get("properties", {}).values()) + [node.get("items", {})] + node.get("allOf", []):
            names |= properties(child, depth + 1)
        return names

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    if code == "400":
                        # Validation errors are keyed by input field; under `password` they hold
                        # messages about it (lists of strings), never a value.
                        error = resolve(media["schema"])
                        for name, prop in error.get("properties", {}).items():
                            if "password" in name:
                                assert prop["type"] == "array" and prop["items"] == {"type": "string"}, (path, name)
                        continue
                    names = properties(media.get("schema", {}))
                    assert not any("password" in n for n in names), (method, path, code, names)


# --- Swagger UI and ReDoc, with local assets ------------------------------------------------------
def asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs", "/api/redoc/", "/api/redoc"])
def test_docs_pages_load_their_scripts_from_this_server(api, path):
    r = api.get(path)

    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    html = r.content.decode()
    for host in CDN_HOSTS:
        assert host not in html, f"{path} loads from {host}"
    scripts = re.findall(r"""<script[^>]*\ssrc\s*=\s*["']([^"']+)["']""", html)
    assert scripts, f"{path} has no script tag"
    static = "/" + settings.STATIC_URL.strip("/") + "/"
    for src in scripts:
        if src.startswith("/api/docs"):  # Swagger UI's settings script, served by the same view
            assert api.get(src).status_code == 200
            continue
        assert src.startswith(static), f"{path}: script {src} is not served locally"
        relative = src[len(static):].split("?")[0]
        assert finders.find(relative) or finders.find(re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", relative)), f"{src} is not a local file"
    assert "/api/schema" in html or "/api/schema" in api.get(scripts[-1]).content.decode(), f"{path} does not point at the schema"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_reference_no_other_host(api, path):
    """Nothing in the served page names another host (ReDoc's stock template loads Google Fonts)."""
    r = api.get(path)
    page = r.content.decode()
    for src in re.findall(r"""<script[^>]*\ssrc\s*=\s*["']([^"']+)["']""", page):
        if src.startswith("/api/docs"):
            page += api.get(src).content.decode()
    assert not re.search(r"(?:https?:)?//[A-Za-z0-9.-]+", page.replace("http://testserver", "")), re.findall(r"(?:https?:)?//[^\s\"'<>]+", page)
    assert not set(asset_urls(page)) - {u for u in asset_urls(page) if u.startswith("/") and not u.startswith("//")}


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_forbid_the_browser_any_other_origin(api, path):
    """ReDoc's bundle itself fetches a logo from cdn.redoc.ly, with no option to stop it; the
    page's Content-Security-Policy makes the browser refuse every request to another origin."""
    policy = dict(
        part.strip().split(" ", 1) for part in api.get(path)["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "img-src", "font-src", "connect-src", "style-src"):
        sources = policy[directive].split()
        assert "'self'" in sources
        assert all(s in ("'self'", "'unsafe-inline'", "data:", "blob:") for s in sources), (directive, sources)
    assert "'unsafe-inline'" not in policy["script-src"]


def test_swagger_ui_offers_bearer_alone(api):
    """Swagger UI's "Authorize" lists the schemes of the schema: the bearer token alone, so a
    token pasted there is what every request sends."""
    schema = api.get("/api/schema/?format=json").json()
    assert list(schema["components"]["securitySchemes"]) == ["jwtAuth"]
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


def test_swagger_ui_styles_are_local_too(api):
    html = api.get("/api/docs/").content.decode()
    stylesheets = [u for u in asset_urls(html) if u.split("?")[0].endswith(".css")]
    assert stylesheets and all(u.startswith("/") for u in stylesheets), stylesheets


# --- the browsable API ------------------------------------------------------------------------
def test_the_browsable_api_renders_users_me_for_a_signed_in_user(client_for, user):
    r = client_for(user).get("/users/me", HTTP_ACCEPT="text/html")

    assert r.status_code == 200, r.content[:500]
    assert r["Content-Type"].startswith("text/html")
    html = r.content.decode()
    assert "alice@example.com" in html and str(user.id) in html
    for marker in ("md5$", "argon2", "pbkdf2", "bcrypt"):
        assert marker not in html


def test_the_browsable_api_answers_an_anonymous_browser_with_401(api):
    r = api.get("/users/me", HTTP_ACCEPT="text/html")
    assert r.status_code == 401
    assert r["Content-Type"].startswith("text/html")


def test_json_stays_the_default_without_an_accept_header(client_for, user):
    r = client_for(user).get("/users/me")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
