"""manage.py delete_users: the chain delete in bulk.

Selects users by `--ids`, `--file` (one id a line), `--email-domain` or `--trashed-older-than
DAYS`, and deletes them with everything of theirs, in batches. Never holds the whole selection
in memory: ids are read from the file, or from the database in id order, one batch at a time.
Each batch is a complete chain delete, so an interrupted run is finished by running it again.
"""
import re
import sys
from collections import Counter
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from bson import ObjectId
from django.core.management.base import CommandError
from tqdm import tqdm

from accounts.admin.documents import TrashEntry
from accounts.users.documents import User, now
from accounts.events.selectors import receipts_summary
from accounts.management.errors import ServiceCommand, plural
from accounts.admin.admin_guard import active_admins_kept_by_id
from accounts.user_data.services import users_chain_delete, users_chain_delete_counts
from common.exceptions import Conflict

DOMAIN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Command(ServiceCommand):
    help = "Delete users and all their data (the chain delete), in batches."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--ids", nargs="+", metavar="ID", help="User ids (ObjectId hex).")
        which.add_argument("--file", type=Path, help="A file with one user id a line.")
        which.add_argument("--email-domain", help="Every user whose email is at this domain.")
        which.add_argument("--trashed-older-than", type=int, metavar="DAYS", help="Users in the trash for longer than DAYS.")
        parser.add_argument("--dry-run", action="store_true", help="Print what would go, collection by collection.")
        parser.add_argument("--yes", action="store_true", help="Do not ask before deleting.")
        # 100: SecantusDB's `$in` grows faster than linearly with its values (bench/bulk_delete_wire.py:
        # 2,000 users took 13 s at 100, 24 s at 500); on MongoDB a batch of 100 costs little more.
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--reason", default="", help="Kept in each deletion record.")
        parser.add_argument(
            "--wait", type=float, default=0, metavar="SECONDS",
            help="Deliver the user.deleted events (run the outbox here) for up to SECONDS before reporting the receipts.",
        )

    # --- selection ----------------------------------------------------------------------------
    def _selection(self, options) -> tuple | None:
        """(collection, filter, user id field) for the database-side selections; None for
        --ids and --file."""
        if options["email_domain"] is not None:
            domain = options["email_domain"].strip().lstrip("@").casefold()
            if not DOMAIN.match(domain):
                raise CommandError(f"Not a domain name: {options['email_domain']!r}")
            return User._get_collection(), {"email_key": {"$regex": f"@{re.escape(domain)}$"}}, "_id"
        if options["trashed_older_than"] is not None:
            days = options["trashed_older_than"]
            if days < 0:
                raise CommandError("--trashed-older-than takes a number of days, 0 or more.")
            return TrashEntry._get_collection(), {TrashEntry.trashed_at.db_field: {"$lt": now() - timedelta(days=days)}}, "user"
        return None

    def _listed_ids(self, options) -> Iterator[str]:
        if options["ids"] is not None:
            for raw in options["ids"]:
                yield from (part for part in raw.split(",") if part.strip())
            return
        path: Path = options["file"]
        try:
            handle = path.open(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        with handle:
            for line in handle:
                if line.strip() and not line.lstrip().startswith("#"):
                    yield line

    def _check_listed(self, options) -> tuple[int, int]:
        """Validate every listed id before deleting anything, and count how many of them are
        users (one streaming pass, one count per batch). Returns (listed, existing)."""
        bad, total = [], 0
        for number, raw in enumerate(self._listed_ids(options), start=1):
            total += 1
            if not ObjectId.is_valid(raw.strip()):
                bad.append(f"  {'line' if options['file'] else 'id'} {number}: {raw.strip()[:60]!r}")
        if bad:
            raise CommandError("Not valid user ids:\n" + "\n".join(bad[:20]) + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""))
        existing = 0
        for batch in batched(self._listed_ids(options), options["batch_size"]):
            ids = list({ObjectId(raw.strip()) for raw in batch})
            existing += User._get_collection().count_documents({"_id": {"$in": ids}})
        return total, existing

    @staticmethod
    def _next_batch(selection: tuple, size: int, after: ObjectId | None) -> list[ObjectId]:
        """The next `size` matching user ids after `after`, in id order (an index walk, so the
        whole run reads each candidate once). A new run starts from the beginning again, which
        is what makes an interrupted run safe to repeat."""
        collection, filters, field = selection
        if after is not None:
            filters = {**filters, field: {"$gt": after}}
        rows = collection.find(filters, {field: 1}).sort(field, 1).limit(size)
        return [row[field] for row in rows]

    def _batches(self, options, selection: tuple | None) -> Iterator[list[ObjectId]]:
        size = options["batch_size"]
        if selection is None:
            for batch in batched(self._listed_ids(options), size):
                yield [ObjectId(raw.strip()) for raw in batch]
            return
        after = None
        while batch := self._next_batch(selection, size, after):
            yield batch
            after = batch[-1]

    # --- run ----------------------------------------------------------------------------------
    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        selection = self._selection(options)
        if selection is None:
            listed, total = self._check_listed(options)
            gone = listed - total
            missing = f" ({gone} of the {plural(listed, 'listed id')} {'matches' if gone == 1 else 'match'} no user)" if gone else ""
            if total == 0:
                self.stdout.write(f"None of the {plural(listed, 'listed id')} is a user; nothing to do.")
                return
        else:
            collection, filters, _ = selection
            total, missing = collection.count_documents(filters), ""
        dry_run = options["dry_run"]
        if total == 0:
            self.stdout.write("No user matches; nothing to do.")
            return
        if not dry_run and not options["yes"]:
            if not sys.stdin or not sys.stdin.isatty():
                raise CommandError(f"{plural(total, 'user')} would be deleted{missing}. Add --yes to confirm (there is no terminal to ask on).")
            answer = input(f"Delete {plural(total, 'user')} and all their data{missing}? Type 'yes' to confirm: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing deleted.")
        elif missing:
            self.stdout.write(f"{plural(total, 'user')} to delete{missing}.")

        totals: Counter = Counter()
        done = 0
        started = now()
        # The progress bar writes to the plain stream: Django's stderr wrapper would colour it as an error.
        bar = tqdm(total=total, unit="user", desc="dry run" if dry_run else "deleting", file=self.stderr._out, disable=None)
        try:
            for batch in self._batches(options, selection):
                if dry_run:
                    totals.update(users_chain_delete_counts(user_ids=batch))
                else:
                    with active_admins_kept_by_id(user_ids=batch):
                        totals.update(users_chain_delete(user_ids=batch, actor_id=None, reason=options["reason"] or "manage.py delete_users"))
                done += len(batch)
                bar.update(len(batch))
        except Conflict as exc:
            bar.close()
            raise CommandError(f"Stopped after {plural(done, 'user')}: {exc.detail}") from exc
        except KeyboardInterrupt:
            bar.close()
            self.stderr.write(f"Interrupted after {plural(done, 'user')}. Every finished batch is complete; run the same command again to go on.")
            sys.exit(130)
        bar.close()
        if not dry_run and totals.get("users"):
            self._report_receipts(started, options["wait"])
        self._report(totals, dry_run)

    def _report_receipts(self, started, wait: float) -> None:
        """The erasure receipts of this run, per webhook endpoint (accounts/events/)."""
        summary = receipts_summary(since=started, wait=wait)
        if not summary:
            self.stdout.write("Erasure notices: no webhook endpoint subscribes to user.deleted.")
            return
        self.stdout.write("Erasure notices (user.deleted), per endpoint; each user's receipts: GET /deletions/{user_id}")
        for url, counts in sorted(summary.items()):
            shown = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
            self.stdout.write(f"  user.deleted to {url}: {shown}")

    def _report(self, totals: Counter, dry_run: bool) -> None:
        users = totals.get("users", 0)
        if dry_run:
            self.stdout.write(f"Would delete {plural(users, 'user')} (dry run, nothing deleted), documents per collection:")
        elif users:
            self.stdout.write(self.style.SUCCESS(f"Deleted {plural(users, 'user')} and all their data, documents per collection:"))
        else:  # they went between the count and the delete (another run, the API)
            self.stdout.write("Deleted nothing: the selected users were gone already.")
        for name in sorted(totals):
            self.stdout.write(f"  {name:<24} {totals[name]}")
