"""Defensive parsers from the IT Expert API's decoded JSON to the models.

The same rules as the Facility Expert parsers, whose field readers are reused: unknown fields
are ignored, optional fields may be missing, null or of the wrong type (then treated as
missing), ids may be numbers (kept as strings, as the service's are opaque), and a malformed
item is skipped and logged while the rest is kept. A body whose overall shape is wrong (not an
object, no integer offset, the list missing) raises InvalidResponseError: a snapshot read as
empty would make the caller delete everything. No other exception escapes.

Where the field names are inferred, the alternatives of docs/it-expert-contract.md are read.
"""

from collections.abc import Callable
import logging
import re
from typing import Final, cast

from ..errors import InvalidResponseError
from ..json_reading import (
    MESSAGE_MAX,
    UNIT_MAX,
    JsonObject,
    MalformedItemError,
    bounded_int,
    clean_text,
    json_object,
    optional_id,
    optional_int,
    optional_str,
    parse_items,
    required_id,
    sane_datetime,
    strings,
)
from .models import (
    Change,
    Changes,
    DeviceWithAncestors,
    InventoryKind,
    InventoryObject,
    ITAlarm,
    ITSeverity,
    Sensor,
    SensorValueType,
    Snapshot,
)

_LOGGER = logging.getLogger(__name__)

# The discriminator's name is not in the public samples: the likely candidates, in order.
INVENTORY_DISCRIMINATORS: Final = ("inventoryObjectType", "objectType", "@type", "discriminator")
# Without a discriminator, a field only devices have makes an object a device.
_DEVICE_ONLY_FIELDS: Final = ("locationId", "gatewayIds", "modelName", "serialNumber")
ORGANIZATION_LIST_KEYS: Final = ("organizations", "organizationIds", "ids", "items")

_VALUE_TYPES: Final = {
    "numeric": SensorValueType.NUMERIC,
    "number": SensorValueType.NUMERIC,
    "double": SensorValueType.NUMERIC,
    "string": SensorValueType.STRING,
    "text": SensorValueType.STRING,
}
# Words of a sensor type that make it a number when `valueType` is missing ("INPUT_VOLTAGE"
# has VOLTAGE); a type with none of them and no unit is text (STATUS, MODE, ...).
NUMERIC_SENSOR_TYPE_WORDS: Final = frozenset(
    {
        "AIRFLOW",
        "CAPACITY",
        "CHARGE",
        "CURRENT",
        "DEWPOINT",
        "ENERGY",
        "FREQUENCY",
        "HUMIDITY",
        "LOAD",
        "POWER",
        "PRESSURE",
        "RUNTIME",
        "SPEED",
        "TEMPERATURE",
        "VOLTAGE",
    }
)
_WORD_SEPARATORS: Final = re.compile(r"[^A-Za-z0-9]+")
_SEVERITIES: Final = {severity.value: severity for severity in ITSeverity}


# --- fields -----------------------------------------------------------------------------


def _offset(obj: JsonObject) -> int:
    """The int64 offset of a list or changes response: an integer, or its decimal string."""
    if (value := bounded_int(obj.get("offset"))) is not None:
        return value
    raise InvalidResponseError("Expected a non-negative integer offset")


def _list_field(obj: JsonObject, key: str) -> list[object]:
    items = obj.get(key)
    if not isinstance(items, list):
        raise InvalidResponseError(f"Expected a list of {key}")
    return items


def _first_str(obj: JsonObject, *names: str) -> str | None:
    for name in names:
        if (value := optional_str(obj, name)) is not None:
            return value
    return None


# --- organizations ----------------------------------------------------------------------


def _organization_id(item: object) -> str | None:
    if isinstance(item, dict):
        return optional_id(cast(JsonObject, item), "id")
    return optional_id({"id": item}, "id")


def parse_organizations(payload: object) -> tuple[str, ...]:
    """Parse the organization ids the key covers, in the service's order, without repeats.

    Accepted: a list of ids, a list of objects with `id`, or an object wrapping either under
    one of ORGANIZATION_LIST_KEYS.
    """
    items: object = payload
    if isinstance(payload, dict):
        obj = cast(JsonObject, payload)
        items = next(
            (obj[key] for key in ORGANIZATION_LIST_KEYS if isinstance(obj.get(key), list)), None
        )
    if not isinstance(items, list):
        raise InvalidResponseError("Expected a list of organizations")
    ids: dict[str, None] = {}
    for item in items:
        if (organization_id := _organization_id(item)) is None:
            _LOGGER.debug("Ignoring an organization without an id")
        else:
            ids[organization_id] = None
    return tuple(ids)


