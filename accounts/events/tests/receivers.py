"""Real HTTP receivers on loopback for the webhook tests: each records what it was sent and
answers the statuses it is told to (a 500 a few times, then 200 ...)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """`Receiver(fail_first=2)`: answers 500 to the first two deliveries, then 200. Use as a
    context manager; `.url`, `.received` (verified bodies, in order), `.attempts`."""

    def __init__(self, *, fail_first: int = 0, status: int = 200):
        self.fail_first, self.status = fail_first, status
        self.secret: str | None = None
        self.received: list[dict] = []
        self.ids: list[str] = []
        self.attempts = 0
        self.forged = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.lock:
                    receiver.attempts += 1
                    failing = receiver.attempts <= receiver.fail_first
                    status = 500 if failing else receiver.status
                    if not failing and 200 <= status < 300:
                        try:
                            payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                        except WebhookVerificationError:
                            receiver.forged += 1
                            status = 400
                        else:
                            receiver.received.append(payload)
                            receiver.ids.append(self.headers["webhook-id"])
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def types(self) -> list[str]:
        return [payload["type"] for payload in self.received]

    def raw(self) -> str:
        return json.dumps(self.received)
