"""The one reader of text inputs: BOMs dropped, every line end "\\n", style kept for rewrites."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.textinput import TextStyle, decode, read_stream, read_styled

# Text a file can hold: no lone surrogates; line ends and BOMs are what the test adds.
CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\ufeff")
LINES = st.lists(st.text(alphabet=CHARACTERS), max_size=5)


@given(LINES)
def test_every_encoding_and_line_end_reads_the_same(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    for data in (
        text.encode(),
        b"\xef\xbb\xbf" + text.encode(),
        text.replace("\n", "\r\n").encode(),
        b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
        text.replace("\n", "\r\n").encode("utf-16"),  # with its BOM, as PowerShell writes
    ):
        assert decode(data) == text


def test_a_stream_is_read_through_its_bytes() -> None:
    raw = io.BytesIO(b"\xef\xbb\xbfpyproject.toml\r\nsrc/a.py\r\n")
    assert read_stream(io.TextIOWrapper(raw, encoding="latin-1")) == "pyproject.toml\nsrc/a.py\n"
    assert read_stream(io.StringIO("\ufeffa\r\nb")) == "a\nb"


def test_not_text_is_an_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode(b"\xff\x00\xfe")


@pytest.mark.parametrize(
    ("data", "style"),
    [
        (b"a = 1\n", TextStyle()),
        (b"\xef\xbb\xbfa = 1\r\n", TextStyle(bom=True, newline="\r\n")),
    ],
)
def test_the_style_round_trips(tmp_path: Path, data: bytes, style: TextStyle) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(data)
    text, found = read_styled(path)
    assert (text, found) == ("a = 1\n", style)
    assert found.encode(text).encode() == data
