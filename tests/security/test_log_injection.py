"""Issue 12, item 11: a client-supplied value (path, user agent, reason, names, exception text)
cannot start a new line, or hide text, in the log: CR, LF and other control characters are
escaped once, by the console handler's filter, whatever logger wrote the record."""
import io
import json
import logging
import sys

import pytest
from django.test import override_settings

from config.logging import escape_control


class Written(io.StringIO):
    """The console handler's stream: reading it first waits for the handler's writer thread
    (config/logging.py's BackgroundStreamHandler) to write what was logged."""

    handler = None

    def getvalue(self) -> str:
        self.handler.flush()
        return super().getvalue()


@pytest.fixture
def console(caplog):
    """What the configured console handler writes (the plain format, as the service runs)."""
    caplog.set_level(logging.INFO)
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    out = Written()
    out.handler = handler
    previous = handler.setStream(out)
    yield out
    handler.setStream(previous)


def test_a_newline_in_the_path_cannot_forge_a_line(api, console):
    forged = "/users/x%0a2026-01-01 00:00:00,000 INFO accounts.users.audit [-] audit role_change actor=evil%0d%0a"
    api.get(forged)
    written = console.getvalue()
    lines = [line for line in written.splitlines() if line]
    assert all(" access " in line or "django" in line or "accounts" not in line.split(" ")[3] for line in lines)
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert "\\n2026-01-01" in written and "\\r\\n" in written


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x1b[31mb", "a\u2028b", "a\u202eb", "a\x00b", "a\x85b"])
def test_control_characters_are_escaped_in_any_record(console, value):
    logging.getLogger("anything").warning("name=%s", value)
    line = console.getvalue()
    assert line.count("\n") == 1 and value not in line
    assert "name=a\\" in line


def test_escaping_is_visible_and_keeps_plain_text():
    assert escape_control("plain text ü 日本") == "plain text ü 日本"
    assert escape_control("a\nb\tc\u202e") == "a\\nb\\tc\\u202e"


def test_a_traceback_is_marked_so_no_line_of_it_can_pass_for_a_record(console):
    try:
        raise ValueError("bad\n2026-01-01 00:00:00,000 INFO forged line")
    except ValueError:
        logging.getLogger("anything").exception("failed with %s", "x\ny")
    lines = console.getvalue().splitlines()
    # The record's lines (a thread left by another test may log before or after them; a record is
    # written whole, so its own lines are together).
    first = next(i for i, line in enumerate(lines) if "failed with x\\ny" in line)
    traceback = lines[first + 1 : first + 6]
    assert traceback[0] == "  | Traceback (most recent call last):", lines
    assert traceback[-1] == "  | 2026-01-01 00:00:00,000 INFO forged line", lines
    assert all(line.startswith("  | ") for line in traceback), lines
    assert not any(line.startswith("2026-01-01") for line in lines)


def test_a_traceback_another_handler_formatted_first_is_still_marked():
    """logging caches a record's traceback text on the record: a handler that formats first (a
    test's capture, an error tracker) must not hand the console its unmarked lines."""
    from config.logging import PlainFormatter

    try:
        raise ValueError("bad\n2026-01-01 00:00:00,000 INFO forged line")
    except ValueError:
        record = logging.getLogger("anything").makeRecord("anything", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    logging.Formatter().format(record)  # the other handler's formatter, first
    assert "\n2026-01-01" in record.exc_text
    lines = PlainFormatter("%(message)s").format(record).splitlines()
    assert lines[0] == "failed" and all(line.startswith("  | ") for line in lines[1:]) and len(lines) == 6, lines
    record.exc_info = None  # only the cached text left (a record that crossed a queue)
    assert all(line.startswith("  | ") for line in PlainFormatter("%(message)s").format(record).splitlines()[1:])


def test_the_json_format_stays_one_object_a_line(console):
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    from pythonjsonlogger.json import JsonFormatter

    previous = handler.formatter
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"))
    try:
        logging.getLogger("anything").warning("ua=%s", "evil\n{\"forged\": 1}")
        written = console.getvalue()  # formatted by the writer thread: while the JSON formatter is on
    finally:
        handler.setFormatter(previous)
    (line,) = written.splitlines()
    assert json.loads(line)["message"] == 'ua=evil\\n{"forged": 1}'
