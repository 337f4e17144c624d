"""The README's examples as CI runs them (.ci/readme.py): which blocks run, that every curl checks
its answer, and that the README points nowhere outside the repository."""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("readme_runner", ROOT / ".ci" / "readme.py")
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_only_sh_blocks_run_and_the_first_starts_the_service():
    text = "intro\n```sh\necho one\n```\n```console\ndocker compose up\n```\n```\ntree\n```\n```sh\necho two\n```\n"
    assert runner.sh_blocks(text) == [(3, "echo one\n"), (12, "echo two\n")]
    blocks = runner.sh_blocks(README)
    assert "runserver" in blocks[0][1] and len(blocks) >= 5


@pytest.mark.parametrize(
    "code, ok",
    [
        ("curl -s $B/users/me\n", False),
        ("X=$(curl -s $B/login -d '{}')\n", False),
        ("curl -sS --fail-with-body -w '\\n' $B/users/me\n", True),
        ("test \"$(curl -s -o /dev/null -w '%{http_code}' $B/users/me)\" = 401\n", True),
        ("curl -s -X POST $B/x \\\n  -d '{}' --fail-with-body\n", True),
        ("echo go && curl $B/health\n", False),
    ],
)
def test_a_curl_must_check_its_answer(code, ok):
    assert (runner.unchecked_curls([(1, code)]) == []) is ok


def test_every_curl_of_the_readme_checks_its_answer():
    assert runner.unchecked_curls(runner.sh_blocks(README)) == []


def test_the_readme_points_nowhere_outside_the_repository():
    assert "../" not in README
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target
    assert (ROOT / "docs" / "API.md").exists()


def test_a_file_the_tour_leaves_in_the_checkout_is_found(tmp_path):
    """.ci/readme.py runs the tour twice, then refuses files that are neither tracked nor ignored."""
    for name in ["README.md", "me.jpg", "users.json", "docs/new.md", ".venv/bin/python", ".data/mongodb/x", ".secret_key", "staticfiles/a.css"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert runner.leftovers(tmp_path, {"README.md"}) == ["docs/new.md", "me.jpg", "users.json"]


def test_the_tour_writes_its_files_to_temporary_folders():
    tour = "".join(code for _, code in runner.sh_blocks(README)[1:])
    for name in ("me.jpg", "avatar.jpg", "ids.txt", "users.json"):
        assert f" {name}" not in tour and f"'{name}'" not in tour and f"@{name}" not in tour, name
