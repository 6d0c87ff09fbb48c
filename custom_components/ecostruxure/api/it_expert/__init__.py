"""Async client of Schneider Electric's EcoStruxure IT Expert API, and its models."""

from .client import ITExpertClient
from .models import (
    Change,
    Changes,
    DeviceWithAncestors,
    InventoryKind,
    InventoryObject,
    ITAlarm,
    ITSeverity,
    Sensor,
    SensorReading,
    SensorValueType,
    Snapshot,
)

__all__ = [
    "Change",
    "Changes",
    "DeviceWithAncestors",
    "ITAlarm",
    "ITExpertClient",
    "ITSeverity",
    "InventoryKind",
    "InventoryObject",
    "Sensor",
    "SensorReading",
    "SensorValueType",
    "Snapshot",
]
