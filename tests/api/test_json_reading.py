"""The bounded readers both services' parsers share."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ecostruxure.api.facility_expert.parsing import parse_sites_page
from custom_components.ecostruxure.api.json_reading import (
    ID_MAX,
    INT64_MAX,
    bounded_int,
    clean_text,
    finite_float,
    opaque_id,
    sane_datetime,
)

NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def test_clean_text_cuts_and_strips_controls() -> None:
    assert clean_text("  Main\x00board\r\n ") == "Main board"
    assert clean_text("\u202eevil\u2066") == "evil"
    assert clean_text("x" * 10_000_000) == "x" * 255
    assert clean_text("message " * 1000, 1024) is not None
    assert len(clean_text("m" * 5000, 1024) or "") == 1024
    assert clean_text("kWh" * 100, 32) == ("kWh" * 11)[:32]
    assert clean_text("\x00\x01\x1b") is None
    assert clean_text("") is None
    assert clean_text(42) is None
    assert clean_text("Zürich – 20 °C") == "Zürich – 20 °C"


def test_ids_too_long_are_refused_not_cut() -> None:
    assert opaque_id("a" * ID_MAX) == "a" * ID_MAX
    assert opaque_id("a" * (ID_MAX + 1)) is None
    assert opaque_id(12) == "12"
    assert opaque_id(10**400) is None
    assert opaque_id(True) is None
    assert opaque_id("") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (-2.5, -2.5),
        ("3.25", 3.25),
        (10**400, None),
        (-(10**400), None),
        ("1e999", None),
        ("nan", None),
        ("-inf", None),
        (float("nan"), None),
        ("9" * 10_000, None),
        ("abc", None),
        (True, None),
        (None, None),
    ],
)
def test_finite_float(value: object, expected: float | None) -> None:
    assert finite_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (INT64_MAX, INT64_MAX),
        (INT64_MAX + 1, None),
        (-1, None),
        ("42", 42),
        (str(INT64_MAX), INT64_MAX),
        ("9" * 20, None),
        ("9" * 5000, None),  # int() would raise ValueError past 4,300 digits
        ("٣", None),  # a decimal digit, not ASCII
        (1.0, None),
        (False, None),
    ],
)
def test_bounded_int(value: object, expected: int | None) -> None:
    assert bounded_int(value) == expected


def test_sane_datetime_window() -> None:
    assert sane_datetime("2026-06-15T09:00:00Z", NOW) == datetime(2026, 6, 15, 9, tzinfo=UTC)
    assert sane_datetime("2026-06-15T09:00:00", NOW) == datetime(2026, 6, 15, 9, tzinfo=UTC)
    assert sane_datetime((NOW - timedelta(days=365 * 19)).isoformat(), NOW) is not None
    assert sane_datetime((NOW + timedelta(hours=23)).isoformat(), NOW) is not None
    assert sane_datetime((NOW - timedelta(days=366 * 21)).isoformat(), NOW) is None
    assert sane_datetime((NOW + timedelta(days=2)).isoformat(), NOW) is None
    assert sane_datetime("9999-12-31T23:59:59Z", NOW) is None
    assert sane_datetime("0001-01-01T00:00:00+05:00", NOW) is None
    assert sane_datetime("9999-12-31T23:59:59-05:00", NOW) is None
    assert sane_datetime("not a date", NOW) is None
    assert sane_datetime("2" * 100_000, NOW) is None
    assert sane_datetime(1_700_000_000, NOW) is None
    # Without `now`, the window is around the current time.
    assert sane_datetime(datetime.now(UTC).isoformat()) is not None
    assert sane_datetime((datetime.now(UTC) + timedelta(days=3)).isoformat()) is None


def test_an_object_named_by_a_long_id_gets_a_name_of_bounded_length() -> None:
    page = parse_sites_page({"sites": [{"id": "s" * ID_MAX}, {"id": "x" * (ID_MAX + 1)}]})
    assert [site.id for site in page.items] == ["s" * ID_MAX]  # the longer id: skipped
    assert page.items[0].name == "s" * 255
