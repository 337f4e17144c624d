"""The security event log: logins, password changes, revocations, role changes, trash moves."""
import logging

from accounts.users.documents import AuditEvent

logger = logging.getLogger(__name__)


def audit_record(*, action: str, actor=None, target=None, ip: str | None = None, **detail) -> None:
    """Record a security event. Callers pass no secrets; `detail` holds plain facts only."""
    AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        target=getattr(target, "id", target),
        ip=ip,
        detail=detail,
    ).save(force_insert=True)
    logger.info("audit %s actor=%s target=%s", action, getattr(actor, "id", actor), getattr(target, "id", target))
