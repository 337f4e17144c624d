"""The shape stays as README "How it is built" draws it, checked by reading the source:
`profiles` imports `accounts` and `common`; `accounts` imports neither `profiles` nor anything
about avatars; `common` never imports `profiles`; inside `accounts`, each capability imports only
the capabilities its row of CAPABILITY_ARROWS names; no module is so long that it stops being one
concept (a loose cap: it should never decide a design). Tests are not the app: they are left out."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400

# Which capabilities of `accounts` each may import (besides itself, `accounts.openapi` and
# `common`). A capability missing from a row must not be imported by it; the browser pages and the
# management commands are entry points that nothing imports.
CAPABILITY_ARROWS = {
    "users": {"sessions", "mfa", "emails", "admin", "user_data", "events"},
    "sessions": {"users", "events"},
    # emails: security notices (accounts/emails/notices.py); user_data: the owner-remains check of
    # a write that hangs a passkey off a user.
    "mfa": {"users", "sessions", "emails", "user_data", "events"},
    "emails": {"users", "sessions", "events"},
    "admin": {"users", "sessions", "user_data", "emails", "events"},  # a trash move voids the mailed tokens
    "user_data": {"users", "admin", "events"},
    # Provider sign-in ends as a login does: the user core, a session, the second factor, the
    # verification rule; and hangs identities off a user under the owner-remains guard.
    "providers": {"users", "sessions", "mfa", "emails", "user_data", "events"},
    "browser": {"users", "sessions", "mfa"},
    "management": {"users", "sessions", "mfa", "admin", "user_data", "events"},
    # The outbox, webhooks and erasure receipts (issue 22).
    "events": {"users", "sessions", "mfa", "emails", "user_data"},
}


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "tests" not in p.relative_to(ROOT).parts)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("package", ["accounts", "common"])
def test_accounts_and_common_never_import_profiles(package):
    offenders = [str(p.relative_to(ROOT)) for p in modules(package) if "profiles" in top_level(imported(p))]
    assert offenders == []


def test_accounts_knows_nothing_about_avatars():
    sources = [p for p in (ROOT / "accounts").rglob("*") if p.suffix in (".py", ".html", ".txt") and "tests" not in p.parts]
    offenders = [str(p.relative_to(ROOT)) for p in sources if "avatar" in p.read_text().lower()]
    assert offenders == []


def test_profiles_imports_accounts_and_common_for_the_plumbing():
    used = set().union(*(top_level(imported(p)) for p in modules("profiles")))
    assert {"accounts", "common"} <= used
    views = imported(ROOT / "profiles" / "views.py")
    assert not any(name.split(".")[-1] in ("views", "public_views") for name in views if name.startswith("accounts"))  # the plumbing is in common


def capability_imports() -> dict[str, set[str]]:
    """For each folder of `accounts`, the other folders its modules import."""
    found: dict[str, set[str]] = {}
    for path in modules("accounts"):
        parts = path.relative_to(ROOT / "accounts").parts
        if len(parts) < 2:
            continue  # accounts/apps.py, accounts/openapi.py: the app's own wiring
        for name in imported(path):
            target = name.split(".")
            if target[0] == "accounts" and len(target) > 1 and target[1] != parts[0] and (ROOT / "accounts" / target[1]).is_dir():
                found.setdefault(parts[0], set()).add(target[1])
    return found


def test_every_folder_of_accounts_has_a_row_of_arrows():
    folders = {p.name for p in (ROOT / "accounts").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(CAPABILITY_ARROWS)


@pytest.mark.parametrize("capability", sorted(CAPABILITY_ARROWS))
def test_a_capability_imports_only_along_its_arrows(capability):
    assert capability_imports().get(capability, set()) <= CAPABILITY_ARROWS[capability]


def test_nothing_imports_the_entry_points():
    importers = {c for c, targets in capability_imports().items() if targets & {"browser", "management"}}
    assert importers <= {"browser", "management"}


def module_graph() -> dict[str, set[str]]:
    """Module -> the modules of `accounts` it imports (at the top or inside a function)."""
    names = {}
    for path in modules("accounts"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        names[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in names.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("accounts"):
                targets.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in names else node.module for a in node.names)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("accounts"))
        graph[name] = {target for target in targets if target in names and target != name and name != "accounts.apps"}
    return graph


def test_no_module_of_accounts_is_imported_back_by_what_it_imports():
    """One-way at the level of modules too: the import graph has no cycle, so a request never goes
    from a module into another and back (login <-> two_factor, say)."""
    graph, state, cycles = module_graph(), {}, []

    def visit(name, path):
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [name, target]))
            elif target not in state:
                visit(target, path + [name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


def test_no_views_module_imports_another():
    views = {name for name in module_graph() if name.rsplit(".", 1)[-1] in ("views", "public_views")}
    assert {(name, target) for name in views for target in module_graph()[name] & views} == set()


def test_services_never_call_the_authentication_layer():
    """Only the entry points (the browser pages, the public views' challenge, the root page) import
    `accounts.sessions.authentication`; which user a token names is a selector
    (accounts/sessions/selectors.py) that authentication and services both use."""
    importers = {str(p.relative_to(ROOT)) for package in ("accounts", "common", "config", "profiles") for p in modules(package)
                 if "accounts.sessions.authentication" in imported(p)}
    # The provider callback is a browser entry point too: like the browser pages, it sets the
    # access cookie (accounts/providers/views.py).
    assert {path for path in importers if not path.startswith("accounts/browser/")} <= {"common/public.py", "config/root.py", "accounts/providers/views.py"}


@pytest.mark.parametrize("path", [p for package in ("accounts", "common", "profiles") for p in modules(package)], ids=str)
def test_every_module_reads_in_one_sitting(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
