"""The durable outbox: work that must happen after a change (a mail, an event for the webhooks) is
written to MongoDB and done by workers that may run anywhere.

Guarantees:
- **Nothing lives in process memory.** A job is a document (`outbox` or `webhook_deliveries`)
  written by the request that causes it; every process, and `manage.py outbox` on any machine,
  works from the same collections.
- **One worker at a time per job.** A worker claims a job with one atomic findAndModify that
  sets a lease of `OUTBOX_LEASE_SECONDS` (30) and a token only it knows; only the holder of that
  token may record the outcome. A worker that dies (SIGKILL, a lost machine) leaves the lease to
  expire and another worker takes the job up again within the lease.
- **At least once.** A job is marked done only after its work succeeded, so a crash between the
  two does it again: receivers de-duplicate on the job's id (`webhook-id` for events; a mail sent
  twice carries a fresh link and the older one stops working).
- **Retries with backoff**, `OUTBOX_RETRY_DELAYS` (5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h,
  10 h: the third attempt within 70 s, the last about 27.6 h after the first); then the job is
  **failed**, a dead letter that `manage.py outbox --failed` lists and `--retry ID...` sends again.
- A handler that finds the job's cause has not happened (the user a `user.created` event is
  about does not exist) says `Deferred`: the job waits and is looked at again, without counting
  an attempt, until `OUTBOX_CAUSE_GRACE_SECONDS`; then it is cancelled (the change it announced
  never happened, e.g. a registration that lost a race for its email).
"""
import logging
import secrets
import socket
import threading
from datetime import timedelta

from django.conf import settings
from pymongo import ReturnDocument

from accounts.users.documents import now
from accounts.users.guard import guarded_jobs
from accounts.events.documents import CANCELLED, DELIVERED, FAILED, PENDING, OutboxJob, WebhookDelivery
from common.metrics import count_outbox_delivery

logger = logging.getLogger(__name__)

# Finished jobs are kept this long (then the TTL index drops them): time to look at a delivery
# log. Receipts of user.deleted are never dropped.
FINISHED_KEEP = timedelta(days=7)


class Deferred(Exception):
    """The job's cause is not visible yet (or not any more): look again later, no attempt counted."""


class Cancelled(Exception):
    """The job has nothing to do (its user is gone, its endpoint deleted): finish it as cancelled."""


def retry_delay(attempts: int) -> timedelta | None:
    """How long to wait after the `attempts`-th failed attempt; None when it was the last."""
    delays = settings.OUTBOX_RETRY_DELAYS
    return timedelta(seconds=delays[attempts - 1]) if attempts <= len(delays) else None


def _unleased(at) -> dict:
    """Pending and held by no worker (never claimed, or its lease expired)."""
    return {"status": PENDING, "$or": [{"leased_until": None}, {"leased_until": {"$lt": at}}]}


def _claim_query(at) -> dict:
    return {**_unleased(at), "next_attempt_at": {"$lte": at}}


def job_claim(cls, *, at=None) -> dict | None:
    """Take the next due job of `cls` (OutboxJob or WebhookDelivery), or None. One atomic
    findAndModify: of many workers asking at once, each job goes to one."""
    at = at or now()
    token = secrets.token_hex(16)
    return cls._get_collection().find_one_and_update(
        _claim_query(at),
        {"$set": {"leased_until": at + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS), "lease_token": token}},
        sort=[("next_attempt_at", 1)],
        return_document=ReturnDocument.AFTER,
    )


def _mine(job: dict) -> dict:
    return {"_id": job["_id"], "lease_token": job["lease_token"]}


def job_finish(cls, job: dict, *, status: str = DELIVERED, keep: bool = False, extra: dict | None = None) -> bool:
    """Record a final outcome (delivered, failed, cancelled). False when the lease was lost
    (another worker holds the job now, and its outcome counts)."""
    at = now()
    changes = {"status": status, "leased_until": None, "lease_token": None, "finished_at": at, **(extra or {})}
    if status != FAILED and not keep:
        changes["expires_at"] = at + FINISHED_KEEP
    return cls._get_collection().update_one(_mine(job), {"$set": changes}).modified_count == 1


def job_retry_later(cls, job: dict, *, error: str, extra: dict | None = None) -> str:
    """After a failed attempt: the next attempt after the backoff, or failed (a dead letter) when
    the attempts are used up. Returns the status recorded."""
    attempts = job.get("attempts", 0) + 1
    delay = retry_delay(attempts)
    changes = {"attempts": attempts, "last_error": error[:500], "leased_until": None, "lease_token": None, **(extra or {})}
    if delay is None:
        changes.update(status=FAILED, finished_at=now())
    else:
        changes["next_attempt_at"] = now() + delay
    cls._get_collection().update_one(_mine(job), {"$set": changes})
    return changes.get("status", PENDING)


