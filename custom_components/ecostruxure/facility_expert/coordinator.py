"""The coordinator: one polling cycle for every selected site, and their asset topology."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from operator import attrgetter
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ..alarm_memory import AlarmMemory, alarm_memory
from ..api import (
    Alarm,
    AlarmStatus,
    AuthenticationError,
    EcoStruxureError,
    FacilityExpertClient,
    ForbiddenError,
    NotFoundError,
    OperationDisabledError,
    RateLimitedError,
)
from ..const import (
    ALARM_WINDOW_MARGIN,
    CONF_SCAN_INTERVAL,
    CONF_SITES,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MANUFACTURER,
    MAX_ALARM_WINDOW,
    OPERATION_DISABLED_RETRY,
    TOPOLOGY_REFRESH_INTERVAL,
    operation_disabled_issue_id,
)
from ..coordinator import DeviceSpec, ListenKey, TopologyCoordinator
from .alarm_store import alarm_store, reach_back
from .data import (
    EcoStruxureData,
    SiteAlarms,
    SiteTopology,
    SiteValues,
    asset_device_id,
    changes_between,
    site_changes,
    site_device_id,
)

type EcoStruxureConfigEntry = ConfigEntry[EcoStruxureCoordinator]

# Read in C over a site's values, the cost of a cycle with many sites.
_MEASUREMENT_ID = attrgetter("measurement_id")
_TIMESTAMP = attrgetter("timestamp")
_ASSET_ID = attrgetter("asset_id")


class EcoStruxureCoordinator(TopologyCoordinator[EcoStruxureData]):
    """Polls the selected sites: per cycle one latest-values and one alarms request a site."""

    config_entry: EcoStruxureConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: EcoStruxureConfigEntry, client: FacilityExpertClient
    ) -> None:
        """Prepare polling of the entry's sites; nothing is fetched yet."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=timedelta(
                seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            ),
        )
        self.client = client
        self.site_ids: tuple[str, ...] = tuple(entry.options.get(CONF_SITES, ()))
        self.topology: dict[str, SiteTopology] = {}
        self._topology_fetched: datetime | None = None
        self._topology_stale = False
        # Why the last topology refresh failed for a site: the message of a failed setup.
        self._topology_error = ""
        self._unavailable_sites: set[str] = set()  # logged as unavailable, not back yet
        # This cycle's changes of each site, compared as its answer came in (see _fetch_site).
        self._site_changes: dict[str, set[ListenKey] | None] = {}
        # Each site's last alarm read, and the read its event entity last compared (see
        # event.py): both outlive a reload of the entry.
        self.alarm_memory: AlarmMemory[SiteAlarms] = alarm_memory(hass, entry.entry_id)
        # ... and across a restart: stored, restored at setup. The sites restored reach back
        # to their last read before the stop at their first read after it.
        self._alarm_store = alarm_store(hass, entry.entry_id, self.alarm_memory)
        # Operations the service disabled for the account (503 ComplianceRelated): the
        # answer, and when to ask again. Asking every cycle would change nothing.
        self._disabled: dict[str, tuple[OperationDisabledError, datetime]] = {}

    # --- topology -------------------------------------------------------------------------

    @override
    async def _async_setup(self) -> None:
        """Restore the alarm reads of before a restart, fetch the topology before the values."""
        await self._alarm_store.async_restore()
        await self._async_refresh_topology()
        if self.site_ids and not self.topology:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": self._topology_error or "no site answered"},
            )

    async def _fetch_topology(self, site_id: str) -> SiteTopology:
        detail, assets = await asyncio.gather(
            self.client.get_site(site_id), self.client.list_assets(site_id)
        )
        return SiteTopology(detail.site, detail.gateways, {a.id: a for a in assets})

    async def _async_refresh_topology(self) -> None:
        results = await asyncio.gather(
            *(self._fetch_topology(site_id) for site_id in self.site_ids),
            return_exceptions=True,
        )
        self._raise_for_auth(results)
        self._topology_stale = False
        for site_id, result in zip(self.site_ids, results, strict=True):
            if isinstance(result, SiteTopology):
                self.topology[site_id] = result
                self._site_found(site_id)
            elif isinstance(result, NotFoundError):
                self._site_lost(site_id)
            elif isinstance(result, EcoStruxureError):
                # Transient: keep what we knew, try again next cycle.
                LOGGER.debug("Topology of site %s not refreshed: %s", site_id, result)
                self._topology_stale = True
                self._topology_error = str(result)
            else:
                raise result
        self._topology_fetched = dt_util.utcnow()
        await self._async_topology_changed()

    async def _async_topology_changed(self) -> None:
        """Bring devices in line with the topology, then tell the platforms.

        The platforms hear of every refresh, a site lost included: they add the entities they
        have not added yet, and would not add those of a site that comes back.
        """
        await self._async_topology_refreshed(always=True)

    def _site_found(self, site_id: str) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, f"site_not_found_{site_id}")

    def _site_lost(self, site_id: str) -> None:
        """A site answered 404: its devices go, a repair issue explains why."""
        known = self.topology.pop(site_id, None)
        LOGGER.warning("Site %s is no longer available from the service", site_id)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"site_not_found_{site_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="site_not_found",
            translation_placeholders={"site": known.site.name if known else site_id},
        )

    @override
    def _device_specs(self) -> Iterable[DeviceSpec]:
        """A device per site, and per asset under its parent (or its site)."""
        for site_id, topology in self.topology.items():
            site = site_device_id(site_id)
            yield DeviceSpec(
                identifier=site,
                manufacturer=MANUFACTURER,
                model="Site",
                name=topology.site.name,
            )
            listed: set[str] = set()
            for asset in topology.ordered_assets():  # parents first: their devices exist
                parent = asset.parent_id or ""
                yield DeviceSpec(
                    identifier=asset_device_id(site_id, asset.id),
                    manufacturer=asset.manufacturer or MANUFACTURER,
                    model=asset.model or asset.type.replace("_", " ").capitalize(),
                    model_id=asset.commercial_reference,
                    serial_number=asset.serial_number,
                    sw_version=asset.firmware_version,
                    name=asset.name,
                    suggested_area=topology.area_of(asset),
                    via=asset_device_id(site_id, parent) if parent in listed else site,
                )
                listed.add(asset.id)

    # --- values ---------------------------------------------------------------------------

    def _raise_for_auth(self, results: Iterable[object]) -> None:
        for result in results:
            if isinstance(result, AuthenticationError | ForbiddenError):
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN,
                    translation_key=(
                        "invalid_auth" if isinstance(result, AuthenticationError) else "forbidden"
                    ),
                ) from result

    def _alarm_window(self, site_id: str) -> tuple[datetime | None, bool]:
        """Where this cycle's alarm request starts (None: active only), and if active too.

        The active ones are asked for too only by the first request after a restart, which
        reaches back to the last read before it (see alarm_store.reach_back).

        Asking for every alarm activated since the previous poll (or since the oldest alarm
        still active, whichever is earlier) returns the active alarms *and* those raised and
        cleared in between, in the same single request. When an alarm has been active for
        more than a day that window would drag its whole history along each cycle: then only
        the active ones are asked for. The previous poll is the last one that read the site's
        alarms: a cycle in which the site failed must not narrow the next one to the active
        alarms, or those raised and cleared during the failure would be missed.
        """
        last = self.alarm_memory.last_reads.get(site_id)
        if last is None:
            return None, False
        reaching_back = self._alarm_store.reaching_back
        if (logged := reaching_back.get(site_id)) is not None:
            reaching_back[site_id] = True
            return reach_back(self._site_name(site_id), last, log=not logged)
        start = last.polled - ALARM_WINDOW_MARGIN
        for alarm in last.alarms:
            if alarm.active:
                start = min(start, alarm.activated_at)
        return (None if dt_util.utcnow() - start > MAX_ALARM_WINDOW else start), False

    async def _list_alarms(
        self, site_id: str, window: datetime | None, with_active: bool
    ) -> list[Alarm]:
        if window is None:
            return await self.client.list_alarms(site_id)
        since = self.client.list_alarms(site_id, AlarmStatus.ALL, start=window)
        if not with_active:
            return await since
        answers = await asyncio.gather(
            self.client.list_alarms(site_id), since, return_exceptions=True
        )
        merged: dict[str, Alarm] = {}
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
            merged.update((alarm.id, alarm) for alarm in answer)
        return list(merged.values())

    async def _unless_disabled[T](self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call`, unless the operation is disabled and not yet due to be asked again."""
        if (disabled := self._disabled.get(operation)) and dt_util.utcnow() < disabled[1]:
            # The service's last answer stands for this cycle; its old traceback would only
            # grow with each cycle.
            raise disabled[0].with_traceback(None)
        return await call()

    async def _fetch_site(self, site_id: str) -> SiteValues:
        window, with_active = self._alarm_window(site_id)
        polled = dt_util.utcnow()
        before = self.data.sites.get(site_id) if self.data is not None else None
        values, alarms = await asyncio.gather(
            self._unless_disabled(
                "latest_values",
                lambda: self.client.get_latest_values(
                    site_id, previous=before.values if before is not None else None
                ),
            ),
            self._unless_disabled(
                "alarms",
                lambda: self._list_alarms(site_id, window, with_active),
            ),
            return_exceptions=True,
        )
        if isinstance(values, BaseException):
            if isinstance(values, OperationDisabledError):
                self._operation_disabled("latest_values", values)
            raise values
        self._operation_disabled("latest_values", None)
        received: tuple[Alarm, ...] | None = None
        if isinstance(alarms, OperationDisabledError):
            self._operation_disabled("alarms", alarms)
        elif isinstance(alarms, BaseException):
            raise alarms
        else:
            self._operation_disabled("alarms", None)
            received = tuple(alarms)
            self.alarm_memory.last_reads[site_id] = SiteAlarms(polled, received)
            self._alarm_store.async_read(site_id)
        site = SiteValues(
            dict(zip(map(_MEASUREMENT_ID, values), values, strict=True)),
            received,
            max(map(_TIMESTAMP, values), default=None),
        )
        # Compared here, site by site, rather than all at the end of the cycle in one block.
        if self._references_unknown_assets(site_id, site):
            self._topology_stale = True
        if before is not None:
            self._site_changes[site_id] = site_changes(site_id, before, site)
        return site

    def _operation_disabled(self, operation: str, error: OperationDisabledError | None) -> None:
        """Raise or clear the operation's repair issue; a disabled one waits before retrying.

        The issue is the entry's own: two accounts may be in different states.
        """
        issue_id = operation_disabled_issue_id(self.config_entry.entry_id, operation)
        if error is None:
            if self._disabled.pop(operation, None) is not None:
                LOGGER.info("Reading %s works again for this account", operation)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        if (known := self._disabled.get(operation)) is None or known[0] is not error:
            # A fresh answer from the service (not the one kept): wait again from now.
            if known is None:
                LOGGER.warning(
                    "The service disabled reading %s for this account; asking again hourly",
                    operation,
                )
            self._disabled[operation] = (error, dt_util.utcnow() + OPERATION_DISABLED_RETRY)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"operation_disabled_{operation}",
        )

    @override
    async def _async_update_data(self) -> EcoStruxureData:
        """One cycle: latest values and active alarms of every site, concurrently."""
        if (
            self._topology_stale
            or self._topology_fetched is None
            or dt_util.utcnow() - self._topology_fetched > TOPOLOGY_REFRESH_INTERVAL
        ):
            await self._async_refresh_topology()
        site_ids = [site_id for site_id in self.site_ids if site_id in self.topology]
        self._site_changes = {}
        results = await asyncio.gather(
            *(self._fetch_site(site_id) for site_id in site_ids), return_exceptions=True
        )
        self._raise_for_auth(results)
        data = EcoStruxureData()
        lost: list[str] = []
        for site_id, result in zip(site_ids, results, strict=True):
            if isinstance(result, SiteValues):
                data.sites[site_id] = result
            elif isinstance(result, NotFoundError):
                lost.append(site_id)
            elif isinstance(result, EcoStruxureError):
                data.failed[site_id] = str(result)
            else:
                raise result
        self._log_availability(data)
        if lost:
            for site_id in lost:
                self._site_lost(site_id)
            await self._async_topology_changed()
        if site_ids and not data.sites and data.failed:
            retry_after = [
                r.retry_after
                for r in results
                if isinstance(r, RateLimitedError) and r.retry_after is not None
            ]
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": next(iter(data.failed.values()))},
                retry_after=max(retry_after) if retry_after else None,
            )
        # Handed over, not kept: a cycle's changes must not outlive it.
        site_changes, self._site_changes = self._site_changes, {}
        self._changes = changes_between(self.data, data, site_changes)
        return data

    def _log_availability(self, data: EcoStruxureData) -> None:
        """Log once when a site stops answering and once when it is back, not every cycle."""
        for site_id, error in data.failed.items():
            if site_id not in self._unavailable_sites:
                self._unavailable_sites.add(site_id)
                LOGGER.info("Site %s is unavailable: %s", self._site_name(site_id), error)
        for site_id in self._unavailable_sites & data.sites.keys():
            self._unavailable_sites.discard(site_id)
            LOGGER.info("Site %s is available again", self._site_name(site_id))

    def _site_name(self, site_id: str) -> str:
        known = self.topology.get(site_id)
        return known.site.name if known else site_id

    def _references_unknown_assets(self, site_id: str, values: SiteValues) -> bool:
        """Whether the answer names an asset the topology lacks (one was added)."""
        assets = self.topology[site_id].assets
        referenced = set(map(_ASSET_ID, values.values.values()))
        referenced.discard(None)  # a value of no asset
        referenced.update(map(_ASSET_ID, values.alarms or ()))
        return not referenced <= assets.keys()
