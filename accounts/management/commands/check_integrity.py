"""manage.py check_integrity [--fix]: documents whose user no longer exists, per collection.

Such orphans appear when a chain delete was interrupted between its steps, or when data was
written by something other than this service. `--fix` removes them (and their stored files).
It also checks that the users' lists of live sessions and the Session documents agree
(accounts/sessions/session_integrity.py), and that each user's `passkeys_count` is the number of
their passkeys (accounts/mfa/passkeys/services.py); `--fix` mends those too.
"""

from accounts.management.errors import ServiceCommand
from accounts.mfa.passkeys.services import passkeys_integrity_find, passkeys_integrity_fix
from accounts.sessions.session_integrity import sessions_integrity_find, sessions_integrity_fix
from accounts.user_data.services import orphans_delete, orphans_find


class Command(ServiceCommand):
    help = "List (and with --fix remove) documents whose user no longer exists."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Remove the orphaned documents.")

    def handle(self, *args, fix: bool, **options):
        found = orphans_find()
        # Session ids on users without their document, and Session documents on no user's list.
        found.update(sessions_integrity_find())
        found.update(passkeys_integrity_find())  # a count left behind by a crash between two writes
        if not any(found.values()):
            self.stdout.write(self.style.SUCCESS("No orphaned documents."))
            return
        for name, ids in found.items():
            shown = ", ".join(str(i) for i in ids[:5]) + (" ..." if len(ids) > 5 else "")
            self.stdout.write(f"{name:<24} {len(ids)} orphaned   {shown}")
        if fix:
            removed = orphans_delete(found) | sessions_integrity_fix(found) | passkeys_integrity_fix(found)
            for name, count in removed.items():
                self.stdout.write(self.style.SUCCESS(f"removed {count} from {name}"))
        else:
            self.stdout.write("Run again with --fix to remove them.")
            # A non-zero exit lets a scheduled check alert on findings.
            raise SystemExit(1)
