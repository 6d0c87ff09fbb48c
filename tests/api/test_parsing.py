"""The parsers accept what the inferred contract allows and reject the rest cleanly."""

from collections.abc import Callable
import contextlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ecostruxure.api import (
    AlarmType,
    InvalidResponseError,
    Quantity,
    Severity,
)
from custom_components.ecostruxure.api.facility_expert.parsing import (
    parse_alarms_page,
    parse_assets,
    parse_datetime,
    parse_latest_values,
    parse_series_page,
    parse_site_detail,
    parse_sites_page,
)
from custom_components.ecostruxure.api.json_reading import parse_field_errors
from custom_components.ecostruxure.api.pacing import parse_retry_after

PARSERS: list[Callable[[object], object]] = [
    parse_sites_page,
    parse_site_detail,
    parse_assets,
    parse_latest_values,
    parse_series_page,
    parse_alarms_page,
    parse_field_errors,
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["2026-11-22T10:00:00+01:00", "2026-11-22T10:00:00", "x1", "L1"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "sites",
                    "assets",
                    "values",
                    "series",
                    "alarms",
                    "totalCount",
                    "measurements",
                    "quantity",
                    "measurementId",
                    "timestamp",
                    "value",
                    "assetId",
                    "type",
                    "activatedAt",
                    "clearedAt",
                    "gateways",
                    "address",
                    "nextCursor",
                    "errors",
                    "alarmTypes",
                    "parentId",
                    "severity",
                    "city",
                    "reason",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=8,
        )
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda parser: parser.__name__)
@settings(max_examples=300, deadline=None)
@given(payload=json_values)
def test_any_json_gives_a_model_or_invalid_response(
    parser: Callable[[object], object], payload: object
) -> None:
    """Whatever JSON the service sends, a parser never raises anything but its own error."""
    with contextlib.suppress(InvalidResponseError):
        parser(payload)


def test_sites_wrapped_or_bare_unknown_fields_ignored_int_ids_kept_as_strings() -> None:
    site = {
        "id": 42,
        "name": "Siège social",
        "address": {"city": "Rueil-Malmaison", "country": "FR", "zipCode": None},
        "timeZone": "Europe/Paris",
        "latitude": "48.87",
        "longitude": None,
        "connectionStatus": "degraded",
        "lastCommunication": "2026-11-22T09:00:00Z",
        "brandNewField": {"nested": True},
    }
    wrapped = parse_sites_page({"sites": [site], "totalCount": 1})
    bare = parse_sites_page([site])
    assert wrapped.items == bare.items
    assert wrapped.total_count == 1
    assert bare.total_count is None
    parsed = wrapped.items[0]
    assert parsed.id == "42"
    assert parsed.name == "Siège social"
    assert parsed.address.city == "Rueil-Malmaison"
    assert parsed.address.zip_code is None
    assert parsed.latitude == 48.87
    assert parsed.longitude is None
    assert parsed.connection_status == "degraded"  # an unknown status is kept
    assert parsed.last_communication == datetime(2026, 11, 22, 9, tzinfo=UTC)


def test_malformed_items_are_skipped_and_the_rest_kept() -> None:
    page = parse_sites_page(
        {"sites": [{"name": "no id"}, "not an object", {"id": "s2"}, {"id": True}]}
    )
    assert [site.id for site in page.items] == ["s2"]
    assert page.items[0].name == "s2"  # a missing name falls back to the id


