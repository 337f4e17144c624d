"""Peak memory of checking and re-encoding one avatar, and of six at once (issue 12, item 9).

Run: .venv/bin/python bench/avatar_memory.py [--repo PATH]

Each case runs in a fresh process (`config.settings.base`, DEBUG, in-memory store): the image file
is made beforehand and read in, then the process's resident high-water mark (ru_maxrss) is taken
before and after `profiles.services.avatar_image_clean` runs, and the difference is the peak the
image work added. `--repo` runs the same cases against another checkout (e.g. `--repo ../main`
for the code before this change), so both figures come from one run on one machine.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, resource, sys, threading, json
sys.path.insert(0, os.getcwd())
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
import django; django.setup()
from profiles import services
content = open(sys.argv[1], "rb").read()
parallel = int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome = []
def work():
    try:
        clean = services.avatar_image_clean(content=content)
        outcome.append(f"accepted, stored {clean.width}x{clean.height}")
    except Exception as exc:
        outcome.append(f"refused ({type(exc).__name__})")
threads = [threading.Thread(target=work) for _ in range(parallel)]
for t in threads: t.start()
for t in threads: t.join()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mib": round((after - before) / 1024, 1), "outcome": sorted(set(outcome))}))
"""


def images(folder: Path) -> list[tuple[str, Path]]:
    from PIL import Image, ImageDraw

    def save(name: str, image, fmt: str) -> Path:
        path = folder / name
        image.save(path, format=fmt)
        return path

    def drawn(size, mode):
        image = Image.new(mode, size, (30, 120, 200, 255)[: len(mode)])
        draw = ImageDraw.Draw(image)
        for x in range(0, size[0], 97):
            draw.line((x, 0, size[0] - x, size[1]), fill=(250, 40, 40, 128)[: len(mode)], width=5)
        return image

    return [
        ("PNG 5000x5000 RGBA (the issue's)", save("issue.png", drawn((5000, 5000), "RGBA"), "PNG")),
        ("PNG 4000x4000 RGBA (at the new ceiling)", save("ceiling.png", drawn((4000, 4000), "RGBA"), "PNG")),
        ("JPEG 4000x3000 (a phone photo)", save("photo.jpg", drawn((4000, 3000), "RGB"), "JPEG")),
    ]


def measure(repo: Path, path: Path, parallel: int) -> dict:
    env = {**os.environ, "DEBUG": "true", "PYTHONPATH": str(repo), "LOG_LEVEL": "ERROR"}
    env.pop("MONGODB_URI", None)
    run = subprocess.run([sys.executable, "-c", CHILD, str(path), str(parallel)], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise SystemExit(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", action="append", default=[], help="another checkout to measure as well")
    args = parser.parse_args()
    repos = [HERE, *[Path(r).resolve() for r in args.repo]]
    with tempfile.TemporaryDirectory() as tmp:
        cases = images(Path(tmp))
        print("| image | parallel | checkout | peak added (MiB) | outcome |")
        print("|---|---|---|---|---|")
        for label, path in cases:
            for parallel in (1, 6):
                for repo in repos:
                    result = measure(repo, path, parallel)
                    name = "this" if repo == HERE else repo.name
                    print(f"| {label}, {path.stat().st_size // 1024} KB | {parallel} | {name} | {result['peak_mib']} | {', '.join(result['outcome'])} |", flush=True)


if __name__ == "__main__":
    main()
