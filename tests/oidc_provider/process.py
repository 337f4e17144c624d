"""Start the test provider (tests/oidc_provider) as its own process on loopback, and act at it as
a person would: `running_provider()` yields a `TestProvider`.

`TestProvider.sign_in(url, username, password)` follows an authorization URL the way a browser
does: it meets the provider's login form, fills it in, and follows the provider's redirects until
the one back to the client's redirect URI, which it returns without following (the caller decides
what reaches the service)."""
import collections
import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin

import requests

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TestProvider:
    __test__ = False  # not a test class for pytest

    issuer: str
    base_url: str
    process: subprocess.Popen = field(repr=False)
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200), repr=False)

    def _post(self, path: str, body: dict) -> dict:
        response = requests.post(f"{self.base_url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def add_person(self, *, username: str, password: str, email: str, email_verified: bool = True, name: str = "") -> str:
        """A person with an account at the provider; returns their subject (`sub`)."""
        return self._post("/test/users", {"username": username, "password": password, "email": email, "email_verified": email_verified, "name": name})["sub"]

    def register_client(self, *, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self._post("/test/clients", {"client_id": client_id, "client_secret": client_secret, "redirect_uris": redirect_uris})

    def misbehave(self, mode: str) -> None:
        """Make the next id tokens wrong in one way (tests/oidc_provider/validator.py); "" to stop."""
        self._post("/test/misbehave", {"mode": mode})

    def sign_in(self, url: str, *, username: str, password: str, stop_at: str) -> str:
        """Follow `url` as a browser would, signing in at the form, until a redirect to a URL that
        starts with `stop_at` (the client's redirect URI); return that URL."""
        browser = requests.Session()
        for _ in range(10):
            if url.startswith(stop_at):
                return url
            response = browser.get(url, allow_redirects=False, timeout=30)
            if response.status_code in (301, 302, 303, 307):
                url = urljoin(url, response.headers["Location"])
                continue
            if 'id="sign-in"' in response.text:
                next_url = response.url.split("next=", 1)[1] if "next=" in response.url else "/"
                response = browser.post(
                    f"{self.base_url}/login/",
                    data={"username": username, "password": password, "next": unquote(next_url)},
                    allow_redirects=False,
                    timeout=30,
                )
                if response.status_code != 302:
                    raise AssertionError(f"the provider refused the sign-in: {response.status_code}")
                url = urljoin(self.base_url, response.headers["Location"])
                continue
            raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
        raise AssertionError("too many redirects at the provider")


@contextlib.contextmanager
def running_provider(port: int = 0):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "tests.oidc_provider"] + (["--port", str(port)] if port else [])
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        issuer = None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                issuer = line.split()[1]
                break
        if issuer is None:
            raise RuntimeError(f"the test provider did not start (exit {process.poll()})")
        provider = TestProvider(issuer=issuer, base_url=issuer.rsplit("/o", 1)[0], process=process)

        def drain() -> None:  # the provider's log, read so that a full pipe never blocks it
            for line in process.stdout:
                provider.log.append(line)

        threading.Thread(target=drain, daemon=True).start()
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
