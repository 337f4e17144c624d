"""How the management commands answer a mistake: one clear line (or one line per problem), a
non-zero exit, never a traceback.

`ServiceCommand` turns what a person can cause or fix (input the service refuses, a database that
does not answer, Ctrl-C at a prompt) into Django's `CommandError`, which manage.py prints as
`CommandError: ...` with exit status 1. Anything else is a bug and keeps its traceback.
"""
from django.core.management.base import BaseCommand, CommandError
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from rest_framework.exceptions import APIException


def error_text(detail) -> str:
    """DRF error details as a person reads them: `field: message message; other: message`, not
    the repr of a dict of `ErrorDetail` objects."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = error_text(value)
            parts.append(text if field in ("detail", "non_field_errors") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, (list, tuple)):
        return " ".join(error_text(item) for item in detail)
    return str(detail)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class ServiceCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except APIException as exc:
            raise CommandError(error_text(exc.detail)) from exc
        except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
            raise CommandError(
                "The database cannot be reached: is it running, and is MONGODB_URI right? (see README, Settings)"
            ) from exc
        except (EOFError, KeyboardInterrupt) as exc:
            raise CommandError("Stopped; nothing was changed.", returncode=130) from exc