@pytest.mark.parametrize("payload", [None, 3, "sites", {"sites": "x"}, {"other": []}])
def test_wrong_shape_is_an_invalid_response(payload: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_sites_page(payload)


def test_site_detail_with_gateways() -> None:
    detail = parse_site_detail(
        {
            "id": "s1",
            "name": "Lyon",
            "gateways": [
                {"id": "g1", "name": "PAS600", "serialNumber": "SN1", "firmwareVersion": None},
                {"name": "no id"},
            ],
        }
    )
    assert detail.site.id == "s1"
    assert [gateway.serial_number for gateway in detail.gateways] == ["SN1"]
    assert parse_site_detail({"id": "s1", "gateways": None}).gateways == ()
    with pytest.raises(InvalidResponseError):
        parse_site_detail({"name": "no id"})
    with pytest.raises(InvalidResponseError):
        parse_site_detail([{"id": "s1"}])


def test_assets_keep_unknown_types_quantities_and_alarm_types() -> None:
    assets = parse_assets(
        {
            "assets": [
                {
                    "id": "a1",
                    "name": "TGBT",
                    "type": "ups",
                    "parentId": None,
                    "measurements": [
                        {"id": "m1", "name": "Énergie", "quantity": "active_energy", "unit": "kWh"},
                        {"id": "m2", "name": "THD", "quantity": "thd_voltage", "phase": "L1"},
                        {"id": "m3", "name": "no quantity"},
                    ],
                    "alarmTypes": ["overload", "arc_flash", 7, None],
                },
                {"id": "a2", "name": "Feeder", "type": "feeder", "parentId": "a1"},
            ]
        }
    )
    ups, feeder = assets
    assert ups.type == "ups"
    assert [m.quantity for m in ups.measurements] == [Quantity.ACTIVE_ENERGY, "thd_voltage"]
    assert ups.measurements[1].phase == "L1"
    assert ups.alarm_types == (AlarmType.OVERLOAD, "arc_flash")
    assert feeder.parent_id == "a1"
    assert feeder.measurements == ()


def test_latest_values_null_and_non_finite_values_are_none() -> None:
    values = parse_latest_values(
        {
            "values": [
                {
                    "measurementId": "m1",
                    "assetId": "a1",
                    "timestamp": "2026-11-22T10:00:00+01:00",
                    "value": 21.5,
                },
                {"measurementId": "m2", "timestamp": "2026-11-22T10:00:00Z", "value": None},
                {"measurementId": "m3", "timestamp": "2026-11-22T10:00:00Z", "value": float("inf")},
                {"measurementId": "m4", "timestamp": "2026-11-22T10:00:00Z", "value": True},
                {"measurementId": "m5", "timestamp": "yesterday", "value": 1},
            ]
        }
    )
    assert [(v.measurement_id, v.value) for v in values] == [
        ("m1", 21.5),
        ("m2", None),
        ("m3", None),
        ("m4", None),
    ]
    assert values[0].timestamp == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert values[0].asset_id == "a1"
    assert values[1].asset_id is None


def test_latest_values_equal_to_the_previous_ones_are_those_objects() -> None:
    def answer(*values: tuple[str, str, float | None]) -> dict[str, object]:
        return {
            "values": [
                {"measurementId": m, "assetId": "a1", "timestamp": stamp, "value": value}
                for m, stamp, value in values
            ]
        }

    first = parse_latest_values(
        answer(
            ("m1", "2026-11-22T10:00:00Z", 1.0),
            ("m2", "2026-11-22T10:00:00Z", 2.0),
            ("m3", "2026-11-22T10:00:00Z", None),
            ("m4", "2026-11-22T10:00:00Z", 4.0),
        )
    )
    previous = {v.measurement_id: v for v in first}
    second = parse_latest_values(
        answer(
            ("m1", "2026-11-22T10:00:00Z", 1.0),  # unchanged
            ("m2", "2026-11-22T10:00:00Z", 2.5),  # a new value
            ("m3", "2026-11-22T10:00:00Z", None),  # still no value
            ("m4", "2026-11-22T10:10:00Z", 4.0),  # the same value, read again later
        ),
        previous,
    )
    assert [v is previous[v.measurement_id] for v in second] == [True, False, True, False]
    assert [v.value for v in second] == [1.0, 2.5, None, 4.0]
    assert second[3].timestamp == datetime(2026, 11, 22, 10, 10, tzinfo=UTC)


def test_latest_values_like_the_previous_ones_are_read_as_any_other() -> None:
    """Only an item exactly as the previous value was read is taken for it; the rest are read."""
    stamp = "2026-11-22T10:00:00Z"
    first = parse_latest_values(
        {
            "values": [
                {"measurementId": m, "assetId": "a1", "timestamp": stamp, "value": 1.0}
                for m in ("m1", "m2", "m3", "m4", "m5", "m6")
            ]
        }
    )
    previous = {v.measurement_id: v for v in first}
    second = parse_latest_values(
        {
            "values": [
                {"measurementId": "m1", "assetId": "a1", "timestamp": stamp, "value": True},
                {"measurementId": "m2", "assetId": "a1", "timestamp": stamp, "value": 1},
                {"measurementId": "m3", "assetId": "a2", "timestamp": stamp, "value": 1.0},
                {"measurementId": "m4", "assetId": "a1", "timestamp": "1900-01-01", "value": 1.0},
                ["m5", "a1", stamp, 1.0],
                {"measurementId": "m5", "assetId": "a1", "timestamp": stamp, "value": "1.0"},
                {"measurementId": "m6", "assetId": "a1", "timestamp": stamp, "value": 1.0},
                {"measurementId": "m7", "assetId": "a1", "timestamp": stamp, "value": 1.0},
            ]
        },
        previous,
    )
    # A boolean is no number; an integer or a numeric string equal to the value is the value.
    assert [(v.measurement_id, v.value, v.asset_id) for v in second] == [
        ("m1", None, "a1"),
        ("m2", 1.0, "a1"),
        ("m3", 1.0, "a2"),
        ("m5", 1.0, "a1"),
        ("m6", 1.0, "a1"),
        ("m7", 1.0, "a1"),
    ]
    assert [v is previous.get(v.measurement_id) for v in second] == [
        False,
        True,
        False,
        True,
        True,
        False,
    ]


_latest_fields = st.fixed_dictionaries(
    {},
    optional={
        "measurementId": st.sampled_from(["m1", "m2", "m3", "", 7, "x" * 300, None]),
        "assetId": st.sampled_from(["a1", "a2", "", 7, None, ["a1"]]),
        "timestamp": st.sampled_from(
            [
                "2026-11-22T10:00:00Z",
                "2026-11-22T10:00:00+00:00",  # the same instant, written otherwise
                "2026-11-22T11:00:00Z",
                "1900-01-01T00:00:00Z",
                "not a time",
                "",
                0,
                None,
                ["x"],
            ]
        ),
        "value": st.sampled_from([1.0, 1, "1.0", True, None, 2.5, float("nan"), 1e400, "x"]),
    },
)


@settings(max_examples=300)
@given(before=st.lists(_latest_fields, max_size=6), now=st.lists(_latest_fields, max_size=6))
def test_latest_values_read_against_previous_ones_as_without(
    before: list[dict[str, object]], now: list[dict[str, object]]
) -> None:
    """Reading against the previous answer's values changes no value read, only which object."""
    previous = {v.measurement_id: v for v in parse_latest_values({"values": before})}
    alone = parse_latest_values({"values": now})
    against = parse_latest_values({"values": now}, previous)
    assert [(v.measurement_id, v.timestamp, v.value, v.asset_id) for v in against] == [
        (v.measurement_id, v.timestamp, v.value, v.asset_id) for v in alone
    ]


def test_series_points_sorted_and_cursor_read() -> None:
    page = parse_series_page(
        {
            "series": [
                {
                    "measurementId": "m1",
                    "unit": "kWh",
                    "interval": "hour",
                    "values": [
                        {"timestamp": "2026-11-22T02:00:00Z", "value": 12},
                        {"timestamp": "2026-11-22T01:00:00Z", "value": 10},
                        {"timestamp": None, "value": 11},
                    ],
                },
                {"measurementId": "m2"},
            ],
            "nextCursor": "abc",
        }
    )
    first, second = page.series
    assert [point.value for point in first.points] == [10.0, 12.0]
    assert second.points == ()
    assert page.next_cursor == "abc"
    assert parse_series_page({"series": [], "nextCursor": ""}).next_cursor is None


def test_alarms_active_while_not_cleared_unknown_severity_kept() -> None:
    page = parse_alarms_page(
        {
            "alarms": [
                {
                    "id": "x1",
                    "assetId": "a1",
                    "type": "trip",
                    "severity": "critical",
                    "activatedAt": "2026-11-22T08:00:00Z",
                    "clearedAt": None,
                    "acknowledged": False,
                },
                {
                    "id": "x2",
                    "assetId": "a1",
                    "type": "arc_flash",
                    "severity": "catastrophic",
                    "activatedAt": "2026-11-22T07:00:00Z",
                    "clearedAt": "2026-11-22T07:30:00Z",
                },
                {"id": "x3", "type": "trip", "activatedAt": "2026-11-22T07:00:00Z"},
            ],
            "totalCount": 3,
        }
    )
    active, cleared = page.items
    assert active.active
    assert active.severity == Severity.CRITICAL
    assert active.acknowledged is False
    assert not cleared.active
    assert cleared.type == "arc_flash"
    assert cleared.severity == "catastrophic"
    assert cleared.acknowledged is None
    assert page.total_count == 3


def test_timestamps_are_aware() -> None:
    assert parse_datetime("2026-11-22T10:00:00") == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert parse_datetime("2026-11-22T10:00:00+09:00") == datetime(
        2026, 11, 22, 10, tzinfo=timezone(timedelta(hours=9))
    )
    assert parse_datetime("not a date") is None
    assert parse_datetime(1700000000) is None


def test_field_errors() -> None:
    errors = parse_field_errors(
        [{"name": "limit", "reason": "must be <= 200"}, {"message": "bad"}, {}, "x"]
    )
    assert [(e.name, e.reason) for e in errors] == [("limit", "must be <= 200"), ("", "bad")]
    assert parse_field_errors(None) == ()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("  ", None),
        ("12", 12.0),
        ("-5", 0.0),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:28:00", 0.0),
    ],
)
def test_retry_after_header(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_http_date_in_the_future() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", now) == 90.0
