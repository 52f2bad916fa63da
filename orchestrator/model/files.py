"""Files written whole or not at all, and the tail of a log read from its end.

One atomic write with one mode policy for everything workflow leaves on disk: the run
record and the reports are 0644 (they are meant to be shared and uploaded), the hook
0755, and an edited configuration file keeps the mode it had.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.model.units import count

SHARED = 0o644  # records and reports: readable by whoever reads the directory
EXECUTABLE = 0o755  # the git hook
KEEP = None  # an existing file keeps its mode (SHARED when it is new)


def write_atomic(path: Path, text: str | bytes, mode: int | None = SHARED) -> None:
    """Write `text` so readers (and a process killed mid-write) see the old or the new file.

    Text is written as UTF-8 with "\n" line ends, bytes as they are (a cache entry).
    Creates the parent directory. `mode` is the new file's permission bits, or KEEP.
    Raises OSError when the directory or the file cannot be written; nothing is left
    behind then.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged(path, text, mode):
        pass


def write_new(path: Path, text: str, mode: int = SHARED) -> None:
    """Write `path` whole, only if no file is there: a file that appears meanwhile is
    never replaced (FileExistsError), and a failed write leaves nothing behind."""
    # tempfile (with random and shutil) loads only when a file is written, never on the
    # way to the first stage.
    from tempfile import mkstemp  # noqa: PLC0415 - see the comment above

    handle, name = mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        temporary.chmod(mode)  # mkstemp makes 0600
        os.link(temporary, path)  # fails when `path` exists, where a rename would replace
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def staged(path: Path, text: str | bytes, mode: int | None = SHARED) -> Iterator[Path]:
    """Write `text` (or bytes) beside `path`, yield the staged file, then swap it in on a
    clean exit.

    The caller may do what must happen between (e.g. keep the old file as a backup);
    an exception there removes the staged file and leaves `path` as it was.
    """
    # tempfile (with random and shutil) loads only when a file is written, never on the
    # way to the first stage.
    from tempfile import mkstemp  # noqa: PLC0415 - see the comment above

    handle, name = mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temporary = Path(name)
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temporary.chmod(_mode_for(path, mode))  # mkstemp makes 0600
        yield temporary
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


OWN_DIRECTORY = ".workflow"  # the default home of the reports, history and cache
IGNORE_ALL = "# workflow's own output: git ignores everything here.\n*\n"


def make_own_directory(path: Path) -> None:
    """Create `path` (with its parents) for workflow's own output.

    As ruff, mypy and pytest do for their caches, workflow's own directory `.workflow`
    (the default home of the reports, history and cache) gets a `.gitignore` holding
    `*`, also when an older version made it without one, so `git add -A` never stages a
    report. A directory the user named (`--report-dir out`) is theirs to ignore: nothing
    is added there, and it holds only run directories. Raises OSError when `path` cannot
    be created; a `.gitignore` that cannot be written is left out.
    """
    path.mkdir(parents=True, exist_ok=True)
    for directory in (path, *path.parents):
        if directory.name != OWN_DIRECTORY:
            continue
        ignore = directory / ".gitignore"
        # A read-only tree: the outputs are still written, without it.
        with contextlib.suppress(OSError):
            if not ignore.exists():
                ignore.write_text(IGNORE_ALL, encoding="utf-8")


def reserve_space(path: Path, size: int) -> bool:
    """Set `size` bytes of the device aside in a file at `path`; whether that worked.

    A run keeps room for its record this way: when its logs fill the device, removing the
    reserve (`path.unlink`) lets the record that says so still be written.
    """
    try:
        with path.open("wb") as stream:
            try:
                os.posix_fallocate(stream.fileno(), 0, size)
            except (AttributeError, OSError):  # no fallocate here: write the bytes
                stream.write(bytes(size))
                stream.flush()
    except OSError:
        path.unlink(missing_ok=True)
        return False
    return True


def temporary_directory(prefix: str) -> Path:
    """A new private directory under the system's temporary directory."""
    from tempfile import mkdtemp  # noqa: PLC0415 - loads only when asked, as mkstemp

    return Path(mkdtemp(prefix=prefix))


