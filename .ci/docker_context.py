#!/usr/bin/env python3
"""Which files `docker build .` sends to the builder, read from `.dockerignore` without Docker.

The rules are Docker's (moby/patternmatcher, as `docker build` applies them): one pattern a line,
`#` comments, a leading `!` lets back in what an earlier pattern left out, the last matching
pattern decides, a pattern matches a path or any of its parent folders, `*` and `?` never cross a
`/`, `**` crosses any number of folders, and patterns are relative to the context's root.

    python3 .ci/docker_context.py [DIR]            # print the files of the context
    python3 .ci/docker_context.py DIR --copy DEST  # copy them to DEST (the image's `COPY . .`)

tests/test_deploy_files.py evaluates it against a checkout filled as the README's local run
leaves it; .ci/image replays the image's steps on the copy.
"""
import argparse
import os
import re
import shutil
import sys
from pathlib import Path


def _regex(pattern: str) -> re.Pattern:
    out, i = "^", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern[i : i + 2] == "**":
                if pattern[i + 2 : i + 3] == "/":
                    out += "(?:.*/)?"
                    i += 3
                else:
                    out += ".*"
                    i += 2
                continue
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(c)
            else:
                body = pattern[i + 1 : end]
                out += "[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]"
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")


def read_patterns(path: Path) -> list[tuple[bool, re.Pattern, str]]:
    """(negated, regex, pattern) for each pattern line, in order."""
    patterns = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip()
        line = os.path.normpath(line).lstrip("/")
        if line in (".", ""):
            continue
        patterns.append((negated, _regex(line), line))
    return patterns


def excluded(relative: str, patterns: list[tuple[bool, re.Pattern, str]]) -> bool:
    """Whether Docker leaves this path (relative, with `/`) out of the context."""
    parents = relative.split("/")
    candidates = ["/".join(parents[: n + 1]) for n in range(len(parents))]
    result = False
    for negated, regex, _ in patterns:
        if any(regex.match(candidate) for candidate in candidates):
            result = not negated
    return result


def _pruned(relative: str, patterns) -> bool:
    if not excluded(relative, patterns):
        return False
    return not any(negated and (source.startswith(relative + "/") or "*" in source.split("/")[0]) for negated, _, source in patterns)


def context_files(root: Path) -> list[str]:
    """Every file (and symlink) under root that the build context holds, sorted."""
    ignore = root / ".dockerignore"
    patterns = read_patterns(ignore) if ignore.exists() else []
    files = []
    for folder, dirs, names in os.walk(root):
        # As Docker does: a folder left out is not walked unless a `!` pattern may let in
        # something below it.
        dirs[:] = [d for d in dirs if not _pruned((Path(folder) / d).relative_to(root).as_posix(), patterns)]
        for name in names + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if not excluded(relative, patterns):
                files.append(relative)
    return sorted(files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--copy", type=Path, help="copy the context's files here")
    args = parser.parse_args()
    files = context_files(args.root)
    if args.copy:
        for name in files:
            target = args.copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(args.root / name, target, follow_symlinks=False)
    else:
        print("\n".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
