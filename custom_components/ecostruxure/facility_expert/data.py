"""Facility Expert data: device identifiers, each site's topology, values and alarm reads."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, islice
from operator import is_not

from ..api import (
    Alarm,
    Asset,
    AssetType,
    Gateway,
    LatestValue,
    Site,
)
from ..const import DOMAIN
from ..coordinator import Changed, ListenKey
from ..topology import nearest_matching, parents_first


def site_device_id(site_id: str) -> tuple[str, str]:
    """Device identifier of a site.

    Site and asset ids are the service's own opaque ids: stable across renames and restarts,
    unlike names. Prefixes keep a site and an asset apart even if their ids collide, and the
    site id scopes asset ids, which the service only promises to be unique within a site.
    """
    return (DOMAIN, f"site:{site_id}")


def asset_device_id(site_id: str, asset_id: str) -> tuple[str, str]:
    """Device identifier of an asset (see `site_device_id`)."""
    return (DOMAIN, f"asset:{site_id}:{asset_id}")


def site_id_of(identifier: tuple[str, str]) -> str | None:
    """The site of a device identifier made by `site_device_id` or `asset_device_id`."""
    domain, key = identifier
    kind, _, rest = key.partition(":")
    if domain != DOMAIN or kind not in {"site", "asset"} or not rest:
        return None
    return rest if kind == "site" else rest.rpartition(":")[0] or None


def _parent_id(asset: Asset) -> str | None:
    return asset.parent_id


@dataclass(slots=True)
class SiteTopology:
    """What a site is made of: fetched at setup, refreshed every few hours."""

    site: Site
    gateways: tuple[Gateway, ...]
    assets: dict[str, Asset]
    _areas: dict[str, str | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def ordered_assets(self) -> list[Asset]:
        """Assets with every parent before its children (devices need their parent first)."""
        return parents_first(
            self.assets.values(), key=lambda asset: asset.id, parent=lambda asset: asset.parent_id
        )

    def area_of(self, asset: Asset) -> str | None:
        """The room, else the floor, the asset is in (itself included)."""
        if self._areas is None:
            # Every asset's area in one linear pass, kept: the topology is not changed in
            # place (a refresh makes a new one), and a walk per asset would be quadratic.
            rooms = nearest_matching(
                self.assets, parent=_parent_id, match=lambda item: item.type == AssetType.ROOM
            )
            floors = nearest_matching(
                self.assets, parent=_parent_id, match=lambda item: item.type == AssetType.FLOOR
            )
            self._areas = {}
            for asset_id in self.assets:
                area_id = rooms[asset_id] or floors[asset_id]
                self._areas[asset_id] = None if area_id is None else self.assets[area_id].name
        return self._areas.get(asset.id)


@dataclass(slots=True)
class SiteValues:
    """One cycle's answers for one site."""

    values: dict[str, LatestValue]
    # The active alarms and those cleared since the previous cycle; None when the alarm
    # operation is disabled for the account (a repair issue says so).
    alarms: tuple[Alarm, ...] | None
    last_communication: datetime | None

    def active_alarms(self, asset_id: str | None = None) -> list[Alarm]:
        """Active alarms of the site, or of one asset, newest first."""
        return [
            alarm
            for alarm in self.alarms or ()
            if alarm.active and (asset_id is None or alarm.asset_id == asset_id)
        ]


@dataclass(frozen=True, slots=True)
class SiteAlarms:
    """A site's alarms as last read, and when.

    Kept through cycles in which the site fails and while it is gone: the next alarm request
    starts from here, and a site's alarm events continue from here when it comes back.
    """

    polled: datetime
    alarms: tuple[Alarm, ...]


@dataclass(slots=True)
class EcoStruxureData:
    """One polling cycle: the sites that answered, and why the others did not."""

    sites: dict[str, SiteValues] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def value_key(site_id: str, measurement_id: str) -> ListenKey:
    """What a measurement's sensor listens to: its value."""
    return ListenKey(site_id, ("value", measurement_id))


def alarms_key(site_id: str, asset_id: str) -> ListenKey:
    """What an asset's alarm sensors listen to: its active alarms."""
    return ListenKey(site_id, ("alarms", asset_id))


def _active_by_asset(alarms: tuple[Alarm, ...]) -> dict[str, list[Alarm]]:
    index: dict[str, list[Alarm]] = {}
    for alarm in alarms:
        if alarm.active:
            index.setdefault(alarm.asset_id, []).append(alarm)
    return index


def fresh_values(
    old: dict[str, LatestValue], now: dict[str, LatestValue]
) -> tuple[list[tuple[str, LatestValue]], int]:
    """The items of `now` that are not the very object at the same place in `old`; how many are.

    The parser keeps an unchanged value's object, in the answer's order: most values are
    found unchanged place by place, by identity, in C rather than by a lookup each. An item
    out of place is only reported fresh (compared by id then).
    """
    # As far as the shorter goes; the rest of `now` is fresh.
    moved = list(map(is_not, now.values(), old.values(), strict=False))
    fresh = list(compress(now.items(), moved))
    same = len(moved) - len(fresh)
    fresh.extend(islice(now.items(), len(moved), None))
    return fresh, same


def site_changes(site_id: str, before: SiteValues, now: SiteValues) -> set[ListenKey] | None:
    """What changed in a site that answered both cycles; None: the site as a whole.

    The whole site when its alarm operation became disabled or enabled again (availability
    of its alarm sensors). A value changes when the number a sensor shows does (not its
    timestamp: no entity shows that).
    """
    if (before.alarms is None) != (now.alarms is None):
        return None
    keys: set[ListenKey] = set()
    old_values = before.values
    fresh, kept = fresh_values(old_values, now.values)  # kept: measurements in both answers
    for measurement_id, latest in fresh:
        old = old_values.get(measurement_id)
        if old is not None:
            kept += 1
        if old is None or old.value != latest.value:
            keys.add(value_key(site_id, measurement_id))
    if kept < len(old_values):  # some went
        keys.update(
            value_key(site_id, measurement_id)
            for measurement_id in old_values.keys() - now.values.keys()
        )
    if before.alarms != now.alarms:
        old_active = _active_by_asset(before.alarms or ())
        new_active = _active_by_asset(now.alarms or ())
        for asset_id in old_active.keys() | new_active.keys():
            if old_active.get(asset_id) != new_active.get(asset_id):
                keys.add(alarms_key(site_id, asset_id))
    return keys


def changes_between(
    previous: EcoStruxureData | None,
    data: EcoStruxureData,
    known: Mapping[str, set[ListenKey] | None] | None = None,
) -> Changed | None:
    """What changed from one cycle to the next, as the entities listen to it; None: all.

    A site that answers in one cycle and not the other changes as a whole (availability).
    `known`: the `site_changes` of sites already compared (as their answers came in).
    """
    if previous is None:
        return None
    changes = Changed()
    changes.groups.update(previous.sites.keys() ^ data.sites.keys())
    for site_id, now in data.sites.items():
        if (before := previous.sites.get(site_id)) is None:
            continue
        if known is not None and site_id in known:
            keys = known[site_id]
        else:
            keys = site_changes(site_id, before, now)
        if keys is None:
            changes.groups.add(site_id)
        else:
            changes.keys.update(keys)
    return changes
