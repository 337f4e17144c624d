"""manage.py outbox: the delivery workers (mail and webhook events), and the dead letters.

    manage.py outbox [--workers N]      run N worker threads until stopped (SIGTERM, Ctrl-C)
        [--metrics-port P [--metrics-host H]]  and serve this process's `GET /metrics` on H:P
                                        (the API's access rule: METRICS_ALLOWED_NETWORKS, METRICS_TOKEN)
    manage.py outbox --once             do every due job once and exit (cron, scripts)
    manage.py outbox --failed           list the dead letters (jobs given up after every retry)
    manage.py outbox --retry ID...      send those again (attempts start over)

Any number of these, on any number of machines, share the work with the worker threads of the
service's own processes: each job is claimed by one atomic findAndModify with a lease
(accounts/events/outbox.py). Set OUTBOX_WORKERS_IN_PROCESS=0 on the service when these run.
"""
import signal
import time

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
        parser.add_argument("--metrics-port", type=int, help="serve GET /metrics (this worker's deliveries) on this port")
        parser.add_argument("--metrics-host", default="127.0.0.1", help="the address --metrics-port listens on (default 127.0.0.1; 0.0.0.0 in a container)")

    def handle(self, *args, workers: int, once: bool, failed: bool, retry: list[str] | None, metrics_port: int | None = None, metrics_host: str = "127.0.0.1", **options):
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
        # Set by SIGTERM/SIGINT, installed before anything is printed (a signal sent as soon as the
        # first line appears must not meet the default action). The handler only appends: calling
        # `Event.set()` from a handler can deadlock on the event's own lock when the signal lands
        # while the main thread holds it inside `wait()`; `time.sleep` below is interrupted cleanly.
        stopping: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: stopping.append(signum))
        server = None
        if metrics_port is not None:
            from config.metrics import metrics_server_start

            try:
                server = metrics_server_start(host=metrics_host, port=metrics_port)
            except OSError as exc:
                raise CommandError(f"--metrics-port: cannot listen on {metrics_host}:{metrics_port} ({exc.strerror}).") from None
            self.stdout.write(f"outbox: metrics at http://{metrics_host}:{server.server_port}/metrics")
        threads = [OutboxWorker(name=f"outbox-command-{n}") for n in range(workers)]
        for thread in threads:
            thread.start()
        self.stdout.write(f"outbox: {plural(workers, 'worker')} running; SIGTERM or Ctrl-C stops them.")
        while not stopping:
            time.sleep(0.2)
        for thread in threads:
            thread.stop()
        for thread in threads:
            thread.join(timeout=60)
        if server is not None:
            server.shutdown()
        self.stdout.write("outbox: stopped.")

