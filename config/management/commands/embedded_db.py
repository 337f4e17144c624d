"""`manage.py embedded_db status|start|stop|wipe`: the embedded database's life cycle.

The embedded SecantusDB server (config/embedded_mongodb.py) keeps running after the service
stops, shared by every process of the project; this is how to look at it, stop it, or delete
everything it holds (`wipe` asks first unless `--yes`). It acts on EMBEDDED_MONGODB_PORT and
EMBEDDED_MONGODB_DIR whatever MONGODB_URI says.
"""
import sys

from django.core.management.base import BaseCommand, CommandError

from config.embedded_mongodb import EmbeddedDatabaseError, EmbeddedServer


class Command(BaseCommand):
    help = "Status, start, stop or wipe the embedded database (SecantusDB) of this project."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "start", "stop", "wipe"])
        parser.add_argument("--yes", action="store_true", help="wipe without asking")

    def handle(self, *args, action: str, yes: bool, **options):
        server = EmbeddedServer.from_settings()
        try:
            getattr(self, action)(server, yes)
        except EmbeddedDatabaseError as exc:
            raise CommandError(str(exc)) from None

    def status(self, server: EmbeddedServer, yes: bool) -> None:
        pid = server.running_pid()
        state = f"running (pid {pid}) on {server.uri}" if pid else f"not running (port {server.port})"
        self.stdout.write(f"The embedded database is {state}; data in {server.data_dir}.")

    def start(self, server: EmbeddedServer, yes: bool) -> None:
        pid, started = server.ensure_running()
        verb = "Started" if started else "Already running:"
        self.stdout.write(f"{verb} the embedded database (pid {pid}) on {server.uri}; data in {server.data_dir}.")

    def stop(self, server: EmbeddedServer, yes: bool) -> None:
        pid = server.stop()
        self.stdout.write(f"Stopped the embedded database (pid {pid})." if pid else "The embedded database was not running.")

    def wipe(self, server: EmbeddedServer, yes: bool) -> None:
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to wipe without a terminal to confirm; pass --yes.")
            answer = input(f"Delete every database stored in {server.data_dir}? Type 'yes': ")
            if answer.strip() != "yes":
                raise CommandError("Nothing was deleted.")
        server.wipe()
        self.stdout.write(f"Stopped the embedded database and deleted {server.data_dir}; the next start begins empty.")
