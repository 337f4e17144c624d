"""The security event log: logins, password changes, revocations, role changes, trash moves."""
import logging

from accounts.users.documents import AuditEvent
from accounts.users.guard import insert_write
from common import batch

logger = logging.getLogger(__name__)


def audit_record(*, action: str, actor=None, target=None, ip: str | None = None, **detail) -> None:
    """Record a security event, and log it once it is stored. Callers pass no secrets; `detail`
    holds plain facts only."""
    _event(action=action, actor=actor, target=target, ip=ip, detail=detail).save(force_insert=True)
    audit_log(action=action, actor=actor, target=target)


def audit_write(*, action: str, actor=None, target=None, ip: str | None = None, **detail) -> batch.Write:
    """`audit_record`'s event as a write for the caller's batch (common/batch.py), inside the
    target's `owner_guard` block (accounts/users/guard.py's `insert_write`). Not logged here: the
    caller calls `audit_log` once its batch has landed (a batch refused, or undone by the guard,
    leaves no line claiming an event that is not stored)."""
    return insert_write(_event(action=action, actor=actor, target=target, ip=ip, detail=detail))


def audit_log(*, action: str, actor=None, target=None) -> None:
    """The log line of a stored audit event."""
    logger.info("audit %s actor=%s target=%s", action, getattr(actor, "id", actor), getattr(target, "id", target))


def _event(*, action: str, actor, target, ip: str | None, detail: dict) -> AuditEvent:
    return AuditEvent(action=action, actor_id=getattr(actor, "id", actor), target=getattr(target, "id", target), ip=ip, detail=detail)
