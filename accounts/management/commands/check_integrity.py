"""manage.py check_integrity [--fix]: documents whose user no longer exists, per collection.

Such orphans appear when a chain delete was interrupted between its steps, or when data was
written by something other than this service. `--fix` removes them (and their stored files).
It also checks that the users' lists of live sessions and the Session documents agree
(accounts/sessions/session_integrity.py), that each user's `passkeys_count` is the number of
their passkeys (accounts/mfa/passkeys/services.py), and that the copies users carry for the join
(of their linked ids and details; `user_copy_add` in accounts/users/user_extensions.py) equal the
documents they copy, or exist at all (users stored before them); `--fix` mends those too.
"""

from accounts.management.errors import ServiceCommand
from accounts.mfa.passkeys.services import passkeys_integrity_find, passkeys_integrity_fix
from accounts.sessions.session_integrity import sessions_integrity_find, sessions_integrity_fix
from accounts.user_data.services import orphans_delete, orphans_find
from accounts.users import linked_ids  # noqa: F401  (registers the linked ids' copy)
from accounts.users.user_extensions import USER_COPIES


class Command(ServiceCommand):
    help = "List (and with --fix remove) documents whose user no longer exists."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Remove the orphaned documents.")

    def handle(self, *args, fix: bool, **options):
        found = orphans_find()
        # Session ids on users without their document, and Session documents on no user's list.
        found.update(sessions_integrity_find())
        found.update(passkeys_integrity_find())  # a count left behind by a crash between two writes
        copies = {name: find() for name, (find, _) in USER_COPIES.items()}
        if not any(found.values()) and not any(copies.values()):
            self.stdout.write(self.style.SUCCESS("No orphaned documents. Every user's copies match their documents."))
            return
        for name, ids in found.items():
            self.stdout.write(f"{name:<24} {len(ids)} orphaned   {self._shown(ids)}")
        for name, ids in copies.items():
            if ids:
                self.stdout.write(f"users.{name:<18} {len(ids)} missing or differing from their documents   {self._shown(ids)}")
        if fix:
            removed = orphans_delete(found) | sessions_integrity_fix(found) | passkeys_integrity_fix(found)
            for name, count in removed.items():
                self.stdout.write(self.style.SUCCESS(f"removed {count} from {name}"))
            for name, ids in copies.items():
                if ids:
                    written = USER_COPIES[name][1](ids)
                    self.stdout.write(self.style.SUCCESS(f"rewrote users.{name} of {written} users from their documents"))
        else:
            self.stdout.write("Run again with --fix to remove or mend them.")
            # A non-zero exit lets a scheduled check alert on findings.
            raise SystemExit(1)

    @staticmethod
    def _shown(ids) -> str:
        return ", ".join(str(i) for i in ids[:5]) + (" ..." if len(ids) > 5 else "")
