"""The cache store: verified entries, damaged ones as misses, LRU pruning, concurrency."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.cache.explain import explain
from orchestrator.cache.key import CACHE_FORMAT, KeyParts, parts_from_data
from orchestrator.cache.store import CacheStore, Entry
from orchestrator.cache.transfer import export_cache, import_cache

texts = st.text(min_size=1, max_size=12)
tables = st.dictionaries(texts, texts, max_size=5)


def _parts(seed: str = "a", **sections: dict[str, str]) -> KeyParts:
    return KeyParts(
        stage=sections.get("stage", {"run": seed}),
        inputs=sections.get("inputs", {"src/a.py": f"100644 {seed}"}),
        env=sections.get("env", {}),
        tool=sections.get("tool", {"tool": "python"}),
        environments=sections.get("environments", {}),
    )


def _entry(parts: KeyParts, stage: str = "unit", stored_at: float = 1.0) -> Entry:
    return Entry(parts.digest(), stage, "RUN-1", 2.5, stored_at, parts)


def test_a_stored_pass_comes_back_whole(tmp_path: Path) -> None:
    store = CacheStore(tmp_path, 10**6)
    parts = _parts()
    store.put(_entry(parts), b"all passed\n")
    hit = store.get(parts.digest())
    assert hit is not None
    assert hit.log == b"all passed\n"
    assert (hit.entry.run_id, hit.entry.stage, hit.entry.duration_s) == ("RUN-1", "unit", 2.5)
    assert hit.entry.parts == parts
    assert store.get(_parts("b").digest()) is None


def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path: Path) -> None:
    store = CacheStore(tmp_path, 10**6)
    damages: dict[str, Callable[[bytes], bytes]] = {
        "truncated": lambda data: data[:-3],
        "log byte flipped": lambda data: data[:-2] + bytes([data[-2] ^ 1]) + data[-1:],
        "header not JSON": lambda data: b"{" + data,
        "empty": lambda data: b"",
        "no newline": lambda data: data.replace(b"\n", b" "),
    }
    for index, (label, damage) in enumerate(damages.items()):
        parts = _parts(str(index))
        store.put(_entry(parts), b"line one\nline two\n")
        path = store.path_for(parts.digest())
        path.write_bytes(damage(path.read_bytes()))
        assert store.get(parts.digest()) is None, label
        assert not path.exists(), label


def test_an_entry_under_another_key_is_a_miss(tmp_path: Path) -> None:
    store = CacheStore(tmp_path, 10**6)
    first, second = _parts("1"), _parts("2")
    store.put(_entry(first), b"first\n")
    target = store.path_for(second.digest())
    target.parent.mkdir(parents=True, exist_ok=True)
    store.path_for(first.digest()).rename(target)
    assert store.get(second.digest()) is None


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=st.binary(max_size=200), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_flipped_bit_is_a_miss_never_another_result(
    tmp_path: Path, log: bytes, position: int, bit: int
) -> None:
    store = CacheStore(tmp_path / os.urandom(4).hex(), 10**6)
    parts = _parts()
    store.put(_entry(parts), log)
    path = store.path_for(parts.digest())
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 1 << bit
    path.write_bytes(bytes(data))
    hit = store.get(parts.digest())
    # A flip in JSON whitespace or in a key's quoting may leave a valid entry: it must
    # then be the very same result.
    assert hit is None or (hit.log == log and hit.entry.parts == parts)


def test_least_recently_used_entries_go_first(tmp_path: Path) -> None:
    store = CacheStore(tmp_path, 10**6)
    parts = [_parts(str(n)) for n in range(4)]
    for number, part in enumerate(parts[:3]):
        store.put(_entry(part), b"x" * 1000)
        os.utime(store.path_for(part.digest()), (1000 + number, 1000 + number))
    assert store.get(parts[0].digest()) is not None  # used now: the newest
    size = store.path_for(parts[0].digest()).stat().st_size
    store.size_cap_bytes = 3 * size  # room for three: the fourth pushes one out
    store.put(_entry(parts[3]), b"x" * 1000)
    kept = {p.digest() for p in parts if store.path_for(p.digest()).exists()}
    assert kept == {parts[0].digest(), parts[2].digest(), parts[3].digest()}


def test_concurrent_writers_and_readers_never_see_half_an_entry(tmp_path: Path) -> None:
    store = CacheStore(tmp_path, 10**7)
    parts = [_parts(str(n % 5)) for n in range(40)]
    logs = {p.digest(): (p.digest() * 200).encode() for p in parts}
    errors: list[str] = []

    def write(part: KeyParts) -> None:
        store.put(_entry(part), logs[part.digest()])

    def read(part: KeyParts) -> None:
        hit = store.get(part.digest())
        if hit is not None and hit.log != logs[part.digest()]:
            errors.append(part.digest())

    threads = [threading.Thread(target=write, args=(p,)) for p in parts]
    threads += [threading.Thread(target=read, args=(p,)) for p in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(store.get(p.digest()) is not None for p in parts)
    assert not list(tmp_path.rglob(".tmp-*"))


@given(stage=tables, inputs=tables, env=tables, tool=tables)
def test_parts_read_back_give_the_same_key(
    stage: dict[str, str], inputs: dict[str, str], env: dict[str, str], tool: dict[str, str]
) -> None:
    parts = KeyParts(stage=stage, inputs=inputs, env=env, tool=tool)
    again = parts_from_data(parts.to_data())
    assert again.digest() == parts.digest()
    assert explain(parts, again) == []


@given(inputs=tables, path=texts, state=texts)
def test_any_input_change_changes_the_key_and_is_explained(
    inputs: dict[str, str], path: str, state: str
) -> None:
    old = KeyParts(stage={}, inputs=inputs, env={}, tool={})
    new = KeyParts(stage={}, inputs={**inputs, path: state}, env={}, tool={})
    if inputs.get(path) == state:
        assert new.digest() == old.digest()
    else:
        assert new.digest() != old.digest()
        assert any(path in line for line in explain(old, new))


def test_explain_names_files_distributions_and_variables() -> None:
    old = _parts(
        inputs={"a.py": "100644 1", "b.py": "100644 2", "gone.py": "100644 3"},
        env={"DJANGO_SETTINGS_MODULE": "aa"},
        tool={"tool": "ruff", "kind": "python tool", "environment": "env1"},
        environments={
            "env1 python": "3.11.7",
            "env1 dist:ruff": "0.5.0",
            "env1 dist:mypy": "1.0",
            "env1 files:mypy": "aaaa",
            "env2 python": "3.11.2",
        },
    )
    new = _parts(
        inputs={"a.py": "100755 1", "b.py": "100644 9", "new.py": "100644 4"},
        env={"DJANGO_SETTINGS_MODULE": "bb"},
        tool={"tool": "ruff", "kind": "python tool", "environment": "env1"},
        environments={
            "env1 python": "3.12.1",
            "env1 dist:ruff": "0.6.0",
            "env1 dist:mypy": "1.0",
            "env1 files:mypy": "bbbb",
            "env3 python": "3.13.0",
        },
    )
    text = "\n".join(explain(old, new))
    assert "input files changed: a.py, b.py" in text
    assert "file mode or type changed: a.py" in text
    assert "input files added: new.py" in text
    assert "input files removed: gone.py" in text
    assert "variables changed: DJANGO_SETTINGS_MODULE" in text
    assert "env1: distributions changed: ruff 0.5.0 -> 0.6.0" in text
    assert "env1: python 3.11.7 -> 3.12.1" in text
    assert "env1: reinstalled in place with other files: mypy 1.0" in text
    assert "environment env2: no longer reachable on its PATH" in text
    assert "env3: now reachable on its PATH" in text


def test_a_key_of_the_first_format_reads_back_and_differs() -> None:
    old = parts_from_data({"format": 1, "stage": {}, "inputs": {}, "env": {}, "tool": {}})
    assert old.environments == {} and old.digest() != _parts().digest()
    assert explain(old, _parts())[0] == f"cache format: 1 -> {CACHE_FORMAT}"


def test_export_and_import_carry_only_valid_entries(tmp_path: Path) -> None:
    import tarfile

    source = CacheStore(tmp_path / "a", 10**6)
    parts = [_parts(str(n)) for n in range(3)]
    for part in parts:
        source.put(_entry(part), b"log\n")
    archive = tmp_path / "cache.tar"
    assert export_cache(source, archive).entries == 3
    with tarfile.open(archive, "a") as tar:  # a foreign member and a path escape
        evil = tmp_path / "evil.entry"
        evil.write_bytes(b"not an entry")
        tar.add(evil, arcname="../../" + "0" * 64 + ".entry")
        tar.add(evil, arcname="README")
    target = CacheStore(tmp_path / "b", 10**6)
    moved = import_cache(target, archive)
    assert (moved.entries, moved.skipped) == (3, 2)
    assert all(target.get(p.digest()) is not None for p in parts)
    assert not (tmp_path / ("0" * 64 + ".entry")).exists()


def test_the_archive_changes_only_when_the_entries_do(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "c", 10**6)
    first, second = _parts("1"), _parts("2")
    store.put(_entry(first), b"log\n")
    export_cache(store, tmp_path / "one.tar")
    assert store.get(first.digest()) is not None  # a hit moves its LRU stamp, nothing else
    export_cache(store, tmp_path / "two.tar")
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    store.put(_entry(second), b"log\n")
    export_cache(store, tmp_path / "three.tar")
    assert (tmp_path / "three.tar").read_bytes() != (tmp_path / "one.tar").read_bytes()
