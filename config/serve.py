"""The production server, one command for every way of running it: `python -m config.serve`.

The Dockerfile's CMD, the compose file and the README's recipe without Docker all run this; it
starts granian (chosen by measurement, README "Performance") on `config.wsgi:application` and
adds nothing of its own to a request. What it decides, from the environment:

- processes: `WEB_CONCURRENCY`, else one per CPU this process may use (its affinity, and a
  container's CPU quota from cgroup v2 `cpu.max`), measured in `bench/processes.py` (README,
  "Processes"). Every piece of shared state lives in MongoDB, so processes need nothing else.
- threads per process: `GRANIAN_BLOCKING_THREADS` (16): requests wait on MongoDB and on the
  password hasher's pool, not on the CPU.
- graceful stop: on SIGTERM granian stops accepting connections and lets each worker finish the
  requests in flight; a worker still busy after `GRANIAN_WORKERS_KILL_TIMEOUT` (25 s, inside the
  compose file's 30 s `stop_grace_period`) is killed (tests/test_serve.py checks both).
- metrics with several processes: `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess
  mode) is emptied, or made, before the workers start, so each start counts from zero and
  `/metrics` sums every worker (config/metrics.py).

Any other argument is passed to granian: `python -m config.serve --port 8001`.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

APP = "config.wsgi:application"
# Settings (README, "Settings"): the environment may change them.
DEFAULTS = {
    "GRANIAN_HOST": "0.0.0.0",
    "GRANIAN_PORT": "8000",
    "GRANIAN_BLOCKING_THREADS": "16",
    "GRANIAN_WORKERS_KILL_TIMEOUT": "25",
}
# Not settings: what this service is (a WSGI app, no websockets) and how it recovers.
FIXED = {
    "GRANIAN_INTERFACE": "wsgi",
    "GRANIAN_WEBSOCKETS": "false",
    "GRANIAN_RESPAWN_FAILED_WORKERS": "true",
}


def cpus_available(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may run on: its affinity mask, lowered by a cgroup v2 CPU quota
    (`docker run --cpus 1.5` gives "150000 100000": two processes)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = cgroup_cpu_max.read_text().split()[:2]
        if quota != "max":
            count = min(count, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, count)


def workers(environ=os.environ) -> int:
    value = environ.get("WEB_CONCURRENCY", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise SystemExit(f"WEB_CONCURRENCY must be a whole number of processes, 1 or more (got {value!r}).")
        return int(value)
    return cpus_available()


def prepare_metrics_dir(environ) -> str:
    """An empty folder for prometheus-client's multiprocess files: `PROMETHEUS_MULTIPROC_DIR`
    if set (emptied: files of an earlier run would be summed in), else a new temporary one."""
    folder = environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for child in path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return str(path)
    return tempfile.mkdtemp(prefix="user-service-metrics-")


def command(args: list[str] | None = None, environ=None, app: str = APP) -> tuple[list[str], dict]:
    """granian's command line and environment (the settings above, then the caller's arguments)."""
    environ = dict(os.environ if environ is None else environ)
    for key, value in DEFAULTS.items():
        environ.setdefault(key, value)
    environ.update(FIXED)
    environ["GRANIAN_WORKERS"] = str(workers(environ))
    environ["PROMETHEUS_MULTIPROC_DIR"] = prepare_metrics_dir(environ)
    return [sys.executable, "-m", "granian", *(args or []), app], environ


def main() -> None:
    argv, environ = command(sys.argv[1:])
    sys.stdout.write(f"Serving {APP} with granian: {environ['GRANIAN_WORKERS']} processes x {environ['GRANIAN_BLOCKING_THREADS']} threads\n")
    sys.stdout.flush()
    os.execve(argv[0], argv, environ)


if __name__ == "__main__":
    main()