def job_defer(cls, job: dict) -> None:
    """Look at the job again in a few seconds, or cancel it once the grace is over."""
    if now() - job["created_at"].replace(tzinfo=now().tzinfo) > timedelta(seconds=settings.OUTBOX_CAUSE_GRACE_SECONDS):
        job_finish(cls, job, status=CANCELLED, extra={"last_error": "its cause never happened"})
        return
    cls._get_collection().update_one(
        _mine(job), {"$set": {"leased_until": None, "lease_token": None, "next_attempt_at": now() + timedelta(seconds=settings.OUTBOX_DEFER_SECONDS)}}
    )


def outbox_write(documents: list[dict], *, guard=None, before_the_user: bool = False) -> list:
    """Write jobs (built by `mail_jobs.mail_job`, `webhooks.event_job`) in one round trip; their ids.

    Every job that belongs to a user goes through the owner guard (accounts/users/guard.py), so
    that none outlives a chain delete racing its write: `guard`, the `owner_guard` block these
    jobs belong to (proven with its other writes, removed with them when the owner turned out to
    be gone); otherwise `guarded_jobs`, which joins any block open for their users and proves the
    rest with one read (the jobs of a user gone are removed). `before_the_user`: jobs written
    before their user exists (sign-up's), which its insert proves or `outbox_forget` takes back."""
    ids = OutboxJob._get_collection().insert_many(documents).inserted_ids if documents else []
    if not ids:
        return ids
    if guard is not None:
        guard.written(OutboxJob, {"_id": {"$in": ids}})
    elif not before_the_user:
        by_user: dict = {}
        for job_id, document in zip(ids, documents):
            if document.get("user") is not None:
                by_user.setdefault(document["user"], []).append(job_id)
        if by_user:
            guarded_jobs(OutboxJob, by_user)
    return ids


def outbox_forget(ids: list) -> None:
    """Remove jobs whose cause was refused (a registration that lost its unique index, an import
    undone). A job a worker holds right now is left to it: it may be on its way out already."""
    if ids:
        OutboxJob._get_collection().delete_many({"_id": {"$in": ids}, **_unleased(now())})


# --- Handlers, by queue: registered by the modules that do the work (mail_jobs, webhooks), so
# this module imports none of them ----------------------------------------------------------------
_KIND_HANDLERS: dict = {}  # OutboxJob.kind -> handler(job)
_QUEUES: dict = {}  # another claimable collection (WebhookDelivery) -> (handler, given_up)
_QUEUE_NAMES: dict = {}  # that collection -> its name in the metrics (`webhook`)


def kind_handler_register(kind: str, handler) -> None:
    """`handler(job)` does an OutboxJob of `kind` (raise to fail the attempt, Deferred, Cancelled)."""
    _KIND_HANDLERS[kind] = handler


def queue_register(cls, handler, given_up=None, *, name: str | None = None) -> None:
    """Workers also claim `cls` documents and do them with `handler`; `given_up(job, exc)` runs
    when one fails for good. `name`: the queue's label in `outbox_deliveries_total`."""
    _QUEUES[cls] = (handler, given_up)
    _QUEUE_NAMES[cls] = name or cls._get_collection_name()


def _queue_name(cls, job: dict) -> str:
    """The metrics' queue of a job: an OutboxJob's kind (`mail`, `event`), else its queue's name."""
    return job.get("kind", "job") if cls is OutboxJob else _QUEUE_NAMES.get(cls, cls._get_collection_name())


def _outbox_handle(job: dict):
    return _KIND_HANDLERS[job["kind"]](job)


def _handlers():
    return [(OutboxJob, _outbox_handle), *((cls, handler) for cls, (handler, _) in _QUEUES.items())]


