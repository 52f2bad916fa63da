"""The pieces a test can depend on, and which edits change which fingerprints."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.pytest.plugins.workflow_pieces import (
    describe,
    fingerprints,
    function_lines,
    import_statements,
)

SOURCE = textwrap.dedent(
    '''\
    """The module's docstring."""
    import os

    LIMIT = 10


    def helper(x, factor=2):
        """Doubles."""
        return x * factor  # a comment


    class Parser:
        sep = ","

        def parse(self, text):
            def clean(part):
                return part.strip()

            return [clean(p) for p in text.split(self.sep)]

        @property
        def size(self):
            return 1

        @size.setter
        def size(self, value):
            pass

        def items(self):
            yield 1
    '''
)


def changed(before: str, after: str) -> set[str]:
    """The pieces whose fingerprint differs between two versions of a file."""
    old, new = fingerprints(before), fingerprints(after)
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def test_each_function_class_and_the_module_is_a_piece() -> None:
    kinds = {name: kind for name, (kind, _) in fingerprints(SOURCE).items()}
    assert kinds == {
        "<module>": "module",
        "helper": "function",
        "Parser": "class",
        "Parser.parse": "function",
        "Parser.parse.clean": "function",
        "Parser.size": "function",
        "Parser.size#2": "function",
        "Parser.items": "function",
    }


def test_lines_belong_to_the_innermost_function_body() -> None:
    lines = function_lines(SOURCE)
    assert lines[9] == "helper"  # the body, not the `def` line
    assert 7 not in lines  # `def helper(...)` runs when the module is imported
    assert lines[17] == "Parser.parse.clean"
    assert lines[19] == "Parser.parse"
    assert lines[16] == "Parser.parse"  # `def clean` runs with parse
    assert 13 not in lines  # `sep = ","`: the class body


def test_a_function_body_edit_changes_only_that_function() -> None:
    assert changed(SOURCE, SOURCE.replace("x * factor", "x + factor")) == {"helper"}
    assert changed(SOURCE, SOURCE.replace("part.strip()", "part")) == {"Parser.parse.clean"}


def test_a_comment_in_a_body_counts_but_not_between_definitions() -> None:
    assert changed(SOURCE, SOURCE.replace("# a comment", "# another")) == {"helper"}
    assert changed(SOURCE, SOURCE.replace("LIMIT = 10\n", "LIMIT = 10  # why\n")) == set()


def test_import_time_code_defaults_docstrings_and_class_bodies_are_import_pieces() -> None:
    assert changed(SOURCE, SOURCE.replace("LIMIT = 10", "LIMIT = 11")) == {"<module>"}
    assert changed(SOURCE, SOURCE.replace("factor=2", "factor=3")) == {"<module>"}
    assert changed(SOURCE, SOURCE.replace('"""Doubles."""', '"""Triples."""')) == {
        "<module>",
        "helper",
    }
    assert changed(SOURCE, SOURCE.replace('sep = ","', 'sep = ";"')) == {"Parser"}
    assert changed(SOURCE, SOURCE.replace("@property", "@staticmethod")) == {"Parser"}


def test_a_generator_that_stops_yielding_changes_its_class() -> None:
    # Calling it now runs the body at once: what the call returns changed for every
    # caller, even one that never iterated.
    assert changed(SOURCE, SOURCE.replace("yield 1", "return 1")) == {"Parser", "Parser.items"}


def test_moving_a_function_changes_it_but_not_the_import_pieces() -> None:
    # A line added to helper's body moves every function below it (their tracebacks
    # would show other line numbers); what importing the module makes is the same.
    moved = SOURCE.replace('"""Doubles."""\n', '"""Doubles."""\n\n')
    assert changed(SOURCE, moved) == {
        "helper",
        "Parser.parse",
        "Parser.parse.clean",
        "Parser.size",
        "Parser.size#2",
        "Parser.items",
    }


def test_imports_anywhere_in_the_file_are_statements() -> None:
    import ast

    source = textwrap.dedent(
        """\
        import a.b
        from . import c
        from ..d import e, f

        def g():
            import h
            importlib.import_module("i.j")
        """
    )
    assert import_statements(ast.parse(source)) == [
        ("a.b", 0, []),
        (None, 1, ["c"]),
        ("d", 2, ["e", "f"]),
        ("h", 0, []),
        ("i.j", 0, []),
    ]
    assert set(describe(source)) == {"pieces", "imports"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["helper", "Parser.parse.clean", "Parser.size"]), st.integers(0, 99))
def test_editing_one_body_in_place_never_changes_another(name: str, value: int) -> None:
    targets = {
        "helper": ("return x * factor", f"return x * {value}"),
        "Parser.parse.clean": ("return part.strip()", f"return part.strip() or {value}"),
        "Parser.size": ("return 1", f"return {value + 2}"),
    }
    old, new = targets[name]
    assert changed(SOURCE, SOURCE.replace(old, new, 1)) == {name}
