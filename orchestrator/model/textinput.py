"""Reading text that users, editors and other platforms hand to workflow: one way for all.

A file saved by a Windows editor may start with a byte-order mark and end its lines with
CRLF; PowerShell's `>` writes UTF-16. Read naively, a BOM makes a TOML file invalid "at
line 1, column 1" and turns the first path of a `--changed-files` list into another path
(so `pyproject.toml` no longer matches the HEAVY patterns). Every text input (the
configuration, change lists from a file or stdin, the GitHub event file, the pre-push
hook's input, saved run records) goes through `decode`: the BOM is dropped and every line
ends in "\\n".
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class TextStyle:
    """How a file was written (BOM, line ends), so that a rewrite can keep it that way."""

    bom: bool = False
    newline: str = "\n"  # "\n" or "\r\n"

    def encode(self, text: str) -> str:
        """`text` (lines ending in "\\n") with this style's line ends and BOM."""
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return ("\ufeff" + text) if self.bom else text


def decode(data: bytes) -> str:
    """UTF-8 (or BOM-marked UTF-16) bytes as text: no BOM, "\\n" line ends.

    Raises UnicodeDecodeError for bytes that are not text in those encodings.
    """
    if data.startswith(_UTF16_BOMS):
        return normalize(data.decode("utf-16"))
    return normalize(data.decode("utf-8-sig"))


def normalize(text: str) -> str:
    """Drop a leading BOM; CRLF and lone CR line ends become "\\n"."""
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text(path: Path) -> str:
    """A text file, decoded as `decode` does; raises OSError or UnicodeDecodeError."""
    return decode(path.read_bytes())


def read_styled(path: Path) -> tuple[str, TextStyle]:
    """A text file decoded as `read_text` does, and the style to write it back in."""
    data = path.read_bytes()
    style = TextStyle(
        bom=data.startswith(codecs.BOM_UTF8), newline="\r\n" if b"\r\n" in data else "\n"
    )
    return decode(data), style


def read_stream(stream: IO[str] | IO[bytes]) -> str:
    """All of a stream (standard input), decoded as `decode` does.

    A text stream is read through its byte buffer when it has one, so that the encoding
    of the locale (which may not be UTF-8 in a GUI client's hook) plays no part.
    """
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return decode(buffer.read())
    data = stream.read()
    return decode(data) if isinstance(data, bytes) else normalize(data)
