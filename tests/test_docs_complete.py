"""The tables that promise "every endpoint" keep their promise, and the views hold no words the
schema never shows:
- README "Where each path's rule lives" names every URL route the service answers;
- `CASES` of tests/test_round_trip_budgets.py gives every API operation a budget;
- the views declare shapes only: summaries, descriptions and response words live in the
  capability's api_docs.py (documented() would override any written in a view)."""
import ast
import json
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.test_round_trip_budgets import CASES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def normal(path: str) -> str:
    """`/users/{user_id}/sessions/{sid}/` -> `/users/{}/sessions/{}`: parameters and slashes aside."""
    path = re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])
    return "/" + path.strip("/")


def url_routes() -> set[str]:
    """Every route of config/urls.py, as a path with `{}` for each parameter."""
    found = set()

    def walk(patterns, prefix):
        for entry in patterns:
            regex = entry.pattern.regex.pattern if hasattr(entry.pattern, "regex") else str(entry.pattern)
            regex = regex.lstrip("^").replace("\\Z", "").rstrip("$")
            regex = re.sub(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)", "{}", regex)
            regex = regex.replace("/?", "/").replace("\\.", ".").replace("(?:", "").replace(")?", "")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + regex)
            elif isinstance(entry, URLPattern):
                route = prefix + regex
                if "(" not in route and "\\" not in route:  # not the formats DRF adds, nor the catch-all
                    found.add(normal(route))

    walk(get_resolver().url_patterns, "")
    return found


def index_rows() -> list[str]:
    section = README.split("### Where each path's rule lives", 1)[1].split("\n### ", 1)[0]
    return [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]


def indexed() -> set[tuple[str, str]]:
    """(method or "", path) of each backticked entry of the index's first column; an entry without
    methods takes the previous entry's (`POST /auth/refresh`, `/auth/logout`)."""
    entries = set()
    for cell in index_rows():
        methods = [""]
        for item in re.findall(r"`([^`]+)`", cell):
            words = item.replace(",", " ").split()
            given = [w for w in words if w in METHODS]
            methods = given or methods
            for method in methods:
                entries.add((method, normal(words[-1])))
    return entries


def test_the_readme_path_index_names_every_route():
    paths = {path for _, path in indexed()}
    assert sorted(url_routes() - paths) == []


@pytest.fixture(scope="module")
def operations() -> set[tuple[str, str]]:
    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    return {(method.upper(), normal(path)) for path, item in schema["paths"].items() for method in item if method.upper() in METHODS}


def test_the_readme_path_index_names_every_operation_with_its_method(operations):
    entries = indexed()
    missing = {(m, p) for m, p in operations if (m, p) not in entries and ("", p) not in entries}
    assert sorted(missing) == []


def test_every_operation_has_a_round_trip_budget(operations):
    def route(path: str) -> str:  # a case's concrete path back to its route
        if path == "PROVIDER_CALLBACK":  # the callback's URL carries the state of a started flow
            return "/auth/providers/{}/callback"
        return normal(re.sub(r"/(ext-1|test)(?=/|$)", "/{}", path))  # a linked id, the test provider

    budgeted = {(method.upper(), route(path)) for _, _, method, path, *_ in CASES}
    assert sorted(operations - budgeted) == []


VIEW_MODULES = sorted([*ROOT.glob("accounts/**/views.py"), *ROOT.glob("accounts/**/public_views.py"), ROOT / "profiles" / "views.py"])


@pytest.mark.parametrize("path", VIEW_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_view_holds_words_the_schema_never_shows(path):
    offenders = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("extend_schema", "OpenApiResponse"):
            offenders += [f"{node.func.id}({k.arg}=...) line {node.lineno}" for k in node.keywords if k.arg in ("summary", "description")]
    assert offenders == []
