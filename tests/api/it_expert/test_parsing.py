"""The IT Expert parsers accept the contract's alternatives and reject the rest cleanly."""

from collections.abc import Callable
import contextlib
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
import json
import logging

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ecostruxure.api import InvalidResponseError
from custom_components.ecostruxure.api.it_expert import (
    Change,
    InventoryKind,
    InventoryObject,
    ITSeverity,
    SensorReading,
    SensorValueType,
)
from custom_components.ecostruxure.api.it_expert.parsing import (
    parse_alarm_changes,
    parse_alarms,
    parse_device,
    parse_inventory,
    parse_inventory_changes,
    parse_organizations,
    parse_sensor_changes,
    parse_sensors,
    parse_severity,
)
from custom_components.ecostruxure.api.it_expert.stream_lines import StreamSignal, parse_stream_line

PARSERS: list[Callable[[object], object]] = [
    parse_organizations,
    parse_inventory,
    partial(parse_inventory, organization_id="org-1"),
    parse_inventory_changes,
    partial(parse_inventory_changes, organization_id="org-1"),
    parse_device,
    parse_sensors,
    parse_sensor_changes,
    parse_alarms,
    parse_alarm_changes,
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2026-11-28T10:15:30Z",
            "2026-11-28T10:15:30",
            "org-1",
            "Device",
            "location",
            "COMPLETED",
            "RATE_LIMIT_REACHED",
            "NUMERIC",
            "critical",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "offset",
                    "organizations",
                    "organizationIds",
                    "ids",
                    "items",
                    "inventoryObjects",
                    "inventoryObjectChanges",
                    "inventoryObject",
                    "inventoryObjectId",
                    "inventoryObjectType",
                    "@type",
                    "device",
                    "ancestors",
                    "label",
                    "type",
                    "parentId",
                    "locationId",
                    "gatewayIds",
                    "modelName",
                    "serialNumber",
                    "sensors",
                    "sensorChanges",
                    "sensor",
                    "sensorId",
                    "unit",
                    "valueType",
                    "deviceId",
                    "alarms",
                    "severity",
                    "message",
                    "text",
                    "activatedTime",
                    "clearedTime",
                    "alarmReactivationCount",
                    "timestamp",
                    "numericValue",
                    "stringValue",
                    "replaySystemMessageType",
                    "systemMessageType",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=8,
        )
    ),
    max_leaves=30,
)


def _parser_id(parser: Callable[[object], object]) -> str:
    if isinstance(parser, partial):
        return f"{parser.func.__name__}-with-organization"
    return parser.__name__


@pytest.mark.parametrize("parser", PARSERS, ids=_parser_id)
@settings(max_examples=300, deadline=None)
@given(payload=json_values)
def test_any_json_gives_a_model_or_invalid_response(
    parser: Callable[[object], object], payload: object
) -> None:
    """Whatever JSON the service sends, a parser never raises anything but its own error."""
    with contextlib.suppress(InvalidResponseError):
        parser(payload)


@settings(max_examples=500, deadline=None)
@given(document=json_values, raw=st.binary(max_size=40) | st.text(max_size=40))
def test_any_stream_line_gives_a_reading_a_signal_or_nothing(
    document: object, raw: bytes | str
) -> None:
    """A stream line never raises: it is a reading, a signal, or skipped."""
    for line in (json.dumps(document), json.dumps(document).encode(), raw):
        assert isinstance(parse_stream_line(line), SensorReading | StreamSignal | type(None))


# --- organizations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        ["org-1", "org-2"],
        [{"id": "org-1", "label": "Flamingo"}, {"id": "org-2"}],
        {"organizations": ["org-1", "org-2"]},
        {"organizationIds": ["org-1", "org-2"]},
        {"ids": [{"id": "org-1"}, "org-2"]},
        {"items": ["org-1", "org-2"], "total": 2},
        {"organizations": None, "ids": ["org-1", "org-2"]},
    ],
)
def test_organizations_accept_every_shape_of_the_contract(payload: object) -> None:
    assert parse_organizations(payload) == ("org-1", "org-2")