def job_run(cls, handler, job: dict) -> str:
    """Do one claimed job and record its outcome (a handler raises to fail an attempt). Every
    outcome settled here is counted (`outbox_deliveries_total`): delivered, retried, given_up,
    cancelled; a deferral is not an attempt and is not counted."""
    queue = _queue_name(cls, job)
    try:
        outcome = handler(job)
    except Deferred:
        job_defer(cls, job)
        return PENDING
    except Cancelled as reason:
        job_finish(cls, job, status=CANCELLED, extra={"last_error": str(reason)[:500]})
        count_outbox_delivery(queue, "cancelled")
        return CANCELLED
    except Exception as exc:  # noqa: BLE001 - any failure is one failed attempt, never a dead worker
        error = str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__
        status = job_retry_later(cls, job, error=error, extra=getattr(exc, "extra", None))
        logger.warning("outbox %s %s attempt %d failed: %s", cls._get_collection_name(), job["_id"], job.get("attempts", 0) + 1, error)
        count_outbox_delivery(queue, "given_up" if status == FAILED else "retried")
        if status == FAILED:
            _given_up(cls, job, exc)
        return status
    if outcome is None:
        job_finish(cls, job)
        outcome = DELIVERED
    count_outbox_delivery(queue, outcome)
    return outcome


def _given_up(cls, job: dict, exc: Exception) -> None:
    given_up = _QUEUES.get(cls, (None, None))[1]
    if given_up is not None:
        given_up(job, exc)


class DeliveryError(Exception):
    """A failed attempt whose message may be shown (no secret in it); `extra` is recorded too."""

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.extra = extra or {}


def outbox_work_once(*, limit: int = 100) -> int:
    """Claim and do up to `limit` due jobs of every queue, one at a time. Returns how many were
    done (whatever their outcome). What a worker thread runs in a loop; tests call it to drain."""
    done = 0
    for cls, handler in _handlers():
        while done < limit:
            job = job_claim(cls)
            if job is None:
                break
            job_run(cls, handler, job)
            done += 1
    return done


def outbox_drain(*, rounds: int = 20) -> int:
    """Do every due job, including those the jobs themselves add (a fan-out's deliveries)."""
    total = 0
    for _ in range(rounds):
        done = outbox_work_once()
        total += done
        if not done:
            break
    return total


# --- Workers ---------------------------------------------------------------------------------
class OutboxWorker(threading.Thread):
    """A loop over `outbox_work_once`, sleeping `OUTBOX_POLL_SECONDS` when there is nothing due.
    A database error is logged and waited out; the loop never dies of one."""

    def __init__(self, name: str = "outbox"):
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                done = outbox_work_once()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while
                logger.warning("outbox worker: %s", type(exc).__name__)
                done = 0
            if not done:
                self.stopping.wait(settings.OUTBOX_POLL_SECONDS)

    def stop(self) -> None:
        self.stopping.set()


_in_process: list[OutboxWorker] = []
_in_process_lock = threading.Lock()


def worker_start_in_process() -> None:
    """Start this process's worker threads (`OUTBOX_WORKERS_IN_PROCESS`, default 1; 0 when
    `manage.py outbox` runs elsewhere). Once per process."""
    with _in_process_lock:
        if _in_process:
            return
        for n in range(settings.OUTBOX_WORKERS_IN_PROCESS):
            worker = OutboxWorker(name=f"outbox-{socket.gethostname()}-{n}")
            worker.start()
            _in_process.append(worker)


# --- Dead letters ----------------------------------------------------------------------------
def outbox_failed() -> list[dict]:
    """Every dead letter, oldest first: mail and event jobs, and webhook deliveries. No payload
    (it may hold an address): what it was, where it was going, why it failed."""
    rows = []
    for job in OutboxJob._get_collection().find({"status": FAILED}).sort("finished_at", 1):
        what = f"mail {job['payload'].get('template')}" if job["kind"] == "mail" else f"event {job['payload'].get('type')}"
        rows.append({"id": str(job["_id"]), "what": what, "attempts": job.get("attempts", 0), "finished_at": job.get("finished_at"), "last_error": job.get("last_error")})
    for delivery in WebhookDelivery._get_collection().find({"status": FAILED}).sort("finished_at", 1):
        what = f"webhook {delivery['type']} to {delivery['url']}"
        rows.append({"id": str(delivery["_id"]), "what": what, "attempts": delivery.get("attempts", 0), "finished_at": delivery.get("finished_at"), "last_error": delivery.get("last_error")})
    return rows


def outbox_retry(*, ids: list) -> int:
    """Queue dead letters again, due now, with their attempts counted from zero. Returns how many.
    A user.deleted delivery given up has dropped its linked ids; it is sent again with the id."""
    changes = {"$set": {"status": PENDING, "attempts": 0, "next_attempt_at": now(), "finished_at": None, "expires_at": None}}
    count = 0
    for cls in (OutboxJob, WebhookDelivery):
        count += cls._get_collection().update_many({"_id": {"$in": ids}, "status": FAILED}, changes).modified_count
    return count
