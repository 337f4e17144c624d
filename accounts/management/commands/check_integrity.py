"""manage.py check_integrity [--fix | --repair]: what a crash left half done, and orphans.

It reports, and exits 1 when it finds any:
- every operation of several writes that a crash interrupted (issue 20): users left marked
  `deleting` by a chain delete cut short (accounts/user_data/services.py), and trash moves and
  restores cut short (accounts/admin/trash.py: an account marked but its move's last step not
  done, an entry without the mark, an account in the trash without an entry, a restore begun),
  and deliveries cut short (a mail or webhook job whose worker died holding its lease, which
  has expired: accounts/events/outbox.py; any worker takes it up again by itself);
- documents whose user no longer exists, per collection (written by something other than this
  service, or older versions' crashes);
- the users' lists of live sessions that disagree with the Session documents
  (accounts/sessions/session_integrity.py), a `passkeys_count` that is not the number of the
  user's passkeys (accounts/mfa/passkeys/services.py), and copies users carry for the join (of
  their linked ids and details; `user_copy_add` in accounts/users/user_extensions.py) that differ
  from the documents they copy, or are missing (users stored before them).

`--fix` (or `--repair`, the same) first finishes the interrupted operations, each with the actor
and reason of its intent (the chain deletes: every document of those users goes, then the users,
with their deletion records and user.deleted events; the trash moves: mark, audit event and
user.trashed event; the restores; the deliveries are released, due at once, for the next
worker), then removes the orphans and mends the rest, and exits 0.
Finishing is safe while the interrupted operation, or another run of this command, still goes
on: every step is written once (by its unique key or its document id).

Not at start-up, on purpose: each worker of each process would run it at once, a long chain
delete would hold start-up (and readiness) back, and a delete that is merely slow, still
running in another process, looks the same as one cut short. Run it by hand after a crash, or on
a schedule (its exit status alerts).

The grace: what began less than `--grace` seconds ago (INTEGRITY_GRACE_SECONDS, 60) is left
alone, neither reported nor finished nor removed: on a live service it is most likely a write
on its way. A sign-up writes its mail and user.created jobs before its user (without the grace
they are orphans, and `--fix` would delete them); a chain delete or a trash move in another
process is marked before its last step. Their age: a document's ObjectId time, a chain delete's
`deleting_since`, a trash move's entry and mark, a restore's intent. `--grace 0` looks at
everything (on a stopped service, right after a crash).
"""
from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError

from accounts.events.documents import PENDING, OutboxJob, WebhookDelivery
from accounts.users.documents import now
from accounts.admin.trash import REPAIR_ACTOR, trash_moves_complete, trash_moves_unfinished
from accounts.management.errors import ServiceCommand
from accounts.mfa.passkeys.services import passkeys_integrity_find, passkeys_integrity_fix
from accounts.sessions.session_integrity import sessions_integrity_find, sessions_integrity_fix
from accounts.user_data.services import orphans_delete, orphans_find, users_deleting_find, users_deleting_finish
from accounts.users import linked_ids  # noqa: F401  (registers the linked ids' copy)
from accounts.users.user_extensions import USER_COPIES

INTERRUPTED = {
    "users.deleting": "chain delete cut short (marked deleting)",
    "trash_pending": "trash move cut short after the mark",
    "trash_unmarked": "trash move cut short after its entry",
    "trash_no_entry": "in the trash without an entry",
    "trash_restoring": "restore cut short",
    "outbox.leased": "mail or event job cut short (its worker died; the lease expired)",
    "webhook_deliveries.leased": "webhook delivery cut short (its worker died; the lease expired)",
}
QUEUES = {"outbox.leased": OutboxJob, "webhook_deliveries.leased": WebhookDelivery}


def _lease_expired() -> dict:
    return {"status": PENDING, "leased_until": {"$ne": None, "$lt": now()}}


def interrupted_find(begun_before=None) -> dict[str, list]:
    """Every interrupted operation, by kind (the keys of INTERRUPTED): user ids, job ids; with
    `begun_before`, only those begun before then (a delivery's lease says for itself)."""
    deleting = users_deleting_find(begun_before=begun_before)
    found = {"users.deleting": [row["_id"] for row in deleting], **trash_moves_unfinished(begun_before=begun_before)}
    for name, cls in QUEUES.items():
        found[name] = [row["_id"] for row in cls._get_collection().find(_lease_expired(), {"_id": 1})]
    return found


