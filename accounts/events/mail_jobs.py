"""Mail on the outbox: the request writes a job, a worker renders and sends it.

A job holds no token and no link: the worker issues the token when it sends (so nothing secret
waits in the database, and the link's lifetime starts when the mail leaves). A mail job for a
known user references them (CASCADE: a user deleted before the mail left takes it along); a
password-reset request holds only the address typed, and its worker looks it up, as the request
never does (the same answer and time for every address).

Kinds (`payload["template"]`):
- `verify_email`: a verification link to the user's current address. Written before the user
  exists at sign-up (the user's id is chosen first), so a crash between the two leaves a job
  whose user never appeared: it waits `OUTBOX_CAUSE_GRACE_SECONDS`, then is cancelled.
- `email_changed`: a notice, with no link, to the address the account left (`to`).
- `security_notice` (accounts/emails/notices.py): to the user's current address.
Mails with no token take their template context from the job (`context`: no secret in it).
- `password_reset`: `email` as typed; a live account with that address gets a link.
"""
from bson import ObjectId

from accounts.users.documents import User
from accounts.events.documents import OutboxJob
from accounts.events import outbox
from accounts.events.documents import DELIVERED
from accounts.events.outbox import Cancelled, Deferred, DeliveryError

VERIFY, CHANGED, RESET, NOTICE = "verify_email", "email_changed", "password_reset", "security_notice"


def mail_job(template: str, *, user_id: ObjectId | None = None, **fields) -> dict:
    """The outbox document of a mail (written by `mail_enqueue`, or with other jobs at once)."""
    return OutboxJob(kind="mail", payload={"template": template, **fields}, user=user_id).to_mongo().to_dict()


def mail_enqueue(template: str, *, user_id: ObjectId | None = None, **fields) -> ObjectId:
    """Write a mail job (one round trip, and the owner guard's proof when it has a user); a worker
    sends it."""
    return outbox.outbox_write([mail_job(template, user_id=user_id, **fields)])[0]


# Registered by accounts/emails (which imports this module, never the other way round): how a
# message is rendered and sent, and the mails that need a token made when they leave.
_transport: list = []
_composers: dict = {}


def mail_transport_register(send) -> None:
    """`send(kind=, to=, context=)` renders and sends one message, raising when it was not sent."""
    _transport[:] = [send]


def mail_composer_register(template: str, compose) -> None:
    """`compose(job_payload, user, send)` makes what a mail of `template` needs (a token) and sends it."""
    _composers[template] = compose


def _send(*, kind: str, to: str, context: dict) -> None:
    try:
        _transport[0](kind=kind, to=to, context=context)
    except Exception as exc:  # noqa: BLE001 - SMTP, socket, TLS: one failed attempt, retried
        # The class says what went wrong; the text may quote the server, never our message.
        raise DeliveryError(f"not sent: {type(exc).__name__}") from None


def mail_job_handle(job: dict) -> str:
    payload = job["payload"]
    template = payload["template"]
    if template == RESET:
        _composers[RESET](payload, None, _send)
    else:
        user = User.objects(id=job["user"]).first() if job.get("user") else None
        if user is None:
            raise Deferred()  # not inserted yet (sign-up writes the job first), or never
        if template == VERIFY:
            if user.email_verified:
                raise Cancelled("the address is verified already")
            _composers[VERIFY](payload, user, _send)
        else:  # a mail with no token or link: its context was written with the job
            _send(kind=template, to=payload.get("to") or user.email, context=payload.get("context") or {})
    # Sent: the addresses and fields go, the kind of mail stays for the log.
    outbox.job_finish(OutboxJob, job, extra={"payload": {"template": template}})
    return DELIVERED


outbox.kind_handler_register("mail", mail_job_handle)
