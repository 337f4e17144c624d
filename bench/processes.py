#!/usr/bin/env python3
"""How many processes: the production command (`python -m config.serve`) with 1, 2 and N
granian processes, on one SecantusDB server, with wrk, alternating, as ratios to one process.

    python bench/processes.py                       # 1, 2 and 4 processes; about 6 minutes
    python bench/processes.py --workers 1,2,3 --reps 5

Each repetition starts the service with each number of processes in turn (the order flips every
repetition), warms it up, and loads it with: the join (`GET /users/user_with_details/{id}`, each
user with their own token, -c16: reads that wait on the database) and logins (`POST /login`, -c8:
Argon2, CPU-bound). The table has the medians, and the median of the per-repetition ratios to one
process, which is what is compared: this machine is shared and noisy. Written to
bench/results/processes.md (and .json). Uses bench/run.py's helpers (wrk, seeding, processes).
"""
import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py)

LOADS = {"join": ("join.lua", 16), "login": ("login.lua", 8)}


def serve_command() -> list[str]:
    return [sys.executable, "-m", "config.serve"]


def serve_env(uri: str, port: int, workers: int) -> dict:
    env = run.ours_env(uri)
    # DEBUG off needs a signing key; HS256 keeps the benchmark's tokens out of the question.
    env.update(WEB_CONCURRENCY=str(workers), GRANIAN_HOST=run.HOST, GRANIAN_PORT=str(port), GRANIAN_LOG_LEVEL="warning", JWT_ALGORITHM="HS256")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default=f"1,2,{max(4, 2 * (os.cpu_count() or 1))}", help="process counts to compare (default 1,2,2x the CPUs)")
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk per load (default 8)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions, alternating the order (default 3)")
    parser.add_argument("--users", type=int, default=32, help="users seeded (default 32)")
    parser.add_argument("--out", type=Path, default=run.BENCH / "results" / "processes.md")
    args = parser.parse_args()
    run.tool("wrk")
    counts = [int(n) for n in args.workers.split(",")]
    if 1 not in counts or not all(1 <= n <= 16 for n in counts):
        sys.exit("--workers lists 1-16 processes, 1 included (the ratios are to one process)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = args.out.parent / "data"
    data.mkdir(exist_ok=True)
    processes: list = []
    storage = tempfile.mkdtemp(prefix="bench-processes-")
    port, db_port = run.free_port(), run.free_port()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()[0]

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    measured: dict[tuple[int, str], list[dict]] = {(n, load): [] for n in counts for load in LOADS}
    try:
        db = run.Process("SecantusDB", [run.tool("secantusd-py"), "--host", run.HOST, "--port", str(db_port), "--storage-path", storage],
                         dict(os.environ), args.out.parent / "secantus.log", db_port, ready_path=None)
        processes.append(db.start())
        uri = f"mongodb://{run.HOST}:{db_port}/bench_processes"
        seeder = run.Process("seeding", serve_command(), serve_env(uri, port, 1), args.out.parent / "processes-serve.log", port)
        processes.append(seeder.start())
        users = run.seed(run.Client(port), f"proc{time.strftime('%H%M%S')}", args.users, tokens=True)
        seeder.stop()
        processes.remove(seeder)
        files = {
            "join": run.write_rows(data / "processes_users.txt", [[u["id"], u["token"]] for u in users]),
            "login": run.write_rows(data / "processes_logins.txt", [[u["email"], run.PASSWORD] for u in users]),
        }
        for rep in range(args.reps):
            order = counts if rep % 2 == 0 else list(reversed(counts))
            run.log(f"repetition {rep + 1}/{args.reps}: {order}")
            for n in order:
                p = run.Process(f"serve x{n}", serve_command(), serve_env(uri, port, n), args.out.parent / "processes-serve.log", port)
                processes.append(p.start())
                try:
                    run.wrk(run.wrk_command("join.lua", 16, 2, port, files["join"]), 2)  # every process has loaded its code
                    for load, (script, connections) in LOADS.items():
                        p.settle()
                        db.settle()
                        result = run.wrk(run.wrk_command(script, connections, args.duration, port, files[load]), args.duration)
                        measured[(n, load)].append(result)
                        run.log(f"x{n} {load}: {run.rps(result['rps'])} req/s, p50 {run.ms(result['p50_us'])}, p99 {run.ms(result['p99_us'])}, errors {result['errors']}")
                finally:
                    p.stop()
                    processes.remove(p)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        for p in reversed(processes):
            p.stop()
        shutil.rmtree(storage, ignore_errors=True)

    lines = [
        f"measured {started}; {os.cpu_count()} CPUs; load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end",
        f"command: `{shlex.join(['python', 'bench/processes.py', *sys.argv[1:]])}`",
        "",
        "| processes | load | req/s | p50 | p99 | req/s ratio to 1 process: median (each repetition) |",
        "|---:|---|---:|---:|---:|---|",
    ]
    rows = []
    for n in counts:
        for load in LOADS:
            rs = measured[(n, load)]
            ratios = [r["rps"] / one["rps"] if one["rps"] else 0.0 for r, one in zip(rs, measured[(1, load)])]
            row = {"processes": n, "load": load, "rps": run.median([r["rps"] for r in rs]), "p50_us": run.median([r["p50_us"] for r in rs]),
                   "p99_us": run.median([r["p99_us"] for r in rs]), "ratio": run.median(ratios), "ratios": ratios, "errors": sum(r["errors"] for r in rs)}
            rows.append(row)
            each = ", ".join(f"{x:.2f}" for x in ratios)
            lines.append(f"| {n} | {load} | {run.rps(row['rps'])} | {run.ms(row['p50_us'])} | {run.ms(row['p99_us'])} | **{row['ratio']:.2f}x** ({each}) |")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"started": started, "rows": rows}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
