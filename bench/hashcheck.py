"""Which hasher the service uses, and what one hash costs next to bcrypt cost 12, in one run.

Run by bench/run.py with the server's own environment (so it reads the settings the server
reads), before the server starts, so that nothing else competes for the CPU. Prints one JSON
object. Also usable alone: `DEBUG=true python bench/hashcheck.py`.
"""
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.contrib.auth.hashers import BCryptSHA256PasswordHasher, get_hasher

ROUNDS = int(os.environ.get("HASHCHECK_ROUNDS", "5"))


def per_hash_ms(hasher) -> float:
    """The median time of one `encode` (what a registration or a login pays), in ms."""
    hasher.encode("warm-up-password", hasher.salt())
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        hasher.encode("Bench-passphrase-42", hasher.salt())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    preferred = get_hasher("default")
    params = {k: getattr(preferred, k) for k in ("time_cost", "memory_cost", "parallelism", "iterations", "rounds") if hasattr(preferred, k)}
    bcrypt12 = BCryptSHA256PasswordHasher()  # Django's default: cost 12
    result = {
        "preferred": f"{type(preferred).__module__}.{type(preferred).__name__}",
        "algorithm": preferred.algorithm,
        "params": params,
        "preferred_ms": round(per_hash_ms(preferred), 1),
        "bcrypt12_ms": round(per_hash_ms(bcrypt12), 1),
        "bcrypt_rounds": bcrypt12.rounds,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
