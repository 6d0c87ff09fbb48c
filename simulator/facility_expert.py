"""A simulator of the EcoStruxure Facility Expert Data API, as an aiohttp application.

It follows the working contract (docs/facility-expert-contract.md): the same paths (read from
the client's `paths` module), JSON shapes, pagination and parameter validation; both auth
headers checked; RFC 7807 errors; at most 10 requests in flight. Its data are deterministic
functions of the seed and the simulated clock, so history, latest values and counters agree.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
import json
import math
import random
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web

from custom_components.ecostruxure.api.facility_expert import paths

from .building import ASSET_KINDS, Json, SimAsset, SimMeasurement, SimSite, SiteBuilder
from .clock import SimulatedClock
from .faults import BodyFault, FaultRule, Faults
from .it_api import ITExpertAPI
from .it_common import is_it_path
from .it_expert import ITExpertConfig, ITExpertSimulator
from .signals import uniform, unit_interval
from .variations import Variations, unknown_asset, unknown_measurement_id

API_PREFIX: Final = urlsplit(paths.DEFAULT_BASE_URL).path
CONTROL_PREFIX: Final = "/_simulator"
PROBLEM_TYPE_BASE: Final = "https://api.exchange.se.com/problems/"
ALARM_HISTORY_DAYS: Final = 30
# Generated alarms last at most this long, so that only the current and the previous hour can
# hold an active one.
_ALARM_SLOT: Final = 3600
_ALARM_MAX_DURATION: Final = 2400

_SEVERITY: Final = {
    "comfort_temperature_high": "low",
    "comfort_temperature_low": "low",
    "comfort_humidity": "low",
    "comfort_co2_high": "medium",
    "power_loss": "critical",
    "overload": "high",
    "load_stop": "medium",
    "trip": "critical",
    "phase_loss": "high",
    "voltage_loss": "critical",
    "cable_overheating": "high",
    "switchboard_overheating": "high",
    "condensation_risk": "medium",
    "communication_loss": "medium",
}
_INTERVAL_SECONDS: Final = {"15min": 900, "hour": 3600}


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """What the simulator serves. Every field has a sensible default."""

    seed: int = 1
    sites: int = 3
    assets_per_site: int = 20
    subscription_key: str = "sim-subscription-key"
    technical_token: str = "sim-technical-token"
    alarms_per_site_per_hour: float = 1.0
    outage_probability: float = 0.1  # of a gateway going offline on a given day
    sample_seconds: int = 300  # how often devices report a value
    history_days: int = 400  # how far back the time series go
    series_page_points: int = 5000  # points per time-series page before `nextCursor`
    max_connections: int = paths.MAX_SIMULTANEOUS_CONNECTIONS
    retry_after_when_busy: str | None = "1"
    it_expert: ITExpertConfig = field(default_factory=ITExpertConfig)
    # Answers that differ from the defaults within the contracts (simulator/variations.py).
    variations: Variations = field(default_factory=Variations)

    def __post_init__(self) -> None:
        """Refuse sizes the simulator cannot serve."""
        if self.sites < 0 or self.sample_seconds < 1 or self.series_page_points < 1:
            raise ValueError("sites must be >= 0, sample_seconds and page size >= 1")
        if not 0 <= self.outage_probability <= 1 or self.alarms_per_site_per_hour < 0:
            raise ValueError("outage_probability must be in [0, 1], alarm rate >= 0")


@dataclass(slots=True)
class Stats:
    """What the simulator has been asked, for tests and benchmarks."""

    requests: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    rejected_busy: int = 0
    bytes_sent: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    last_query: dict[str, str] = field(default_factory=dict)  # by path

    def reset(self) -> None:
        """Forget what was counted (requests in flight stay in flight)."""
        self.requests = self.peak_in_flight = self.rejected_busy = self.bytes_sent = 0
        self.by_operation.clear()
        self.last_query.clear()

    def to_json(self) -> Json:
        """The counters as the control endpoint shows them."""
        return {
            "requests": self.requests,
            "inFlight": self.in_flight,
            "peakInFlight": self.peak_in_flight,
            "rejectedBusy": self.rejected_busy,
            "bytesSent": self.bytes_sent,
            "byOperation": dict(self.by_operation),
        }


@dataclass(slots=True)
class _Alarm:
    id: str
    site_id: str
    asset_id: str
    type: str
    severity: str
    activated: float
    cleared: float | None
    message: str | None = None


class InvalidParametersError(Exception):
    """A request parameter is wrong; becomes a 400 with an `errors` list."""

    def __init__(self, *errors: tuple[str, str]) -> None:
        """Keep the (name, reason) pairs."""
        super().__init__("invalid parameters")
        self.errors = errors


def iso(timestamp: float, zone: ZoneInfo | None = None) -> str:
    """ISO 8601 with an offset: `Z` in UTC, the site's offset when a zone is given."""
    moment = datetime.fromtimestamp(timestamp, zone or UTC)
    return moment.isoformat().replace("+00:00", "Z") if zone is None else moment.isoformat()


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: tuple[tuple[str, str], ...] = (),
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An RFC 7807 answer."""
    body: Json = {
        "type": PROBLEM_TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"name": name, "reason": reason} for name, reason in errors]
    return web.json_response(
        body, status=status, headers=headers, content_type="application/problem+json"
    )


class Simulator:
    """The simulated service: its data, its clock, its faults and its HTTP application."""

    def __init__(
        self, config: SimulatorConfig | None = None, clock: SimulatedClock | None = None
    ) -> None:
        """Generate the sites from the configuration's seed."""
        self.config = config or SimulatorConfig()
        self.clock = clock or SimulatedClock()
        self.faults = Faults()
        self.stats = Stats()
        self.subscription_key = self.config.subscription_key
        self.technical_token = self.config.technical_token
        self.account_disabled = False
        self.wrong_datacenter = False
        self.variations = self.config.variations
        self._builders = [
            SiteBuilder(self.config.seed, index, self.variations.site_id)
            for index in range(self.config.sites)
        ]
        self._sites = {b.site.id: b.build(self.config.assets_per_site) for b in self._builders}
        self._builder_of = {b.site.id: b for b in self._builders}
        self._removed: set[str] = set()
        self._manual_alarms: dict[str, _Alarm] = {}
        self._cleared_early: dict[str, float] = {}
        self._outage = lru_cache(maxsize=65_536)(self._outage_of_day)
        # vary_values: what each varied (site, measurement) adds to its latest value.
        self._nudges: dict[tuple[str, str], float] = {}
        self._variations = 0
        # The IT Expert API on the same server: same clock, same fault rules.
        it_config = self.config.it_expert
        if (cap := self.variations.page_cap) is not None:
            it_config = replace(it_config, changes_page_size=min(it_config.changes_page_size, cap))
        if self.variations.active:
            it_config = replace(it_config, variations=self.variations)
        self.it_expert = ITExpertSimulator(it_config, self.clock, faults=self.faults)
        self._it_api = ITExpertAPI(self.it_expert)

    # --- the world ----------------------------------------------------------------------

    @property
    def sites(self) -> list[SimSite]:
        """The sites the service currently shows."""
        return [site for site in self._sites.values() if site.id not in self._removed]

    def site(self, site_id: str) -> SimSite:
        """A visible site by id (KeyError if unknown or removed)."""
        if site_id in self._removed:
            raise KeyError(site_id)
        return self._sites[site_id]

    def now(self) -> float:
        """The simulated time as a Unix timestamp."""
        return self.clock.now().timestamp()

    def revoke_credentials(
        self, *, new_subscription_key: str | None = None, new_technical_token: str | None = None
    ) -> None:
        """Revoke the given secrets: the old ones get 401 from now on.

        With no argument both are replaced by new derived values.
        """
        if new_subscription_key is None and new_technical_token is None:
            serial = int(unit_interval(self.subscription_key, self.technical_token) * 1e6)
            new_subscription_key = f"{self.config.subscription_key}-{serial}"
            new_technical_token = f"{self.config.technical_token}-{serial}"
        if new_subscription_key is not None:
            self.subscription_key = new_subscription_key
        if new_technical_token is not None:
            self.technical_token = new_technical_token

    def disable_account(self, disabled: bool = True) -> None:
        """Make every request answer 403 UserDisabled (or stop doing so)."""
        self.account_disabled = disabled

    def set_wrong_datacenter(self, wrong: bool = True) -> None:
        """Make every request answer 403 WrongDatacenter (or stop doing so)."""
        self.wrong_datacenter = wrong

    def remove_site(self, site_id: str) -> None:
        """Hide a site: it leaves the list and its paths answer 404."""
        self.site(site_id)
        self._removed.add(site_id)

    def restore_site(self, site_id: str) -> None:
        """Bring a removed site back, unchanged."""
        if site_id not in self._sites:
            raise KeyError(site_id)
        self._removed.discard(site_id)

    def add_asset(self, site_id: str, kind: str = "feeder") -> SimAsset:
        """Add an asset of `kind` (see ASSET_KINDS) to a site and return it."""
        if kind not in ASSET_KINDS:
            raise ValueError(f"Unknown asset kind {kind!r}; known: {', '.join(ASSET_KINDS)}")
        self.site(site_id)
        return self._builder_of[site_id].add(kind)

    def remove_asset(self, site_id: str, asset_id: str) -> None:
        """Remove an asset (its children are attached to its parent)."""
        site = self.site(site_id)
        removed = site.assets.pop(asset_id)
        for asset in site.assets.values():
            if asset.parent_id == asset_id:
                asset.parent_id = removed.parent_id

    def raise_alarm(
        self,
        site_id: str,
        asset_id: str,
        alarm_type: str,
        *,
        severity: str | None = None,
        message: str | None = None,
    ) -> str:
        """Raise an alarm now on an asset and return its id."""
        site = self.site(site_id)
        if asset_id not in site.assets:
            raise KeyError(asset_id)
        alarm_id = f"al-m{len(self._manual_alarms) + 1:06d}"
        self._manual_alarms[alarm_id] = _Alarm(
            alarm_id,
            site_id,
            asset_id,
            alarm_type,
            severity or _SEVERITY.get(alarm_type, "medium"),
            self.now(),
            None,
            message,
        )
        return alarm_id

    def clear_alarm(self, alarm_id: str) -> None:
        """Clear an active alarm now (a raised one or a generated one)."""
        if alarm_id in self._manual_alarms:
            alarm = self._manual_alarms[alarm_id]
            if alarm.cleared is None:
                alarm.cleared = self.now()
            return
        self._cleared_early[alarm_id] = self.now()

    def vary_values(self, fraction: float) -> list[tuple[str, str]]:
        """Change the latest value of `fraction` of the reporting measurements; (site, id)s.

        For benchmarks of change-only state writes: under a frozen clock no value moves, and
        this moves an exact share of them, chosen anew (reproducibly) at each call. A chosen
        value rises by one step of its precision (a counter keeps growing) and stays raised;
        time series are not affected.
        """
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        reporting = [
            (site.id, m)
            for site in self.sites
            for asset in site.assets.values()
            for m in asset.measurements
            if not m.silent
        ]
        chooser = random.Random(f"{self.config.seed}:vary:{self._variations}")
        self._variations += 1
        chosen = chooser.sample(reporting, round(fraction * len(reporting)))
        for site_id, m in chosen:
            key = (site_id, m.id)
            self._nudges[key] = self._nudges.get(key, 0.0) + 10.0**-m.decimals
        return [(site_id, m.id) for site_id, m in chosen]

    def _latest_reading(self, site_id: str, m: SimMeasurement, t: float) -> float | None:
        if m.silent:
            return None
        nudge = self._nudges.get((site_id, m.id))
        return m.reading(t) if nudge is None else round(m.reading(t) + nudge, m.decimals)

    # --- data -----------------------------------------------------------------------------

    def _outage_of_day(self, gateway_id: str, day: int) -> tuple[float, float] | None:
        if unit_interval(self.config.seed, gateway_id, day, "down") >= (
            self.config.outage_probability
        ):
            return None
        start = day * 86_400 + uniform(0, 86_400, self.config.seed, gateway_id, day, "at")
        return start, start + uniform(600, 3600, self.config.seed, gateway_id, day, "for")

    def outage_at(self, gateway_id: str | None, t: float) -> tuple[float, float] | None:
        """The outage of a gateway under way at `t`, if any."""
        if gateway_id is None:
            return None
        day = math.floor(t / 86_400)
        for candidate in (day, day - 1):
            outage = self._outage(gateway_id, candidate)
            if outage is not None and outage[0] <= t < outage[1]:
                return outage
        return None

    def last_sample(self, gateway_id: str | None, t: float) -> float:
        """When a device behind the gateway last reported, as seen at `t`."""
        step = self.config.sample_seconds
        sample = math.floor(t / step) * step
        outage = self.outage_at(gateway_id, sample)
        if outage is not None:
            sample = (math.ceil(outage[0] / step) - 1) * step
        return sample

    def _site_json(self, site: SimSite, now: float) -> Json:
        location = site.location
        last = max(self.last_sample(g.id, now) for g in site.gateways)
        online = any(self.outage_at(g.id, now) is None for g in site.gateways)
        return {
            "id": site.id,
            "name": site.name,
            "address": {
                "street": location.street,
                "city": location.city,
                "zipCode": location.zip_code,
                "country": location.country,
            },
            "timeZone": location.time_zone,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "connectionStatus": "connected" if online else "disconnected",
            "lastCommunication": iso(last),
            "siteCategory": "office",  # a field the client does not know
        }

    def _generated_alarms(self, site: SimSite, first_slot: int, last_slot: int) -> list[_Alarm]:
        """The alarms the site raises by itself, activated in the given hour slots."""
        seed = self.config.seed
        pairs = [
            (asset, kind)
            for asset in site.assets.values()
            for kind in asset.alarm_types
            if kind != "communication_loss"
        ]
        alarms = []
        if pairs and self.config.alarms_per_site_per_hour > 0:
            chance = self.config.alarms_per_site_per_hour / len(pairs)
            for slot in range(first_slot, last_slot + 1):
                for asset, kind in pairs:
                    if unit_interval(seed, asset.id, kind, slot) >= chance:
                        continue
                    start = slot * _ALARM_SLOT + uniform(0, _ALARM_SLOT, seed, asset.id, slot)
                    duration = uniform(120, _ALARM_MAX_DURATION, seed, asset.id, kind, slot)
                    alarm_id = (
                        f"al-{int(unit_interval(seed, asset.id, kind, slot, 'id') * 2**48):012x}"
                    )
                    alarms.append(
                        _Alarm(
                            alarm_id,
                            site.id,
                            asset.id,
                            kind,
                            _SEVERITY.get(kind, "medium"),
                            start,
                            start + duration,
                        )
                    )
        for asset in site.assets.values():
            if "communication_loss" not in asset.alarm_types:
                continue
            for day in range(first_slot // 24 - 1, last_slot // 24 + 1):
                outage = self._outage(asset.gateway_id, day)
                if outage is None or not first_slot <= outage[0] // _ALARM_SLOT <= last_slot:
                    continue
                alarm_id = f"al-{int(unit_interval(seed, asset.id, day, 'com') * 2**48):012x}"
                alarms.append(
                    _Alarm(alarm_id, site.id, asset.id, "communication_loss", "medium", *outage)
                )
        return alarms

    def alarms(
        self, site: SimSite, status: str, start: float | None, end: float | None
    ) -> list[_Alarm]:
        """The site's alarms as seen now, newest first."""
        now = self.now()
        if status == "active":
            first = math.floor(now / _ALARM_SLOT) - 1
        else:
            first = math.floor(max(start or 0, now - ALARM_HISTORY_DAYS * 86_400) / _ALARM_SLOT)
        last = math.floor(min(end or now, now) / _ALARM_SLOT)
        candidates = self._generated_alarms(site, first, last) + [
            a for a in self._manual_alarms.values() if a.site_id == site.id
        ]
        result = []
        for alarm in candidates:
            if alarm.activated > now or alarm.asset_id not in site.assets:
                continue
            cleared = self._cleared_early.get(alarm.id, alarm.cleared)
            if cleared is not None and alarm.cleared is not None:
                cleared = min(cleared, alarm.cleared)
            if cleared is not None and cleared > now:
                cleared = None
            seen = _Alarm(
                alarm.id,
                alarm.site_id,
                alarm.asset_id,
                alarm.type,
                alarm.severity,
                alarm.activated,
                cleared,
                alarm.message,
            )
            if (status == "active") != (cleared is None) and status != "all":
                continue
            if start is not None and seen.activated < start:
                continue
            if end is not None and seen.activated >= end:
                continue
            result.append(seen)
        result.sort(key=lambda a: (a.activated, a.id), reverse=True)
        return result

    def _alarm_json(self, alarm: _Alarm, site: SimSite) -> Json:
        zone = ZoneInfo(site.location.time_zone)
        asset = site.assets[alarm.asset_id]
        label = alarm.type.replace("_", " ").capitalize()
        return {
            "id": alarm.id,
            "siteId": alarm.site_id,
            "assetId": alarm.asset_id,
            "type": alarm.type,
            "severity": alarm.severity,
            "label": f"{label} – {asset.name}",
            "message": alarm.message,
            "activatedAt": iso(alarm.activated, zone),
            "clearedAt": None if alarm.cleared is None else iso(alarm.cleared, zone),
            "acknowledged": alarm.cleared is not None and unit_interval(alarm.id, "ack") < 0.5,
        }

    # --- HTTP ---------------------------------------------------------------------------

    @property
    def app(self) -> web.Application:
        """A new aiohttp application serving both APIs (control.py adds the control routes)."""
        app = web.Application(middlewares=[self._vary, self._middleware, self._it_api.middleware])
        routes: list[tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            (paths.SITES, self._list_sites),
            (paths.SITE, self._get_site),
            (paths.ASSETS, self._list_assets),
            (paths.LATEST_VALUES, self._latest_values),
            (paths.TIME_SERIES, self._time_series),
            (paths.ALARMS, self._list_alarms),
        ]
        for path, handler in routes:
            app.router.add_get(API_PREFIX + path, handler, name=handler.__name__.strip("_"))
        self._it_api.add_routes(app)
        return app

    @web.middleware
    async def _vary(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Rewrite successful JSON answers as the configured variations say."""
        response = await handler(request)
        if (
            not self.variations.active
            or request.path.startswith(CONTROL_PREFIX)
            or not isinstance(response, web.Response)
            or response.status != 200
            or response.content_type != "application/json"
            or not isinstance(response.body, bytes)
        ):
            return response
        body = self.variations.rewrite(
            json.loads(response.body),
            it=is_it_path(request.path),
            operation=request.match_info.route.name or "",
        )
        return web.json_response(body)

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX) or is_it_path(request.path):
            return await handler(request)  # the IT Expert middleware answers its own paths
        stats = self.stats
        stats.requests += 1
        if stats.in_flight >= self.config.max_connections:
            stats.rejected_busy += 1
            headers = {}
            if self.config.retry_after_when_busy is not None:
                headers["Retry-After"] = self.config.retry_after_when_busy
            return problem(
                429,
                "TooManyRequests",
                f"More than {self.config.max_connections} simultaneous connections.",
                headers=headers,
            )
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        try:
            response = await self._answer(request, handler)
        finally:
            stats.in_flight -= 1
        if isinstance(response, web.Response) and response.body is not None:
            stats.bytes_sent += len(response.body)  # type: ignore[arg-type]
        return response

    async def _answer(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        fault = self.faults.take(request.path)
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.status is not None:
            return self._fault_response(fault)
        if fault is not None and fault.body is BodyFault.DROP:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to say on a dropped connection
        denied = self._check_access(request)
        if denied is not None:
            return denied
        route = request.match_info.route
        self.stats.by_operation[route.name or "unknown"] += 1
        self.stats.last_query[request.path] = request.query_string
        try:
            response = await handler(request)
        except web.HTTPException as err:
            return self._http_exception(err)
        except InvalidParametersError as err:
            return problem(
                400, "Invalid Resource", "Some parameters are invalid.", errors=err.errors
            )
        except KeyError as err:
            return problem(404, "ResourceNotFound", f"No resource with id {err.args[0]!r}.")
        if fault is not None and fault.body is not None and isinstance(response, web.Response):
            body = response.body if isinstance(response.body, bytes) else b""
            if fault.body is BodyFault.NON_JSON:
                body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                return web.Response(body=body, content_type="text/html")
            return web.Response(body=body[: len(body) // 2], content_type="application/json")
        return response

    def _http_exception(self, err: web.HTTPException) -> web.Response:
        if err.status == 405:
            return problem(405, "MethodNotAllowed", "Only GET is supported here.")
        if err.status == 404:
            return problem(404, "ResourceNotFound", "No such resource.")
        return problem(err.status, err.reason, err.text or err.reason)

    def _fault_response(self, fault: FaultRule) -> web.Response:
        status = fault.status or 500
        default_titles = {
            429: "TooManyRequests",
            500: "InternalServerError",
            503: "ComplianceRelated",
            401: "APIKeyInvalid",
            403: "Forbidden",
            404: "ResourceNotFound",
        }
        title = fault.title or default_titles.get(status, "Error")
        detail = fault.detail or (
            "This method has been disabled." if title == "ComplianceRelated" else "Injected fault."
        )
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        if fault.body is BodyFault.NON_JSON:
            # What a proxy in front of the service answers: an HTML page, not problem+json.
            html = f"<html><body><h1>{status} {title}</h1></body></html>"
            return web.Response(status=status, text=html, content_type="text/html", headers=headers)
        return problem(status, title, detail, headers=headers)

    def _check_access(self, request: web.Request) -> web.Response | None:
        key = request.headers.get(paths.HEADER_SUBSCRIPTION_KEY, "")
        token = request.headers.get(paths.HEADER_TECHNICAL_TOKEN, "")
        if not key:
            return problem(
                401,
                "APIKeyMissing",
                "The Authorization header with the SE Exchange subscription key is missing.",
            )
        if not token:
            return problem(
                401, "APIKeyMissing", "The apikey header with the technical token is missing."
            )
        key_ok, token_ok = key == self.subscription_key, token == self.technical_token
        if not key_ok and not token_ok:
            return problem(401, "APIKeyInvalid", "Neither credential is valid.")
        if not key_ok:
            return problem(
                401, "APIKeyInvalid", "The subscription key is invalid or has been revoked."
            )
        if not token_ok:
            return problem(
                401, "APIKeyInvalid", "The technical token is invalid or has been revoked."
            )
        if self.account_disabled:
            return problem(403, "UserDisabled", "The account behind this token is disabled.")
        if self.wrong_datacenter:
            return problem(403, "WrongDatacenter", "This token belongs to another data center.")
        return None

    # --- operations -----------------------------------------------------------------------

    def _page(self, request: web.Request) -> tuple[int, int]:
        errors = []
        values: list[int] = []
        for name, default, low, high in (
            ("offset", 0, 0, None),
            ("limit", paths.PAGE_LIMIT_DEFAULT, 1, paths.PAGE_LIMIT_MAX),
        ):
            raw = request.query.get(name)
            try:
                value = default if raw is None else int(raw)
            except ValueError:
                value = -1
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high else f"at least {low}"
                errors.append((name, f"must be an integer {bound}"))
            values.append(value)
        if errors:
            raise InvalidParametersError(*errors)
        cap = self.variations.page_cap
        return values[0], values[1] if cap is None else min(values[1], cap)

    async def _list_sites(self, request: web.Request) -> web.Response:
        offset, limit = self._page(request)
        sites = self.sites
        now = self.now()
        return web.json_response(
            {
                "sites": [self._site_json(s, now) for s in sites[offset : offset + limit]],
                "totalCount": len(sites),
                "offset": offset,
                "limit": limit,
            }
        )

    def _site_of(self, request: web.Request) -> SimSite:
        return self.site(request.match_info["site_id"])

    async def _get_site(self, request: web.Request) -> web.Response:
        site = self._site_of(request)
        now = self.now()
        gateways = []
        for gateway in site.gateways:
            outage = self.outage_at(gateway.id, now)
            gateways.append(
                {
                    "id": gateway.id,
                    "name": gateway.name,
                    "model": gateway.model,
                    "serialNumber": gateway.serial_number,
                    "firmwareVersion": gateway.firmware_version,
                    "connectionStatus": "connected" if outage is None else "disconnected",
                    "lastCommunication": iso(self.last_sample(gateway.id, now)),
                }
            )
        return web.json_response({**self._site_json(site, now), "gateways": gateways})

    async def _list_assets(self, request: web.Request) -> web.Response:
        site = self._site_of(request)
        assets = [a.to_json() for a in site.assets.values()]
        if self.variations.unknown_enums:
            assets.append(unknown_asset(site.id, next(iter(site.assets), None), self.variations))
        return web.json_response({"assets": assets})

    async def _latest_values(self, request: web.Request) -> web.Response:
        site = self._site_of(request)
        wanted = request.query.getall("assetId", [])
        for asset_id in wanted:
            if asset_id not in site.assets:
                raise KeyError(asset_id)
        assets = [site.assets[a] for a in wanted] if wanted else list(site.assets.values())
        now = self.now()
        values: list[Json] = []
        for asset in assets:
            sample = self.last_sample(asset.gateway_id, now)
            stamp = iso(sample)
            values.extend(
                {
                    "measurementId": m.id,
                    "assetId": asset.id,
                    "timestamp": stamp,
                    "value": self._latest_reading(site.id, m, sample),
                }
                for m in asset.measurements
            )
        if self.variations.unknown_enums and not wanted:
            values.append(
                {
                    "measurementId": unknown_measurement_id(site.id, self.variations),
                    "assetId": self.variations.site_id(f"as-unknown{site.id[-8:]}"),
                    "timestamp": iso(self.last_sample(None, now)),
                    "value": 612.5,
                }
            )
        return web.json_response({"values": values})

    def _buckets(
        self, site: SimSite, interval: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """The [begin, end) buckets of an interval inside [start, end), complete by now."""
        now = self.now()
        start = max(start, now - self.config.history_days * 86_400)
        end = min(end, now + (self.config.sample_seconds if interval == "raw" else 0))
        if interval == "day":
            zone = ZoneInfo(site.location.time_zone)
            day = datetime.fromtimestamp(start, zone).date()
            buckets = []
            while True:
                begin = datetime.combine(day, datetime.min.time(), zone).timestamp()
                day += timedelta(days=1)
                finish = datetime.combine(day, datetime.min.time(), zone).timestamp()
                if begin >= end or finish > now:
                    break
                if begin >= start:
                    buckets.append((begin, finish))
            return buckets
        step = self.config.sample_seconds if interval == "raw" else _INTERVAL_SECONDS[interval]
        first = math.ceil(start / step) * step
        buckets = []
        begin = first
        while begin < end:
            finish = begin + step
            if interval == "raw" or finish <= now:
                buckets.append((float(begin), float(finish)))
            begin = finish
        return buckets

    async def _time_series(self, request: web.Request) -> web.Response:
        site = self._site_of(request)
        query = request.query
        errors: list[tuple[str, str]] = []
        ids = query.getall("measurementId", [])
        if not 1 <= len(ids) <= paths.TIME_SERIES_MAX_MEASUREMENTS:
            errors.append(
                ("measurementId", f"give 1 to {paths.TIME_SERIES_MAX_MEASUREMENTS} measurements")
            )
        moments = []
        for name in ("from", "to"):
            moment = _parse_instant(query.get(name))
            if moment is None:
                errors.append((name, "required, an ISO 8601 date-time with a UTC offset"))
            moments.append(moment)
        start, end = moments
        if start is not None and end is not None and start >= end:
            errors.append(("to", "must be after from"))
        interval = query.get("interval", "hour")
        if interval not in paths.TIME_SERIES_INTERVALS:
            errors.append(("interval", f"one of {', '.join(paths.TIME_SERIES_INTERVALS)}"))
        cursor = query.get("cursor", "p0")
        if not (cursor.startswith("p") and cursor[1:].isdigit()):
            errors.append(("cursor", "not a cursor this service issued"))
        if errors or start is None or end is None:
            raise InvalidParametersError(*errors)
        measurements = site.measurements()
        for measurement_id in ids:
            if measurement_id not in measurements:
                raise KeyError(measurement_id)
        buckets = self._buckets(site, interval, start, end)
        first_cell = int(cursor[1:])
        last_cell = min(first_cell + self.config.series_page_points, len(ids) * len(buckets))
        series = []
        for index, measurement_id in enumerate(ids):
            low = max(first_cell - index * len(buckets), 0)
            high = min(last_cell - index * len(buckets), len(buckets))
            if low >= high:
                continue
            asset, measurement = measurements[measurement_id]
            values = []
            for begin, finish in buckets[low:high]:
                if interval == "raw":
                    when, value = begin, measurement.reading(begin)
                else:
                    when = finish if measurement.cumulative else begin
                    value = measurement.aggregate(begin, finish)
                if self.outage_at(asset.gateway_id, min(when, finish - 1)) is not None:
                    continue  # the gateway was offline: a gap, not a made-up value
                values.append(
                    {"timestamp": iso(begin), "value": None if measurement.silent else value}
                )
            series.append(
                {
                    "measurementId": measurement_id,
                    "unit": measurement.unit,
                    "interval": interval,
                    "values": values,
                }
            )
        more = last_cell < len(ids) * len(buckets)
        return web.json_response(
            {"series": series, "nextCursor": f"p{last_cell}" if more else None}
        )

    async def _list_alarms(self, request: web.Request) -> web.Response:
        site = self._site_of(request)
        query = request.query
        errors = []
        status = query.get("status", "active")
        if status not in paths.ALARM_STATUSES:
            errors.append(("status", f"one of {', '.join(paths.ALARM_STATUSES)}"))
        window = []
        for name in ("from", "to"):
            raw = query.get(name)
            moment = None if raw is None else _parse_instant(raw)
            if raw is not None and moment is None:
                errors.append((name, "an ISO 8601 date-time with a UTC offset"))
            window.append(moment)
        try:
            offset, limit = self._page(request)
        except InvalidParametersError as err:
            errors.extend(err.errors)
        if errors:
            raise InvalidParametersError(*errors)
        alarms = self.alarms(site, status, window[0], window[1])
        return web.json_response(
            {
                "alarms": [self._alarm_json(a, site) for a in alarms[offset : offset + limit]],
                "totalCount": len(alarms),
                "offset": offset,
                "limit": limit,
            }
        )


def _parse_instant(value: str | None) -> float | None:
    """A Unix timestamp from an ISO 8601 date-time that carries its offset, else None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()
