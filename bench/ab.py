"""Variants of our service side by side: the same read served by one granian process per variant,
the variants differing only in their settings (environment variables), in alternating rounds.

    python bench/ab.py off:MONGODB_BLOCKING_READS=false on:MONGODB_BLOCKING_READS=true
    python bench/ab.py --rounds 8 --duration 5 t16:THREADS=16 t4:THREADS=4

A variant is `name:NAME=value;NAME=value` (`THREADS` is granian's `--blocking-threads`, anything
else goes into the service's environment). Each variant runs as `bench/run.py` runs ours (the
production settings, one process, 16 threads by default), all on one SecantusDB server of their
own; each variant seeds its share of the users, and every token is read by every variant. Each round runs `wrk -c8` against
each variant in turn, the first one rotating, and reads from /proc the CPU time of the variant's
process and of the database server and the context switches of the variant's threads, so that
each round gives CPU and switches per request beside req/s. Prints each round and the medians.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import run  # noqa: E402 - bench/run.py, beside this file
import secantus_server  # noqa: E402


def context_switches(pgid: int) -> int:
    """Voluntary and involuntary context switches of every thread of a process group."""
    total = 0
    for pid, _ in run.group_stats(pgid):
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/status") as f:
                    total += sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)
        except OSError:
            continue
    return total


def parse_variant(text: str) -> tuple[str, dict]:
    name, _, assignments = text.partition(":")
    settings = dict(item.split("=", 1) for item in assignments.split(";") if item)
    return name, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+", help="name:NAME=value;NAME=value")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=6, help="seconds of wrk per variant and round")
    parser.add_argument("--path", default="/users/me", help="the GET to serve, with each user's token")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variants]
    os.chdir(run.ROOT)
    folder = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    database, port = secantus_server.start(folder / "db")
    uri = f"mongodb://127.0.0.1:{port}/bench_ab?retryWrites=false"
    os.environ["JWT_SIGNING_KEYS"] = run._bench_signing_key()  # one key: every variant accepts the tokens
    processes = {}
    try:
        for name, settings in variants:
            env = run.ours_env(uri)
            threads = int(settings.pop("THREADS", run.THREADS))
            env.update(settings)
            server_port = run.free_port()
            command = run.server_command("granian", server_port, 1, threads=threads)
            processes[name] = run.Process(name, command, env, folder / f"{name}.log", server_port).start()
        # Every variant registers and logs in its share of the users (hashing, the outbox's jobs):
        # a process that seeded them all ran slower afterwards than its twins.
        users = []
        for index, process in enumerate(processes.values()):
            users += run.seed(run.Client(process.port), f"ab{index}", max(4, 16 // len(processes)), tokens=True)
        tokens = folder / "users.txt"
        tokens.write_text("".join(f"{user['id']} {user['token']}\n" for user in users))
        for process in processes.values():  # warm-up: connections opened, code paths taken once
            run.wrk(run.wrk_command("get.lua", args.connections, 2, process.port, args.path, tokens), 2)
        names = [name for name, _ in variants]
        results = {name: [] for name in names}
        run.log(f"load average at the start: {open('/proc/loadavg').read().split()[:3]}")
        for round_ in range(args.rounds):
            for name in names[round_ % len(names):] + names[: round_ % len(names)]:
                process = processes[name]
                process.settle()
                pgid = process.proc.pid
                cpu, db_cpu, switches = run.group_cpu_seconds(pgid), run.group_cpu_seconds(database.pid), context_switches(pgid)
                out = run.wrk(run.wrk_command("get.lua", args.connections, args.duration, process.port, args.path, tokens), args.duration)
                count = out["requests"] or 1
                row = {
                    "rps": out["rps"],
                    "service_us": (run.group_cpu_seconds(pgid) - cpu) / count * 1e6,
                    "database_us": (run.group_cpu_seconds(database.pid) - db_cpu) / count * 1e6,
                    "switches": (context_switches(pgid) - switches) / count,
                    "p99_ms": out["p99_us"] / 1000,
                    "errors": out["errors"],
                }
                results[name].append(row)
                print(f"round {round_} {name:>10}: {row['rps']:7.1f} req/s, CPU/request {row['service_us']:5.0f} µs + database {row['database_us']:4.0f} µs, "
                      f"{row['switches']:4.1f} switches/request, p99 {row['p99_ms']:.1f} ms, errors {row['errors']}", flush=True)
        run.log(f"load average at the end: {open('/proc/loadavg').read().split()[:3]}")
        for name in names:
            rows = results[name]
            median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
            print(f"median {name:>10}: {median['rps']:7.1f} req/s, CPU/request {median['service_us']:5.0f} µs + database {median['database_us']:4.0f} µs, "
                  f"{median['switches']:4.1f} switches/request, p99 {median['p99_ms']:.1f} ms")
    finally:
        for process in processes.values():
            process.stop()
        database.terminate()
        database.wait(timeout=15)


if __name__ == "__main__":
    main()
