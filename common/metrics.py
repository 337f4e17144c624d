"""The service's Prometheus metrics (prometheus-client), defined once for every app: requests,
database round trips, logins, lock-outs, mail and event deliveries. Apps count with the
`count_*` functions where those things happen; config/metrics.py counts requests and round trips
and serves `GET /metrics`. No label ever holds a user, an address or a path a client wrote.
"""
from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter("http_requests_total", "Requests answered, by route, method and status.", ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "Time from the request's arrival to its answer, by route and method.", ["route", "method"], buckets=LATENCY_BUCKETS
)
DB_COMMANDS = Counter("mongodb_commands_total", "Database round trips, by command and outcome (ok, error).", ["command", "outcome"])
DB_LATENCY = Histogram("mongodb_command_duration_seconds", "Database round-trip time, by command.", ["command"], buckets=LATENCY_BUCKETS)
LOGINS = Counter("logins_total", "Login attempts by outcome (success, failure, mfa_required, locked_out, ...).", ["outcome"])
LOCKOUTS = Counter("login_lockouts_total", "Logins and password checks refused by the lock-out (429).")
MAIL = Counter("mail_deliveries_total", "Mails handed to the mail server, by kind and outcome (sent, failed).", ["kind", "outcome"])
OUTBOX_DELIVERIES = Counter(
    "outbox_deliveries_total",
    "Outbox jobs settled by a worker, by queue (mail, event: a fan-out, webhook: one delivery) and outcome (delivered, retried, given_up, cancelled).",
    ["queue", "outcome"],
)


def count_login(outcome: str) -> None:
    LOGINS.labels(outcome).inc()


def count_lockout() -> None:
    LOCKOUTS.inc()


def count_mail(kind: str, outcome: str) -> None:
    MAIL.labels(kind, outcome).inc()


def count_outbox_delivery(queue: str, outcome: str) -> None:
    """One attempt settled by an outbox worker (accounts/events/outbox.py `job_run`): `delivered`,
    `retried` (failed, another attempt is due later), `given_up` (failed for good: a dead letter),
    `cancelled` (nothing to do any more). A job deferred until its cause is visible is not counted."""
    OUTBOX_DELIVERIES.labels(queue, outcome).inc()
