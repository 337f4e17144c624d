"""manage.py import_users FILE: bring in the users of the older FastAPI systems.

Reads their `users` collection as `mongoexport` writes it: JSON lines (the default) or one JSON
array (`--jsonArray`), in MongoDB Extended JSON. Each user needs `username`, `email` and a
bcrypt hash (`password`, `hashed_password` or `hash`); `linked_id` is optional. Their people
then log in with their old passwords (verified by `accounts.users.hashers.LegacyBcryptPasswordHasher`,
upgraded to Argon2 at that login).

All or nothing: every line is checked first and any error stops the import with every problem
listed by line; if the database refuses a write midway (a user registered meanwhile), what this
run inserted is removed again. `--skip-existing` leaves out the users stored already (same `_id`
or email), so the same file can be imported again. A progress bar (tqdm, at a terminal) follows
the inserts.
"""
from pathlib import Path

from bson import ObjectId, json_util
from django.core.management.base import CommandError
from tqdm import tqdm

from accounts.users.hashers import LegacyBcryptPasswordHasher
from accounts.management.errors import ServiceCommand, plural
from accounts.users.serializers import ImportUserInput
from accounts.users.importing import rows_existing, users_import


def _json_problem(exc: ValueError) -> str:
    """json's message without its own "line 1 column 5 (char 4)": the line is ours to name."""
    message, column = getattr(exc, "msg", None), getattr(exc, "colno", None)
    return f"not valid JSON ({message.lower()} at column {column})" if message and column else f"not valid JSON ({exc})"


def _records(text: str) -> list[tuple[int, object]]:
    """(line number, parsed value) for a JSON array or JSON lines; parse errors as strings."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            values = json_util.loads(text)
        except ValueError as exc:
            raise CommandError(f"The file is not a valid JSON array: {exc}.") from exc
        return [(n, value) for n, value in enumerate(values, start=1)]
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append((number, json_util.loads(line)))
            except ValueError as exc:
                records.append((number, _json_problem(exc)))
    return records


class Command(ServiceCommand):
    help = "Import users (with their bcrypt hashes) from a mongoexport file of the older systems."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check the file and import nothing.")
        parser.add_argument("--skip-existing", action="store_true", help="Leave out users stored already (same _id or email) instead of refusing the file.")

    def handle(self, *args, file: Path, dry_run: bool, skip_existing: bool = False, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"Cannot read {file}: not UTF-8 text (byte {exc.start}).") from exc
        rows, errors = [], []
        for number, value in _records(text):
            if isinstance(value, str):
                errors.append(f"line {number}: {value}")
                continue
            if not isinstance(value, dict):
                errors.append(f"line {number}: expected an object")
                continue
            value = {**value, "password_hash": value.get("password") or value.get("hashed_password") or value.get("hash")}
            checked = ImportUserInput(data=value)
            if not checked.is_valid():
                # The file's key for the hash is one of three names; call it what people call it.
                problems = "; ".join(
                    f"{'password' if field == 'password_hash' else field}: {' '.join(map(str, msgs))}" for field, msgs in checked.errors.items()
                )
                errors.append(f"line {number}: {problems}")
                continue
            row = dict(checked.validated_data, line=number)
            row["password"] = LegacyBcryptPasswordHasher.wrap(row.pop("password_hash"))
            old_id = value.get("_id")
            row["id"] = old_id if isinstance(old_id, ObjectId) else None
            rows.append(row)
        if not rows and not errors:
            raise CommandError("The file holds no users.")
        skipped = []
        if skip_existing and rows and not errors:
            skipped = rows_existing(rows=rows)
            rows = [row for row in rows if row not in skipped]
        skipped_note = f" ({plural(len(skipped), 'user')} stored already, skipped)" if skipped else ""
        bar = tqdm(total=len(rows), unit="user", desc="importing", file=self.stderr._out, disable=None if not dry_run and rows else True)
        try:
            if errors:
                raise ValueError("\n".join(errors))
            imported = users_import(rows=rows, dry_run=dry_run, progress=bar.update) if rows else 0
        except ValueError as exc:
            raise CommandError(f"Nothing imported. Fix these and run again:\n{exc}") from exc
        finally:
            bar.close()
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"The file is fine: {plural(imported, 'user')} would be imported{skipped_note} (dry run, nothing written)."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {plural(imported, 'user')}{skipped_note}."))
