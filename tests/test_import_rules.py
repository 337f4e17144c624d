"""The shape stays as README "How it is built" draws it, checked by reading the source:
`profiles` imports `accounts` and `common`; `accounts` imports neither `profiles` nor anything
about avatars; `common` never imports `profiles`; no module of the three is longer than can be
read in one sitting."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 260


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


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
    sources = [p for p in (ROOT / "accounts").rglob("*") if p.suffix in (".py", ".html", ".txt")]
    offenders = [str(p.relative_to(ROOT)) for p in sources if "avatar" in p.read_text().lower()]
    assert offenders == []


def test_profiles_imports_accounts_and_common_for_the_plumbing():
    used = set().union(*(top_level(imported(p)) for p in modules("profiles")))
    assert {"accounts", "common"} <= used
    views = imported(ROOT / "profiles" / "views.py")
    assert not any(name.startswith("accounts.views") for name in views)  # the plumbing is in common


@pytest.mark.parametrize("path", [p for package in ("accounts", "common", "profiles") for p in modules(package)], ids=str)
def test_every_module_reads_in_one_sitting(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
