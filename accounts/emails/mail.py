"""Outgoing mail, rendered from templates and sent off the request thread.

Guarantees:
- A request never waits for the mail server. `mail_queue` (and `background`) hands the work to
  a small pool of threads and returns; callers queue a mail only after their database write
  succeeded, so no mail announces something that did not happen.
- A slow or silent server holds a sending thread for at most `EMAIL_TIMEOUT` seconds per
  connection step (Django's SMTP backend applies it to the socket), never a request. A failure
  is logged (the kind of mail and the user's id, never the body, link or token) and the caller
  learns nothing of it.
- At most `EMAIL_QUEUE_LIMIT` jobs wait. Past that a new one is dropped and logged, so a mail
  server that is down under load does not grow the process's memory.
- Each message has a plain-text body and an HTML alternative, from the templates
  `email/<kind>_subject.txt`, `email/<kind>.txt` and `email/<kind>.html`; a deployer replaces
  any of them by putting a file of the same name under `EMAIL_TEMPLATES_DIR`.
- A process that exits normally sends what is still queued first (the executor's threads drain
  their queue at interpreter exit, each send bounded by `EMAIL_TIMEOUT`); a killed one loses it
  and the person asks again. `queue_wait` lets tests wait for the queue.
"""
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from common import metrics

logger = logging.getLogger(__name__)

# Two threads: mail is a trickle, and a slow server should delay mail, not eat the process.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
_pending: set[Future] = set()
_lock = threading.Lock()


def _run(label: str, fn, args, kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a background job must never kill its thread
        logger.error("background job %s failed: %s", label, type(exc).__name__)


def background(label: str, fn, *args, **kwargs) -> bool:
    """Run `fn(*args, **kwargs)` on the mail threads. False (and a log line) when the queue is
    full and the job was dropped. `label` names the job in logs; it must hold no secret."""
    with _lock:
        if len(_pending) >= settings.EMAIL_QUEUE_LIMIT:
            logger.error("mail queue full (%d jobs): %s dropped", len(_pending), label)
            return False
        future = _executor.submit(_run, label, fn, args, kwargs)
        _pending.add(future)
    future.add_done_callback(_done)
    return True


def _done(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def queue_wait(timeout: float | None = None) -> bool:
    """Wait until every queued job has finished (or `timeout` seconds). True when none is left.
    Jobs queued meanwhile (by other jobs or requests) are waited for too."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _lock:
            # A future is done a moment before its callback takes it out of `_pending`.
            pending = [future for future in _pending if not future.done()]
        if not pending:
            return True
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        wait(pending, timeout=remaining)


def mail_render(*, kind: str, to: str, context: dict) -> EmailMultiAlternatives:
    """The message of `kind` for `to`, from its three templates."""
    subject = " ".join(render_to_string(f"email/{kind}_subject.txt", context).split())
    text = render_to_string(f"email/{kind}.txt", context)
    html = render_to_string(f"email/{kind}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def mail_send_now(*, kind: str, to: str, context: dict, user_id) -> bool:
    """Render and send on the calling thread (a background job calls this). Failures are
    logged, never raised: True when the server accepted the message."""
    try:
        mail_render(kind=kind, to=to, context=context).send()
    except Exception as exc:  # noqa: BLE001 - SMTP, socket, TLS and template errors alike
        # The exception's class says what went wrong (timeout, refused, TLS); its text may quote
        # the server's reply, never our message, which is why neither body nor link is logged.
        logger.warning("mail %s to user %s not sent: %s", kind, user_id, type(exc).__name__)
        metrics.count_mail(kind, "failed")
        return False
    logger.info("mail %s to user %s sent", kind, user_id)
    metrics.count_mail(kind, "sent")
    return True


def mail_queue(*, kind: str, to: str, context: dict, user_id) -> bool:
    """Queue a mail (see `mail_send_now`); returns at once. False when the queue was full."""
    queued = background(f"mail {kind}", mail_send_now, kind=kind, to=to, context=context, user_id=user_id)
    if not queued:
        metrics.count_mail(kind, "dropped")
    return queued
