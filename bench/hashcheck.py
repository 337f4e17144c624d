"""Which hasher the service uses, and what one hash costs next to bcrypt cost 12, in one run.

Run by bench/run.py with the server's own environment (so it reads the settings the server
reads), before the server starts, so that nothing else competes for the CPU. Prints one JSON
object. Also usable alone: `DEBUG=true python bench/hashcheck.py`.

`--grid` measures the Argon2id candidates instead (OWASP's rows, Keycloak's, FastAPI-Users' and
Django's defaults): wall time and CPU time of one hash (the process's CPU, so Argon2's lane
threads count), and the hashes one core can do per second at that CPU cost. This is how the
default parameters (PASSWORD_ARGON2_*) were chosen; see the README's "Performance".
"""
import argparse
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

from accounts.users.hashers import argon2_meets_owasp_floor

ROUNDS = int(os.environ.get("HASHCHECK_ROUNDS", "5"))

# (label, time cost, memory in KiB, parallelism)
GRID = [
    ("OWASP 46 MiB, t=1, p=1", 1, 47104, 1),
    ("OWASP 19 MiB, t=2, p=1", 2, 19456, 1),
    ("OWASP 12 MiB, t=3, p=1", 3, 12288, 1),
    ("OWASP 9 MiB, t=4, p=1", 4, 9216, 1),
    ("OWASP 7 MiB, t=5, p=1 (also Keycloak's default)", 5, 7168, 1),
    ("FastAPI-Users (pwdlib/argon2-cffi) 64 MiB, t=3, p=4", 3, 65536, 4),
    ("Django's default 100 MiB, t=2, p=8", 2, 102400, 8),
]


def per_hash(hasher, rounds: int = ROUNDS) -> tuple[float, float]:
    """Median wall time and median process CPU time of one `encode` (what a registration or a
    login pays), in ms."""
    hasher.encode("warm-up-password", hasher.salt())
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        hasher.encode("Bench-passphrase-42", hasher.salt())
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def grid() -> None:
    import argon2

    print(f"load average: {Path('/proc/loadavg').read_text().split()[0]}; {ROUNDS} hashes each, medians")
    print("| parameters | OWASP floor | wall ms | CPU ms | hashes per core-second |")
    print("|---|---|---:|---:|---:|")
    for label, t, m, p in GRID:
        hasher = argon2.PasswordHasher(time_cost=t, memory_cost=m, parallelism=p, type=argon2.Type.ID)

        class One:
            def salt(self):
                return ""

            def encode(self, password, salt):
                return hasher.hash(password)

        wall, cpu = per_hash(One())
        print(f"| {label} | {'yes' if argon2_meets_owasp_floor(time_cost=t, memory_kib=m) else 'no'} | {wall:.1f} | {cpu:.1f} | {1000 / cpu:.1f} |")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", action="store_true", help="measure the Argon2id candidates instead")
    if parser.parse_args().grid:
        grid()
        return
    preferred = get_hasher("default")
    params = {k: getattr(preferred, k) for k in ("time_cost", "memory_cost", "parallelism", "iterations", "rounds") if hasattr(preferred, k)}
    bcrypt12 = BCryptSHA256PasswordHasher()  # Django's default: cost 12
    wall, cpu = per_hash(preferred)
    result = {
        "preferred": f"{type(preferred).__module__}.{type(preferred).__name__}",
        "algorithm": preferred.algorithm,
        "params": params,
        "owasp_floor_met": preferred.algorithm == "argon2"
        and argon2_meets_owasp_floor(time_cost=params["time_cost"], memory_kib=params["memory_cost"]),
        "preferred_ms": round(wall, 1),
        "preferred_cpu_ms": round(cpu, 1),
        "bcrypt12_ms": round(per_hash(bcrypt12)[0], 1),
        "bcrypt_rounds": bcrypt12.rounds,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
