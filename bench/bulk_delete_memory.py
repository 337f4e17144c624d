"""Memory of `manage.py delete_users` as the selection grows (default 1,000 vs 5,000 users).

Run: DEBUG=true .venv/bin/python bench/bulk_delete_memory.py [small] [large]   (default 1000 5000)

Inserts N users (each with a linked id and details) into the in-memory database, then runs
`delete_users --email-domain bulk.example --yes --batch-size 1000` under tracemalloc and reports
the peak memory allocated *during the command* above what was allocated before it. The command
reads one batch of ids at a time, so its own peak should not grow with N. For contrast it also
measures the peak of merely loading every matching id into a list, which does grow with N.
The in-memory store is mongomock: its own per-query work (filtering, sorting) is included, so
the figure is an upper bound for a real MongoDB, where that work happens in the server.
"""
import io
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "true")
os.environ.pop("MONGODB_URI", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from mongoengine.connection import get_db  # noqa: E402

from accounts.users.documents import LinkedId, User, now  # noqa: E402
from profiles.documents import Details  # noqa: E402
from bulk_users import users_insert  # noqa: E402


def seed(n: int) -> None:
    """Raw inserts. mongomock checks unique indexes with a scan per insert (quadratic), so the
    documents go in before MongoEngine creates the indexes (on its first use of the class)."""
    stamp = now()
    db = get_db()
    for document in (User, LinkedId, Details):
        db[document._get_collection_name()].drop_indexes()
        document._collection = None  # MongoEngine recreates the indexes on its next use
    users_insert(db, n, stamp=stamp, batch=10_000)


def peak_of(action) -> tuple[float, float]:
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - base) / 2**20, elapsed


def measure(n: int) -> dict:
    seed(n)
    load_all, _ = peak_of(lambda: list(get_db()["users"].find({"email_key": {"$regex": "@bulk\\.example$"}}, {"_id": 1})))
    command, seconds = peak_of(
        lambda: call_command("delete_users", "--email-domain", "bulk.example", "--yes", "--batch-size", "1000", stdout=io.StringIO(), stderr=io.StringIO())
    )
    assert User.objects.count() == 0 and LinkedId.objects.count() == 0
    return {"n": n, "command_mib": command, "load_all_ids_mib": load_all, "seconds": seconds}


if __name__ == "__main__":
    # mongomock evaluates `$in` by scanning, so a chain delete of N users costs O(N^2) here; sizes
    # that a real MongoDB handles in seconds (100,000) take hours. The ratio is what matters.
    small, large = (int(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (1_000, 5_000)))
    rows = [measure(small), measure(large)]
    print("| users | peak during delete_users (MiB) | peak of loading all ids (MiB) | seconds |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['command_mib']:.1f} | {r['load_all_ids_mib']:.1f} | {r['seconds']:.1f} |")
    print(f"\nratio large/small: delete_users {rows[1]['command_mib'] / rows[0]['command_mib']:.2f}x, "
          f"loading all ids {rows[1]['load_all_ids_mib'] / rows[0]['load_all_ids_mib']:.2f}x (users {large / small:.0f}x)")