# --- inventory --------------------------------------------------------------------------


def _kind_of(obj: JsonObject, organization_id: str | None) -> InventoryKind:
    for name in INVENTORY_DISCRIMINATORS:
        if (value := optional_str(obj, name)) is None:
            continue
        lowered = value.lower()
        # Equal, or named inside a longer class name ("InventoryObjectDevice").
        matches = [kind for kind in InventoryKind if kind.value in lowered]
        if len(matches) == 1:
            return matches[0]
        # A kind this client does not know (or an ambiguous one) cannot be placed in the tree.
        # The kind itself is not quoted: no text of an answer reaches a log unredacted.
        raise MalformedItemError(f"unknown inventory object kind ({len(value)} characters)")
    if any(name in obj for name in _DEVICE_ONLY_FIELDS):
        return InventoryKind.DEVICE
    if organization_id is not None and optional_id(obj, "id") == organization_id:
        return InventoryKind.ORGANIZATION
    if optional_str(obj, "type") is not None:
        return InventoryKind.LOCATION
    raise MalformedItemError("no kind: neither a discriminator nor a telling field")


def _inventory_object(
    obj: JsonObject, organization_id: str | None, kind: InventoryKind | None = None
) -> InventoryObject:
    object_id = required_id(obj, "id")
    return InventoryObject(
        id=object_id,
        kind=kind or _kind_of(obj, organization_id),
        label=optional_str(obj, "label"),
        type=optional_str(obj, "type"),
        parent_id=optional_id(obj, "parentId"),
        location_id=optional_id(obj, "locationId"),
        address=optional_str(obj, "address"),
        model=_first_str(obj, "modelName", "model"),
        serial_number=_first_str(obj, "serialNumber", "serial"),
        gateway_ids=strings(obj.get("gatewayIds")),
    )


def _inventory_items(raw: list[object], organization_id: str | None) -> list[InventoryObject]:
    return parse_items(raw, "inventory object", lambda obj: _inventory_object(obj, organization_id))


def parse_inventory(
    payload: object, organization_id: str | None = None
) -> Snapshot[InventoryObject]:
    """Parse an organization's full inventory.

    `organization_id` recognises the Organization object when no discriminator says so.
    """
    obj = json_object(payload, "an inventory")
    raw = _list_field(obj, "inventoryObjects")
    return Snapshot(_offset(obj), tuple(_inventory_items(raw, organization_id)))


def _inventory_change(
    organization_id: str | None,
) -> Callable[[JsonObject], Change[InventoryObject]]:
    def parse(obj: JsonObject) -> Change[InventoryObject]:
        inner = obj.get("inventoryObject")
        if isinstance(inner, dict):
            return Change(item=_inventory_object(cast(JsonObject, inner), organization_id))
        if (deleted := optional_id(obj, "inventoryObjectId")) is not None:
            return Change(deleted_id=deleted)
        raise MalformedItemError("neither inventoryObject nor inventoryObjectId")

    return parse


def parse_inventory_changes(
    payload: object, organization_id: str | None = None
) -> Changes[InventoryObject]:
    """Parse one page of inventory changes: create-or-updates and deletes, in order."""
    obj = json_object(payload, "inventory changes")
    raw = _list_field(obj, "inventoryObjectChanges")
    changes = parse_items(raw, "inventory change", _inventory_change(organization_id))
    return Changes(_offset(obj), tuple(changes))


def parse_device(payload: object, organization_id: str | None = None) -> DeviceWithAncestors:
    """Parse one device and its ancestors, nearest first."""
    obj = json_object(payload, "a device")
    device = obj.get("device")
    if not isinstance(device, dict):
        raise InvalidResponseError("Expected a device object")
    try:
        # The field says what it is, whatever the object's own fields suggest.
        parsed = _inventory_object(cast(JsonObject, device), organization_id, InventoryKind.DEVICE)
    except MalformedItemError as err:
        raise InvalidResponseError(f"Malformed device: {err}") from None
    ancestors = obj.get("ancestors")
    return DeviceWithAncestors(
        parsed,
        tuple(_inventory_items(ancestors, organization_id) if isinstance(ancestors, list) else ()),
    )


