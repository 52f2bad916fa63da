"""Secret masking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.masking import MASK, Masker, secret_values


def test_secret_names_are_recognised() -> None:
    # Fake values: the point of the test is that they look like secrets.
    env = dict(
        [
            ("GITHUB_TOKEN", "ghp_abcdef"),
            ("DB_PASSWORD", "hunter22"),
            ("API_KEY", "k-12345"),
            ("MY_SECRET_X", "s3cr3t!"),
            ("PATH", "/usr/bin"),
            ("SHORT_TOKEN", "ab"),
        ]
    )
    values = secret_values(env)
    assert set(values) == {"ghp_abcdef", "hunter22", "k-12345", "s3cr3t!"}


def test_overlapping_secrets_mask_the_longest() -> None:
    masker = Masker(["abcd", "abcdefgh"])
    assert masker.mask("x abcdefgh y abcd") == f"x {MASK} y {MASK}"
    assert masker.mask_bytes(b"abcdefgh") == MASK.encode()


@given(st.text(min_size=4, max_size=12).filter(lambda s: "*" not in s), st.text(max_size=40))
def test_a_masked_value_never_survives(secret: str, text: str) -> None:
    masked = Masker([secret]).mask(text + secret + text)
    assert secret not in masked