def test_organizations_skip_bad_ids_keep_order_drop_repeats_and_take_ints() -> None:
    payload = ["org-2", None, "", True, {"label": "no id"}, 17, "org-1", "org-2", [1]]
    assert parse_organizations(payload) == ("org-2", "17", "org-1")
    assert parse_organizations([]) == ()


@pytest.mark.parametrize("payload", [None, "org-1", 3, {}, {"organizations": "org-1"}])
def test_organizations_of_a_wrong_shape_are_invalid(payload: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_organizations(payload)


# --- inventory --------------------------------------------------------------------------

INVENTORY = {
    "offset": 24,
    "inventoryObjects": [
        {
            "inventoryObjectType": "Organization",
            "id": "org-1",
            "label": "Flamingo Inc.",
            "address": "Silcon Alle 1, 6000 Kolding, Denmark",
        },
        {
            "inventoryObjectType": "Location",
            "id": "loc-1",
            "label": "DC-Room 1",
            "type": "ROOM",
            "parentId": "loc-0",
        },
        {
            "inventoryObjectType": "Device",
            "id": "dev-1",
            "label": "Rack PDU 28A",
            "type": "RPDU",
            "locationId": "loc-1",
            "parentId": None,
            "modelName": "AP8858",
            "serialNumber": "ZA1234567890",
            "gatewayIds": ["gw-1", 7, None, "gw-2"],
            "warrantyExpirationDate": "2027-03-31",
            "brandNewField": {"nested": True},
        },
    ],
}


def test_inventory_of_the_contract() -> None:
    snapshot = parse_inventory(INVENTORY, "org-1")
    assert snapshot.offset == 24
    organization, location, device = snapshot.items
    assert organization == InventoryObject(
        "org-1",
        InventoryKind.ORGANIZATION,
        label="Flamingo Inc.",
        address="Silcon Alle 1, 6000 Kolding, Denmark",
    )
    assert location == InventoryObject(
        "loc-1", InventoryKind.LOCATION, label="DC-Room 1", type="ROOM", parent_id="loc-0"
    )
    assert device == InventoryObject(
        "dev-1",
        InventoryKind.DEVICE,
        label="Rack PDU 28A",
        type="RPDU",
        location_id="loc-1",
        model="AP8858",
        serial_number="ZA1234567890",
        gateway_ids=("gw-1", "gw-2"),
    )


@pytest.mark.parametrize("name", ["inventoryObjectType", "objectType", "@type", "discriminator"])
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Organization", InventoryKind.ORGANIZATION),
        ("LOCATION", InventoryKind.LOCATION),
        ("device", InventoryKind.DEVICE),
        ("InventoryObjectDevice", InventoryKind.DEVICE),
    ],
)
def test_each_discriminator_name_and_any_case(name: str, value: str, kind: InventoryKind) -> None:
    # The object's own fields would say otherwise: the discriminator wins.
    item = {name: value, "id": "x", "type": "UPS", "modelName": "SMX750I"}
    assert parse_inventory({"offset": 1, "inventoryObjects": [item]}).items[0].kind is kind


def test_the_first_discriminator_present_decides() -> None:
    item = {"inventoryObjectType": None, "objectType": "Location", "@type": "Device", "id": "x"}
    assert parse_inventory({"offset": 1, "inventoryObjects": [item]}).items[0].kind is (
        InventoryKind.LOCATION
    )


def test_without_a_discriminator_the_fields_tell_the_kind() -> None:
    items = [
        {"id": "org-1", "label": "Flamingo"},  # the organization's id
        {"id": "d1", "locationId": None},  # a device field, even null
        {"id": "d2", "gatewayIds": []},
        {"id": "d3", "modelName": "AP8858"},
        {"id": "d4", "serialNumber": "SN", "type": "UPS"},
        {"id": "l1", "type": "RACK"},
        {"id": "nothing", "label": "no type, not the organization"},
    ]
    kinds = {
        item.id: item.kind
        for item in parse_inventory({"offset": 1, "inventoryObjects": items}, "org-1").items
    }
    assert kinds == {
        "org-1": InventoryKind.ORGANIZATION,
        "d1": InventoryKind.DEVICE,
        "d2": InventoryKind.DEVICE,
        "d3": InventoryKind.DEVICE,
        "d4": InventoryKind.DEVICE,
        "l1": InventoryKind.LOCATION,
    }
    # Without the organization's id, its object cannot be told apart: skipped.
    without = parse_inventory({"offset": 1, "inventoryObjects": items}).items
    assert [item.id for item in without] == ["d1", "d2", "d3", "d4", "l1"]


