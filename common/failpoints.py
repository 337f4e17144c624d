"""Failpoints: named places inside multi-write operations where a test injects a fault.

Each step of an operation that writes several times (the chain delete, the bulk trash, ...) calls
`failpoint("<operation>.<step>")`. Unarmed, that is one dictionary lookup on an empty dict: the
service never arms one itself. A test arms one:

- in this process: `with failpoints.armed("chain_delete.dependents", failpoints.Raise(...)):`
  (or `failpoints.Kill()`: SIGKILL of this very process, for a child process started by a test);
- in a child process (a `manage.py` command, a server): the environment variable
  `USER_SERVICE_FAILPOINTS="chain_delete.users=kill"` (comma-separated `name=action[@n]`, where
  `n` is the hit that fires: `@2` lets the first pass) arms them at import. Actions: `kill`
  (SIGKILL itself: a crash at exactly that point, nothing flushed, no `finally`), `raise`
  (a `FailpointError`), `stop` (SIGSTOP itself: frozen until a test sends SIGCONT).

`failpoints.recording()` lists, in order, the names reached by a run: the tests kill an operation
at each of them, so a new step is covered as soon as it is declared. Never set the variable
in production: a failpoint that fires is a crash by design.
"""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENVIRONMENT_VARIABLE = "USER_SERVICE_FAILPOINTS"


class FailpointError(RuntimeError):
    """Raised by a `Raise` failpoint (a crash that unwinds, in this process)."""


class Action:
    """What a failpoint does on its `at`-th hit (1: the first). Hits are counted per arming."""

    def __init__(self, at: int = 1):
        self.at = at
        self.hits = 0
        self._lock = threading.Lock()

    def __call__(self, name: str) -> None:
        with self._lock:
            self.hits += 1
            fire = self.hits == self.at
        if fire:
            self.fire(name)

    def fire(self, name: str) -> None:  # pragma: no cover - every action overrides it
        raise NotImplementedError


class Raise(Action):
    def __init__(self, exc: BaseException | None = None, at: int = 1):
        super().__init__(at)
        self.exc = exc

    def fire(self, name: str) -> None:
        raise self.exc if self.exc is not None else FailpointError(f"failpoint {name}")


class Kill(Action):
    """SIGKILL of this process: nothing after this point runs, as in a crash or an OOM kill."""

    def fire(self, name: str) -> None:  # pragma: no cover - runs in child processes only
        os.kill(os.getpid(), signal.SIGKILL)


class Stop(Action):
    """SIGSTOP of this process: frozen mid-operation until someone sends SIGCONT."""

    def fire(self, name: str) -> None:  # pragma: no cover - runs in child processes only
        os.kill(os.getpid(), signal.SIGSTOP)


class Call(Action):
    """Run a function (a test's: start a racing request, wait for an event...)."""

    def __init__(self, function: Callable[[str], None], at: int = 1):
        super().__init__(at)
        self.function = function

    def fire(self, name: str) -> None:
        self.function(name)


_armed: dict[str, Action] = {}
_recorders: list[list[str]] = []


def failpoint(name: str) -> None:
    """A named point in an operation; does nothing unless a test armed `name` or records."""
    if _recorders:
        for names in _recorders:
            names.append(name)
    if _armed:
        action = _armed.get(name)
        if action is not None:
            action(name)


def arm(name: str, action: Action) -> None:
    _armed[name] = action


def disarm(name: str | None = None) -> None:
    """Disarm one failpoint, or all of them."""
    if name is None:
        _armed.clear()
    else:
        _armed.pop(name, None)


@contextmanager
def armed(name: str, action: Action) -> Iterator[Action]:
    arm(name, action)
    try:
        yield action
    finally:
        disarm(name)


@contextmanager
def recording() -> Iterator[list[str]]:
    """Collect the names of the failpoints reached inside the block, in order."""
    names: list[str] = []
    _recorders.append(names)
    try:
        yield names
    finally:
        _recorders.remove(names)


ACTIONS = {"kill": Kill, "raise": Raise, "stop": Stop}


def arm_from_environment(value: str | None = None) -> None:
    """Arm what `USER_SERVICE_FAILPOINTS` names (`name=action[@n],...`); see the module."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "") if value is None else value
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, spec = item.partition("=")
        kind, _, at = (spec or "raise").partition("@")
        if kind not in ACTIONS:
            raise ValueError(f"{ENVIRONMENT_VARIABLE}: unknown action {kind!r} in {item!r} (one of {', '.join(ACTIONS)})")
        arm(name.strip(), ACTIONS[kind](at=int(at or 1)))


arm_from_environment()