def _mode_for(path: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return SHARED


def read_tail(path: Path, max_bytes: int) -> tuple[bytes, bool]:
    """The last `max_bytes` of a file read from its end (logs can be huge), and whether
    the start was cut off. Raises OSError when the file cannot be read."""
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        stream.seek(max(0, size - max_bytes))
        return stream.read(), size > max_bytes


def log_tail(path: Path, lines: int, max_bytes: int, *, colours: bool) -> list[str]:
    """The last `lines` lines of a log (from at most its last `max_bytes`), each cleaned
    by `clean_line`. A first line cut by `max_bytes` is left out: it may hold the end of a
    secret that masking can no longer recognise. Raises OSError when it cannot be read."""
    data, cut = read_tail(path, max_bytes)
    if cut:
        _, newline, rest = data.partition(b"\n")
        data = rest if newline else b""
    parts = data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    if parts[-1] == "":
        parts.pop()  # the newline that ends the last line starts no line of its own
    return [clean_line(line, colours=colours) for line in parts[-lines:]]


def tail_lines(path: Path, lines: int, max_bytes: int = 64 * 1024) -> list[str]:
    """`log_tail` for the console (colours kept); [] if the log cannot be read."""
    try:
        return log_tail(path, lines, max_bytes, colours=True)
    except OSError:
        return []


SCANNED_LINES = 400  # lines read back to find pytest's short test summary in a log's tail
# pytest's "=== short test summary info ===" and its closing "=== 2 failed, 9 passed in
# 1.23s ===" (without the rules under -q; colour codes may sit in a console tail).
_SUMMARY = re.compile(r"=+ short test summary info =+")
_RESULT = re.compile(r"\b\d+ (?:failed|passed|errors?|skipped)\b.*\bin [0-9.]+s\b")


def failure_lines(lines: list[str], limit: int) -> tuple[list[str], str]:
    """What to show of a failed stage's log tail, and how to name it.

    pytest's short test summary (the failed tests, one line each; `-rfE`) when the tail
    holds one, however pytest was reached (tox, make, a script), up to its result line:
    a plugin's table printed after the tests (pytest-benchmark) is not the failure. A log
    with several (a split stage's parts, one after another) shows each. Otherwise the
    last `limit` lines. A summary longer than `limit` keeps its first lines and its last.
    """
    starts = [i for i, line in enumerate(lines) if _SUMMARY.search(line)]
    if not starts:
        shown = lines[-limit:]
        return shown, f"last {count(len(shown), 'line')}"
    summary: list[str] = []
    for start in starts:
        end = next(
            (i for i in range(start + 1, len(lines)) if _RESULT.search(lines[i])), len(lines) - 1
        )
        summary += lines[start : end + 1]
    if len(summary) > limit:
        hidden = len(summary) - limit + 1
        summary = [*summary[: limit - 2], f"... {count(hidden, 'more line')}", summary[-1]]
    return summary, "pytest's short test summary"


def clean_text(text: str, *, colours: bool) -> str:
    """Several lines cleaned as `clean_line` cleans one ("\\r\\n" ends a line too)."""
    return "\n".join(
        clean_line(line, colours=colours) for line in text.replace("\r\n", "\n").split("\n")
    )


# An escape sequence: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`), or a two-byte one.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -~]?)")
_SGR = re.compile(r"\x1b\[[0-9;:]*m\Z")
# C0 controls but tab and newline (ESC goes with its sequence above), DEL, C1 controls,
# and what XML 1.0 forbids as well: lone surrogates and U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_line(line: str, *, colours: bool) -> str:
    """One line of a stage's output as workflow may show it: of a line redrawn with
    carriage returns, what was drawn last; every escape (titles, screen clears, cursor
    moves) dropped, colours (SGR) too unless `colours` (the console keeps them, reports
    do not); NUL, other controls and characters XML cannot carry dropped."""
    line = next((part for part in reversed(line.split("\r")) if part), "")
    if colours:
        line = _ESCAPE.sub(lambda m: m.group(0) if _SGR.match(m.group(0)) else "", line)
    else:
        line = _ESCAPE.sub("", line)
    return _CONTROL.sub("", line)
