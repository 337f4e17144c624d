"""manage.py normalize_identities [--dry-run]: bring users stored before the look-alike rules under them."""
from django.core.management.base import BaseCommand

from accounts.users.identities import identities_normalize


class Command(BaseCommand):
    help = "Give users stored before the look-alike rules their username skeleton and email form (run once after upgrading)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count the users that would change; change nothing.")

    def handle(self, *args, dry_run: bool, **options):
        updated, problems = identities_normalize(dry_run=dry_run)
        for line in problems:
            self.stdout.write(self.style.WARNING(line))
        verb = "would be updated" if dry_run else "updated"
        self.stdout.write(self.style.SUCCESS(f"{updated} users {verb}; {len(problems)} problems."))