def deliveries_release(found: dict[str, list]) -> int:
    """The jobs of dead workers back in their queue, due now (their work was not recorded as
    done, so it is done again: at least once, as every delivery)."""
    released = 0
    for name, cls in QUEUES.items():
        if found.get(name):
            query = {"_id": {"$in": found[name]}, **_lease_expired()}
            changes = {"leased_until": None, "lease_token": None, "next_attempt_at": now()}
            released += cls._get_collection().update_many(query, {"$set": changes}).modified_count
    return released


class Command(ServiceCommand):
    help = "Report what crashes left half done and documents whose user no longer exists; --fix (--repair) finishes and mends them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix", "--repair", dest="fix", action="store_true",
            help="Finish the interrupted operations, remove the orphaned documents, mend the rest.",
        )
        parser.add_argument(
            "--grace", type=int, default=None, metavar="SECONDS",
            help="Leave alone what began less than this long ago: it may still be running (default: INTEGRITY_GRACE_SECONDS, 60).",
        )

    def handle(self, *args, fix: bool, grace: int | None = None, **options):
        grace = settings.INTEGRITY_GRACE_SECONDS if grace is None else grace
        if grace < 0:
            raise CommandError("--grace is a number of seconds, 0 or more.")
        begun_before = now() - timedelta(seconds=grace) if grace else None
        interrupted = interrupted_find(begun_before)
        for name, ids in interrupted.items():
            if ids:
                self.stdout.write(f"{name:<24} {len(ids)} {INTERRUPTED[name]}   {self._shown(ids)}")
        if fix and any(interrupted.values()):
            self._finish(interrupted)
            interrupted = interrupted_find(begun_before)  # what is left: a move that would leave no admin
        found = orphans_find(begun_before=begun_before)
        # Session ids on users without their document, and Session documents on no user's list.
        found.update(sessions_integrity_find())
        found.update(passkeys_integrity_find(begun_before=begun_before))  # a count left behind by a crash between two writes
        copies = {name: find() for name, (find, _) in USER_COPIES.items()}
        if not any(found.values()) and not any(copies.values()) and not any(interrupted.values()):
            self.stdout.write(self.style.SUCCESS("No orphaned documents. Every user's copies match their documents."))
            return
        for name, ids in found.items():
            self.stdout.write(f"{name:<24} {len(ids)} orphaned   {self._shown(ids)}")
        for name, ids in copies.items():
            if ids:
                self.stdout.write(f"users.{name:<18} {len(ids)} missing or differing from their documents   {self._shown(ids)}")
        if fix:
            removed = orphans_delete(found) | sessions_integrity_fix(found) | passkeys_integrity_fix(found, begun_before=begun_before)
            for name, count in removed.items():
                self.stdout.write(self.style.SUCCESS(f"removed {count} from {name}"))
            for name, ids in copies.items():
                if ids:
                    written = USER_COPIES[name][1](ids)
                    self.stdout.write(self.style.SUCCESS(f"rewrote users.{name} of {written} users from their documents"))
            if any(interrupted.values()):
                self.stdout.write("Left unfinished (see above); nothing else is.")
                raise SystemExit(1)
        else:
            self.stdout.write("Run again with --fix (or --repair) to finish, remove or mend them.")
            # A non-zero exit lets a scheduled check alert on findings.
            raise SystemExit(1)

    def _finish(self, interrupted: dict[str, list]) -> None:
        if interrupted["users.deleting"]:
            totals = users_deleting_finish(interrupted["users.deleting"])
            self.stdout.write(self.style.SUCCESS(f"finished the chain delete of {totals.get('users', 0)} users"))
        done = trash_moves_complete(interrupted, actor_id=REPAIR_ACTOR)
        for name, count in done.items():
            self.stdout.write(self.style.SUCCESS(f"finished {count} {name}"))
        released = deliveries_release(interrupted)
        if released:
            self.stdout.write(self.style.SUCCESS(f"released {released} jobs of dead workers, due now"))

    @staticmethod
    def _shown(ids) -> str:
        return ", ".join(str(i) for i in ids[:5]) + (" ..." if len(ids) > 5 else "")
