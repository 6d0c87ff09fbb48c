"""Facility Expert data: device identifiers, each site's topology, values and alarm reads."""

from dataclasses import dataclass, field
from datetime import datetime

from ..api import (
    Alarm,
    Asset,
    AssetType,
    Gateway,
    LatestValue,
    Site,
)
from ..const import DOMAIN
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