# --- sensors ----------------------------------------------------------------------------


def _value_type(obj: JsonObject, unit: str | None, sensor_type: str | None) -> SensorValueType:
    declared = optional_str(obj, "valueType")
    if declared is not None and (known := _VALUE_TYPES.get(declared.lower())) is not None:
        return known
    if unit is not None:
        return SensorValueType.NUMERIC
    words = set(_WORD_SEPARATORS.split((sensor_type or "").upper()))
    return SensorValueType.NUMERIC if words & NUMERIC_SENSOR_TYPE_WORDS else SensorValueType.STRING


def _sensor(obj: JsonObject) -> Sensor:
    unit = clean_text(obj.get("unit"), UNIT_MAX)
    sensor_type = optional_str(obj, "type")
    return Sensor(
        id=required_id(obj, "id"),
        device_id=optional_id(obj, "deviceId"),
        label=optional_str(obj, "label"),
        unit=unit,
        type=sensor_type,
        value_type=_value_type(obj, unit, sensor_type),
    )


def _sensor_change(obj: JsonObject) -> Change[Sensor]:
    inner = obj.get("sensor")
    if isinstance(inner, dict):
        return Change(item=_sensor(cast(JsonObject, inner)))
    if (deleted := optional_id(obj, "sensorId")) is not None:
        return Change(deleted_id=deleted)
    raise MalformedItemError("neither sensor nor sensorId")


def parse_sensors(payload: object) -> Snapshot[Sensor]:
    """Parse an organization's full sensor list."""
    obj = json_object(payload, "sensors")
    raw = _list_field(obj, "sensors")
    return Snapshot(_offset(obj), tuple(parse_items(raw, "sensor", _sensor)))


def parse_sensor_changes(payload: object) -> Changes[Sensor]:
    """Parse one page of sensor changes: create-or-updates and deletes, in order."""
    obj = json_object(payload, "sensor changes")
    raw = _list_field(obj, "sensorChanges")
    return Changes(_offset(obj), tuple(parse_items(raw, "sensor change", _sensor_change)))


# --- alarms -----------------------------------------------------------------------------


def parse_severity(value: object) -> ITSeverity | str:
    """A known severity (any case) as ITSeverity, an unknown one kept as its string.

    A missing severity is UNKNOWN, which the apps count as critical: the alarm is shown
    rather than hidden.
    """
    if not isinstance(value, str) or not value.strip():
        return ITSeverity.UNKNOWN
    return _SEVERITIES.get(value.strip().upper(), value)


def _alarm(obj: JsonObject) -> ITAlarm:
    return ITAlarm(
        id=required_id(obj, "id"),
        device_id=optional_id(obj, "deviceId"),
        label=optional_str(obj, "label"),
        message=clean_text(obj.get("message"), MESSAGE_MAX)
        or clean_text(obj.get("text"), MESSAGE_MAX),
        severity=parse_severity(obj.get("severity")),
        activated=sane_datetime(obj.get("activatedTime")),
        cleared=sane_datetime(obj.get("clearedTime")),
        reactivation_count=optional_int(obj, "alarmReactivationCount") or 0,
    )


def parse_alarms(payload: object) -> Snapshot[ITAlarm]:
    """Parse the alarm snapshot: active alarms and those cleared lately."""
    obj = json_object(payload, "alarms")
    raw = _list_field(obj, "alarms")
    return Snapshot(_offset(obj), tuple(parse_items(raw, "alarm", _alarm)))


def parse_alarm_changes(payload: object) -> Changes[ITAlarm]:
    """Parse one page of alarm changes: alarms are never deleted, every change is an upsert."""
    obj = json_object(payload, "alarm changes")
    raw = _list_field(obj, "alarms")
    alarms = parse_items(raw, "alarm", _alarm)
    return Changes(_offset(obj), tuple(Change(item=alarm) for alarm in alarms))