def test_model_and_serial_alternatives_and_int_ids() -> None:
    items = [
        {"@type": "Device", "id": 42, "model": "SMX750I", "serial": "AS1", "parentId": 41},
        {"@type": "Device", "id": "d", "modelName": "A", "model": "B", "serialNumber": "S"},
    ]
    first, second = parse_inventory({"offset": 1, "inventoryObjects": items}).items
    assert (first.id, first.model, first.serial_number, first.parent_id) == (
        "42",
        "SMX750I",
        "AS1",
        "41",
    )
    assert (second.model, second.serial_number) == ("A", "S")


def test_bad_inventory_items_are_skipped_the_rest_kept(caplog: pytest.LogCaptureFixture) -> None:
    items = [
        "not an object",
        {"@type": "Device"},  # no id
        {"@type": "Gateway", "id": "g1"},  # a kind this client does not know
        {"@type": "Device", "id": True},
        {"@type": "Device", "id": "d1", "label": 5, "type": None, "gatewayIds": "gw"},
    ]
    with caplog.at_level(logging.DEBUG):
        snapshot = parse_inventory({"offset": "31", "inventoryObjects": items})
    assert snapshot.offset == 31  # an int64 sent as its decimal string
    assert snapshot.items == (InventoryObject("d1", InventoryKind.DEVICE),)
    assert "unknown inventory object kind (7 characters)" in caplog.text
    assert "Gateway" not in caplog.text  # no text of the answer is quoted


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"inventoryObjects": []},  # no offset: nothing to continue from
        {"offset": -1, "inventoryObjects": []},
        {"offset": True, "inventoryObjects": []},
        {"offset": "12a", "inventoryObjects": []},
        {"offset": 1.5, "inventoryObjects": []},
        {"offset": 1},  # no list: an empty snapshot would delete everything
        {"offset": 1, "inventoryObjects": None},
    ],
)
def test_inventory_of_a_wrong_shape_is_invalid(payload: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_inventory(payload)


def test_inventory_changes_upserts_and_deletes_in_order() -> None:
    changes = parse_inventory_changes(
        {
            "offset": 25,
            "inventoryObjectChanges": [
                {
                    "@type": "InventoryObjectCreateOrUpdate",
                    "inventoryObject": {"@type": "Device", "id": "3", "label": "dev-3-modified"},
                },
                {"@type": "InventoryObjectDelete", "inventoryObjectId": "2"},
                {"inventoryObjectId": 9},
                {"inventoryObject": {"id": "no kind"}},  # skipped
                {"inventoryObject": None, "inventoryObjectId": None},  # skipped
                {"unknown": "change"},  # skipped
                {"inventoryObject": {"id": "org-1"}},
            ],
        },
        "org-1",
    )
    assert changes.offset == 25
    assert changes.caught_up
    assert changes.changes == (
        Change(item=InventoryObject("3", InventoryKind.DEVICE, label="dev-3-modified")),
        Change(deleted_id="2"),
        Change(deleted_id="9"),
        Change(item=InventoryObject("org-1", InventoryKind.ORGANIZATION)),
    )


@pytest.mark.parametrize(
    "payload", [None, {"offset": 3}, {"inventoryObjectChanges": []}, {"offset": 3, "x": []}]
)
def test_inventory_changes_of_a_wrong_shape_are_invalid(payload: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_inventory_changes(payload)


def test_device_with_its_ancestors_nearest_first() -> None:
    parsed = parse_device(
        {
            # No discriminator and nothing device-like: the field says it is a device.
            "device": {"id": "dev-9", "label": "SETC SMX750I", "type": "UPS"},
            "ancestors": [
                {"@type": "Location", "id": "rack28", "type": "RACK", "parentId": "room1"},
                {"@type": "Location", "id": "room1", "type": "ROOM"},
                {"broken": True},
                {"id": "org-1", "label": "Schneider Electric"},
            ],
        },
        "org-1",
    )
    assert parsed.device == InventoryObject(
        "dev-9", InventoryKind.DEVICE, label="SETC SMX750I", type="UPS"
    )
    assert [(a.id, a.kind) for a in parsed.ancestors] == [
        ("rack28", InventoryKind.LOCATION),
        ("room1", InventoryKind.LOCATION),
        ("org-1", InventoryKind.ORGANIZATION),
    ]
    assert parse_device({"device": {"id": "d"}, "ancestors": None}).ancestors == ()
    assert parse_device({"device": {"id": "d"}}).ancestors == ()


@pytest.mark.parametrize(
    "payload", [None, [], {}, {"device": None}, {"device": "d"}, {"device": {"label": "no id"}}]
)
def test_device_of_a_wrong_shape_is_invalid(payload: object) -> None:
    with pytest.raises(InvalidResponseError):
        parse_device(payload)


# --- sensors ----------------------------------------------------------------------------


def test_sensors_of_the_contract_and_their_value_types() -> None:
    snapshot = parse_sensors(
        {
            "offset": 7,
            "sensors": [
                {
                    "id": "sen-1",
                    "deviceId": "dev-1",
                    "label": "Load",
                    "unit": "%",
                    "type": "LOAD",
                    "valueType": "NUMERIC",
                },
                {
                    "id": "sen-2",
                    "deviceId": "dev-1",
                    "label": "Status",
                    "unit": None,
                    "type": "STATUS",
                    "valueType": "STRING",
                },
                # valueType decides, whatever the unit or type say
                {"id": "s3", "unit": "V", "type": "VOLTAGE", "valueType": "string"},
                {"id": "s4", "type": "STATUS", "valueType": "Numeric"},
                # without a (known) valueType: a unit, or a numeric word in the type
                {"id": "s5", "unit": "°C"},
                {"id": "s6", "type": "INPUT_VOLTAGE_L1", "valueType": "BOOLEAN"},
                {"id": "s7", "type": "battery-runtime"},
                {"id": "s8", "type": "OPERATING_MODE"},
                {"id": "s9"},
                {"deviceId": "no id"},
                {"id": 10, "deviceId": 11},
            ],
        }
    )
    assert snapshot.offset == 7
    value_types = {sensor.id: sensor.value_type for sensor in snapshot.items}
    assert value_types == {
        "sen-1": SensorValueType.NUMERIC,
        "sen-2": SensorValueType.STRING,
        "s3": SensorValueType.STRING,
        "s4": SensorValueType.NUMERIC,
        "s5": SensorValueType.NUMERIC,
        "s6": SensorValueType.NUMERIC,
        "s7": SensorValueType.NUMERIC,
        "s8": SensorValueType.STRING,
        "s9": SensorValueType.STRING,
        "10": SensorValueType.STRING,
    }
    load = snapshot.items[0]
    assert (load.device_id, load.label, load.unit, load.type) == ("dev-1", "Load", "%", "LOAD")
    assert snapshot.items[1].unit is None
    assert snapshot.items[-1].device_id == "11"


def test_sensor_changes_upserts_and_deletes() -> None:
    changes = parse_sensor_changes(
        {
            "offset": 8,
            "sensorChanges": [
                {"sensor": {"id": "sen-1", "unit": "%"}},
                {"sensorId": "sen-2"},
                {"sensor": {"label": "no id"}},
                {"sensor": "x", "sensorId": None},
            ],
        }
    )
    assert changes.offset == 8
    assert [(c.item.id if c.item else None, c.deleted_id) for c in changes.changes] == [
        ("sen-1", None),
        (None, "sen-2"),
    ]


@pytest.mark.parametrize(
    ("parser", "payload"),
    [
        (parse_sensors, [{"id": "s"}]),
        (parse_sensors, {"offset": 1, "sensorChanges": []}),
        (parse_sensor_changes, {"offset": 1, "sensors": []}),
        (parse_sensor_changes, {"sensorChanges": []}),
    ],
)
def test_sensors_of_a_wrong_shape_are_invalid(
    parser: Callable[[object], object], payload: object
) -> None:
    with pytest.raises(InvalidResponseError):
        parser(payload)


# --- alarms -----------------------------------------------------------------------------


def test_alarms_of_the_contract() -> None:
    snapshot = parse_alarms(
        {
            "offset": 31,
            "alarms": [
                {
                    "id": "al-1",
                    "deviceId": "dev-1",
                    "label": "Power Failure",
                    "message": "On battery",
                    "severity": "CRITICAL",
                    "activatedTime": "2026-11-28T10:15:30Z",
                    "clearedTime": None,
                    "alarmReactivationCount": 0,
                },
                {
                    "id": "al-2",
                    "deviceId": "dev-2",
                    "label": "label-v2",
                    "text": "message-v2",
                    "severity": "warning",
                    "activatedTime": "2019-08-29T10:15:30+02:00",
                    "clearedTime": "2019-08-30T08:23:34Z",
                    "alarmReactivationCount": 10,
                    "peakSeverity": "CRITICAL",
                },
            ],
        }
    )
    assert snapshot.offset == 31
    first, second = snapshot.items
    assert first.active
    assert first.severity is ITSeverity.CRITICAL
    assert (first.label, first.message) == ("Power Failure", "On battery")
    assert first.activated == datetime(2026, 11, 28, 10, 15, 30, tzinfo=UTC)
    assert not second.active
    assert second.message == "message-v2"  # `text` when there is no `message`
    assert second.severity is ITSeverity.WARNING
    assert second.activated == datetime(
        2019, 8, 29, 10, 15, 30, tzinfo=timezone(timedelta(hours=2))
    )
    assert second.cleared == datetime(2019, 8, 30, 8, 23, 34, tzinfo=UTC)
    assert second.reactivation_count == 10


def test_alarms_keep_unknown_severities_and_tolerate_missing_fields() -> None:
    alarms = parse_alarms(
        {
            "offset": 1,
            "alarms": [
                {"id": "a1", "severity": "CATASTROPHIC", "message": "m", "text": "t"},
                {"id": "a2", "activatedTime": "soon", "alarmReactivationCount": -3},
                {"id": "a3", "severity": "", "deviceId": None},
                {"severity": "CRITICAL"},  # no id: skipped
                7,
            ],
        }
    ).items
    assert [alarm.id for alarm in alarms] == ["a1", "a2", "a3"]
    assert alarms[0].severity == "CATASTROPHIC"
    assert not isinstance(alarms[0].severity, ITSeverity)
    assert alarms[0].message == "m"
    assert alarms[1].severity is ITSeverity.UNKNOWN  # missing: shown rather than hidden
    assert alarms[1].activated is None
    assert alarms[1].reactivation_count == 0
    assert alarms[1].label is None
    assert alarms[2].severity is ITSeverity.UNKNOWN
    assert alarms[2].device_id is None


def test_severity_parser() -> None:
    assert parse_severity(" fail ") is ITSeverity.FAIL
    assert parse_severity("Initialize") is ITSeverity.INITIALIZE
    assert parse_severity(None) is ITSeverity.UNKNOWN
    assert parse_severity(3) is ITSeverity.UNKNOWN
    assert parse_severity("NEW") == "NEW"


def test_alarm_changes_are_all_upserts() -> None:
    changes = parse_alarm_changes(
        {"offset": 32, "alarms": [{"id": "a1", "clearedTime": "2026-11-28T11:00:00Z"}, {}]}
    )
    assert changes.offset == 32
    assert len(changes.changes) == 1
    change = changes.changes[0]
    assert change.deleted_id is None
    assert change.item is not None
    assert not change.item.active


@pytest.mark.parametrize("parser", [parse_alarms, parse_alarm_changes])
@pytest.mark.parametrize("payload", [[], {"alarms": []}, {"offset": 2, "alarms": {}}])
def test_alarms_of_a_wrong_shape_are_invalid(
    parser: Callable[[object], object], payload: object
) -> None:
    with pytest.raises(InvalidResponseError):
        parser(payload)


# --- stream lines -----------------------------------------------------------------------


def test_measurement_lines() -> None:
    numeric = parse_stream_line(
        b'{"sensorId":"850a9fe5","timestamp":"2022-05-11T09:28:22.406Z",'
        b'"numericValue":2.3477302406E10,"offset":"iATwW6zm-_x","extra":1}'
    )
    assert numeric == SensorReading(
        "850a9fe5",
        datetime(2022, 5, 11, 9, 28, 22, 406000, tzinfo=UTC),
        2.3477302406e10,
        "iATwW6zm-_x",
    )
    text = parse_stream_line(
        '{"sensorId":"s2","timestamp":"2019-11-25T12:43:55.391Z","stringValue":"online"}\r'
    )
    assert isinstance(text, SensorReading)
    assert (text.value, text.offset) == ("online", None)
    integer = parse_stream_line(
        b'{"sensorId":7,"timestamp":"2026-01-01T00:00:00","numericValue":3}'
    )
    assert isinstance(integer, SensorReading)
    assert (integer.sensor_id, integer.value, integer.timestamp.tzinfo) == ("7", 3.0, UTC)


@pytest.mark.parametrize(
    ("fields", "value"),
    [
        ('"numericValue":null', None),
        ('"numericValue":NaN', None),
        ('"numericValue":1e999', None),
        (f'"numericValue":{10**400}', None),
        ('"numericValue":true', None),
        ('"numericValue":"41.5","stringValue":"41.5"', "41.5"),
        ('"stringValue":""', ""),
        ('"stringValue":5', None),
        ('"other":1', None),
    ],
)
def test_measurement_values_of_every_kind(fields: str, value: object) -> None:
    line = f'{{"sensorId":"s","timestamp":"2026-01-01T00:00:00Z",{fields}}}'
    reading = parse_stream_line(line)
    assert isinstance(reading, SensorReading)
    assert reading.value == value


@pytest.mark.parametrize(
    ("line", "signal"),
    [
        (b'{"replaySystemMessageType":"COMPLETED"}', StreamSignal.COMPLETED),
        (b'{"replaySystemMessageType":"ReplayCompleted"}', StreamSignal.COMPLETED),
        (b'{"replaySystemMessageType":"RATE_LIMIT_REACHED"}', StreamSignal.RATE_LIMITED),
        (b'{"systemMessageType":"RateLimitReached","message":"bye"}', StreamSignal.RATE_LIMITED),
        (b'{"systemMessageType":"completed"}', StreamSignal.COMPLETED),
    ],
)
def test_system_messages(line: bytes, signal: StreamSignal) -> None:
    assert parse_stream_line(line) is signal


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"   ",
        b"\r",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
        b"[1, 2]",
        b'"a string"',
        b'{"hello":"world"}',
        b'{"replaySystemMessageType":"SOMETHING_NEW"}',
        b'{"replaySystemMessageType":null,"systemMessageType":"HELLO"}',
        b'{"sensorId":"s","timestamp":"yesterday","numericValue":1}',
        b'{"sensorId":"s","numericValue":1}',
        b'{"sensorId":null,"timestamp":"2026-01-01T00:00:00Z","numericValue":1}',
    ],
)
def test_heartbeats_and_unreadable_lines_are_skipped(line: bytes) -> None:
    assert parse_stream_line(line) is None


def test_a_measurement_is_never_a_system_message() -> None:
    line = b'{"sensorId":"s","timestamp":"2026-01-01T00:00:00Z","systemMessageType":"RATE"}'
    assert isinstance(parse_stream_line(line), SensorReading)
