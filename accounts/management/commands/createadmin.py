"""manage.py createadmin: create an admin, or make an existing user (by email) one."""
import getpass
import sys

from django.conf import settings
from django.core.management.base import CommandError
from rest_framework.exceptions import APIException

from accounts.management.errors import ServiceCommand, error_text
from accounts.admin.admins import admin_create


class Command(ServiceCommand):
    help = "Create an admin, or make the existing user with this email an admin."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--no-input", action="store_true", dest="no_input", help="Read the password from ADMIN_PASSWORD instead of a prompt."
        )

    def handle(self, *args, username: str, email: str, no_input: bool, **options):
        password = None
        if no_input:
            password = settings.ADMIN_PASSWORD or None
        else:
            from accounts.users.selectors import user_by_email

            if user_by_email(email) is None:
                if not sys.stdin or not sys.stdin.isatty():
                    raise CommandError(
                        "No terminal to ask for the password on: set ADMIN_PASSWORD and add --no-input."
                    )
                password = getpass.getpass("Password: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("The passwords do not match.")
        try:
            user, created = admin_create(username=username, email=email, password=password)
        except APIException as exc:
            raise CommandError(f"Could not create the admin: {error_text(exc.detail)}") from exc
        verb = "Created admin" if created else "Made admin"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.username} <{user.email}> (id {user.id})."))
