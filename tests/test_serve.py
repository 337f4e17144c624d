"""config/serve.py, the one production command: processes, graceful stop, metrics across processes.

The live tests run granian itself (as the Dockerfile, compose and the README's recipe do)."""
import concurrent.futures
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config import serve
from tests.live_server import ROOT, free_port


def test_processes_default_to_the_cpus_this_process_may_use(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    quota = tmp_path / "cpu.max"
    quota.write_text("max 100000\n")
    assert serve.cpus_available(quota) == 4
    quota.write_text("150000 100000\n")  # docker run --cpus 1.5
    assert serve.cpus_available(quota) == 2
    quota.write_text("50000 100000\n")
    assert serve.cpus_available(quota) == 1
    assert serve.cpus_available(tmp_path / "no-cgroup") == 4


def test_web_concurrency_wins_and_must_be_a_count():
    assert serve.workers({"WEB_CONCURRENCY": "3"}) == 3
    assert serve.workers({"WEB_CONCURRENCY": ""}) == serve.cpus_available()
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
            serve.workers({"WEB_CONCURRENCY": bad})


def test_the_command_is_granian_with_the_services_settings(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"an earlier run")
    (metrics_dir / "old").mkdir()
    argv, env = serve.command(["--port", "9000"], {"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "GRANIAN_BLOCKING_THREADS": "8"})
    assert argv[1:] == ["-m", "granian", "--port", "9000", "config.wsgi:application"]
    assert env["GRANIAN_WORKERS"] == "2" and env["GRANIAN_BLOCKING_THREADS"] == "8"
    assert env["GRANIAN_INTERFACE"] == "wsgi" and env["GRANIAN_WORKERS_KILL_TIMEOUT"] == "25"
    assert list(metrics_dir.iterdir()) == []  # emptied: no earlier run's counts are summed in
    _, env = serve.command([], {})
    assert Path(env["PROMETHEUS_MULTIPROC_DIR"]).is_dir()
    os.rmdir(env["PROMETHEUS_MULTIPROC_DIR"])  # a new one each start, left for granian's workers


def start(app: str, **settings) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environ = {**os.environ, "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port), "GRANIAN_LOG_LEVEL": "warning", **settings}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    argv, environ = serve.command([], environ, app=app)
    process = subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            urllib.request.urlopen(f"{base}/health" if app == serve.APP else base, timeout=2).read()
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("the server did not start in 60 s")


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


@pytest.mark.slow
@pytest.mark.own_servers
def test_sigterm_lets_the_requests_in_flight_finish(tmp_path):
    process, base = start("tests.slow_wsgi:app", WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            in_flight = [pool.submit(get, f"{base}/?2") for _ in range(4)]
            time.sleep(0.7)
            process.send_signal(signal.SIGTERM)
            assert [f.result() for f in in_flight] == [(200, b"done\n")] * 4
        assert process.wait(timeout=20) == 0
        with pytest.raises(OSError):
            get(f"{base}/", timeout=2)  # and no new request is taken
    finally:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.own_servers
def test_a_worker_still_busy_after_the_kill_timeout_is_stopped(tmp_path):
    process, base = start("tests.slow_wsgi:app", WEB_CONCURRENCY="1", GRANIAN_WORKERS_KILL_TIMEOUT="1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            stuck = pool.submit(get, f"{base}/?60", 90)
            time.sleep(0.7)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            assert time.monotonic() - started < 15  # not the 60 s the request wanted
            with pytest.raises(OSError):
                stuck.result()
    finally:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.own_servers
def test_metrics_sum_every_process_of_the_service(tmp_path):
    """Two granian processes on the embedded database: /metrics, whichever process answers it,
    counts the requests both served."""
    db_dir = Path(tempfile.mkdtemp(prefix="serve-db-"))
    metrics_dir = tmp_path / "metrics"
    settings = dict(DEBUG="true", MONGODB_URI="", WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
                    EMBEDDED_MONGODB_PORT=str(free_port()), EMBEDDED_MONGODB_DIR=str(db_dir / "mongodb"))
    settings.pop("TEST_MONGODB_URI", None)
    process, base = start(serve.APP, **settings)
    try:
        requests = 60
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert {status for status, _ in pool.map(lambda _: get(f"{base}/health"), range(requests))} == {200}
        served_by = {path.name.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
        for _ in range(3):  # whichever process answers the scrape
            _, text = get(f"{base}/metrics")
            total = sum(
                sample.value
                for family in text_string_to_metric_families(text.decode())
                for sample in family.samples
                if sample.name == "http_requests_total" and sample.labels["route"] == "health" and sample.labels["status"] == "200"
            )
            assert total == requests + 1  # + start()'s own readiness request
        print(f"requests served by {len(served_by)} processes")
        assert len(served_by) >= 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        env = {**os.environ, **settings}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([os.sys.executable, "manage.py", "embedded_db", "wipe", "--yes"], cwd=ROOT, env=env, capture_output=True, check=False)
        import shutil

        shutil.rmtree(db_dir, ignore_errors=True)


def test_main_replaces_itself_with_granian(monkeypatch, capsys, tmp_path):
    seen = {}
    monkeypatch.setattr(serve.os, "execve", lambda path, argv, env: seen.update(path=path, argv=argv, env=env))
    monkeypatch.setattr(serve.sys, "argv", ["config.serve", "--port", "9001"])
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    serve.main()
    assert seen["argv"][1:] == ["-m", "granian", "--port", "9001", "config.wsgi:application"]
    assert seen["env"]["GRANIAN_WORKERS"] == "3"
    assert "3 processes x 16 threads" in capsys.readouterr().out
