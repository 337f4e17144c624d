"""manage.py outbox: the delivery workers (mail and webhook events), and the dead letters.

    manage.py outbox [--workers N]      run N worker threads until stopped (SIGTERM, Ctrl-C)
    manage.py outbox --once             do every due job once and exit (cron, scripts)
    manage.py outbox --failed           list the dead letters (jobs given up after every retry)
    manage.py outbox --retry ID...      send those again (attempts start over)

Any number of these, on any number of machines, share the work with the worker threads of the
service's own processes: each job is claimed by one atomic findAndModify with a lease
(accounts/events/outbox.py). Set OUTBOX_WORKERS_IN_PROCESS=0 on the service when these run.
"""
import signal
import threading

from bson import ObjectId
from django.core.management.base import CommandError

from accounts.events.outbox import OutboxWorker, outbox_drain, outbox_failed, outbox_retry
from accounts.management.errors import ServiceCommand, plural


class Command(ServiceCommand):
    help = "Run the outbox's delivery workers, or list and retry its dead letters."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")
        parser.add_argument("--once", action="store_true", help="do every due job once, then exit")
        parser.add_argument("--failed", action="store_true", help="list the dead letters")
        parser.add_argument("--retry", nargs="+", metavar="ID", help="send these dead letters again")

    def handle(self, *args, workers: int, once: bool, failed: bool, retry: list[str] | None, **options):
        if failed:
            rows = outbox_failed()
            for row in rows:
                self.stdout.write(f"{row['id']}  {row['what']:<28} attempts {row['attempts']:<3} {row['finished_at']:%Y-%m-%d %H:%M}  {row['last_error'] or ''}")
            self.stdout.write(f"{plural(len(rows), 'dead letter')}.")
            return
        if retry:
            bad = [i for i in retry if not ObjectId.is_valid(i)]
            if bad:
                raise CommandError(f"Not a job id: {', '.join(bad)}")
            count = outbox_retry(ids=[ObjectId(i) for i in retry])
            self.stdout.write(self.style.SUCCESS(f"{plural(count, 'dead letter')} queued again."))
            if count < len(retry):
                self.stdout.write(f"{len(retry) - count} of the ids named no dead letter.")
            return
        if once:
            self.stdout.write(f"{plural(outbox_drain(), 'job')} done.")
            return
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        threads = [OutboxWorker(name=f"outbox-command-{n}") for n in range(workers)]
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        for thread in threads:
            thread.start()
        self.stdout.write(f"outbox: {plural(workers, 'worker')} running; SIGTERM or Ctrl-C stops them.")
        stop.wait()
        for thread in threads:
            thread.stop()
        for thread in threads:
            thread.join(timeout=60)
        self.stdout.write("outbox: stopped.")

