"""The redactor: every disguise of a secret goes, the rest of a message stays readable."""

from datetime import UTC, datetime

import pytest

from custom_components.ecostruxure.api.pacing import MAX_RETRY_AFTER, parse_retry_after
from custom_components.ecostruxure.api.redact import MAX_TEXT, REDACTED, Redactor

KEY = "AK1/p4rtn3r+Key/7Hq2Wz9=Lx5Vb8Nm"


@pytest.mark.parametrize(
    "echo",
    [
        KEY,
        KEY.upper(),
        "AK1%2Fp4rtn3r%2BKey%2F7Hq2Wz9%3DLx5Vb8Nm",
        "ak1%2fp4rtn3r%2bkey%2f7hq2wz9%3dlx5vb8nm",
        "AK1/p4rtn3r%2BKey/7Hq2Wz9%3DLx5Vb8Nm",  # quote() keeps "/"
        "p4rtn3r+",  # 8 characters of it
        "Lx5Vb8Nm",
    ],
)
def test_every_form_of_a_secret_is_redacted(echo: str) -> None:
    redact = Redactor([f"bearer {KEY}", KEY])
    assert redact(f"You sent <{echo}>, try again") == f"You sent <{REDACTED}>, try again"


def test_shorter_runs_and_other_words_stay() -> None:
    redact = Redactor([KEY])
    text = "Invalid subscription key: p4rtn3r is not a partner"  # 7 characters of it
    assert redact(text) == text


def test_texts_are_cut_short() -> None:
    redact = Redactor([KEY])
    assert len(redact("x" * 1_000_000)) == MAX_TEXT
    assert redact("é" * 10 + KEY) == "é" * 10 + REDACTED
    assert redact("İ" * 3 + KEY) == "İ" * 3 + REDACTED  # lower() makes İ two characters


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("99999999", MAX_RETRY_AFTER),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("3599", 3599.0),
    ],
)
def test_retry_after_is_at_most_an_hour(header: str, expected: float) -> None:
    assert parse_retry_after(header, datetime(2026, 1, 1, tzinfo=UTC)) == expected
