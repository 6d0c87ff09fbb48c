"""The HTTP side of the IT Expert simulator: routes, bearer keys, faults and problems.

Every operation is a GET under `/rest/v1` on the paths of the client's `it_expert.paths`.
Faults apply before the key is checked, as at the real service's gateway; errors are RFC 7807
problems (inferred: the public samples show no error body).
"""

import asyncio
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import web

from custom_components.ecostruxure.api.it_expert import paths as it_paths

from . import it_streams
from .building import Json
from .faults import BodyFault, FaultRule
from .it_common import IT_API_PREFIX, is_it_path
from .it_logs import OFFSET_LOG, ChangeLog, decode_offset

if TYPE_CHECKING:
    from .it_expert import ITExpertSimulator, OrganizationState

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PROBLEM_TYPE_BASE: Final = "https://api.ecostruxureit.com/problems/"


class ITProblemError(Exception):
    """An error answer: becomes an RFC 7807 problem."""

    def __init__(self, status: int, detail: str) -> None:
        """Keep the status and the explanation."""
        super().__init__(detail)
        self.status = status
        self.detail = detail


def problem(
    status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """An RFC 7807 answer."""
    title = title or HTTPStatus(status).phrase
    body = {
        "type": PROBLEM_TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    return web.json_response(
        body, status=status, headers=headers, content_type="application/problem+json"
    )


class ITExpertAPI:
    """Serves an ITExpertSimulator over HTTP."""

    def __init__(self, sim: ITExpertSimulator) -> None:
        """Serve `sim`."""
        self.sim = sim

    def add_routes(self, app: web.Application) -> None:
        """Register the API's routes on `app` (add `middleware` to it too)."""
        routes: list[tuple[str, Handler, str]] = [
            (it_paths.ORGANIZATIONS, self._list_organizations, "listOrganizations"),
            (it_paths.INVENTORY, self._list_inventory, "listInventory"),
            (it_paths.INVENTORY_CHANGES, self._inventory_changes, "getInventoryChangesAfterOffset"),
            (it_paths.DEVICE, self._get_device, "getDevice"),
            (it_paths.ALARMS, self._list_alarms, "listAlarms"),
            (it_paths.ALARM_CHANGES, self._alarm_changes, "getAlarmChangesAfterOffset"),
            (it_paths.SENSORS, self._list_sensors, "listSensors"),
            (it_paths.SENSOR_CHANGES, self._sensor_changes, "getSensorChangesAfterOffset"),
            (it_paths.LIVE_MEASUREMENTS, self._live, "liveMeasurements"),
            (it_paths.SIMULATED_LIVE_MEASUREMENTS, self._simulated, "simulatedLiveMeasurements"),
            (it_paths.REPLAY_MEASUREMENTS, self._replay, "replayMeasurements"),
        ]
        for path, handler, name in routes:
            app.router.add_get(IT_API_PREFIX + path, handler, name=name)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Faults first (like the real gateway in front of the service), then the answer."""
        if not is_it_path(request.path):
            return await handler(request)
        self.sim.stats.requests += 1
        fault = self.sim.faults.take(request.path)
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.status is not None:
            return self._fault_response(fault)
        if fault is not None and fault.body is BodyFault.DROP:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to say on a dropped connection
        try:
            response = await handler(request)
        except ITProblemError as err:
            return problem(err.status, err.detail)
        except web.HTTPException as err:
            if err.status == 405:
                return problem(405, "Every operation of this API is a GET.")
            if err.status == 404:
                return problem(404, "No such operation.")
            return problem(err.status, err.text or err.reason)
        if fault is not None and fault.body is not None and isinstance(response, web.Response):
            body = response.body if isinstance(response.body, bytes) else b""
            if fault.body is BodyFault.NON_JSON:
                html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                return web.Response(body=html, content_type="text/html")
            return web.Response(body=body[: len(body) // 2], content_type="application/json")
        return response

    @staticmethod
    def _fault_response(fault: FaultRule) -> web.Response:
        status = fault.status or 500
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        title = fault.title or HTTPStatus(status).phrase
        if fault.body is BodyFault.NON_JSON:
            # What a proxy in front of the service answers: an HTML page, not problem+json.
            html = f"<html><body><h1>{status} {title}</h1></body></html>"
            return web.Response(status=status, text=html, content_type="text/html", headers=headers)
        return problem(status, fault.detail or "Injected fault.", title=title, headers=headers)

    def _key(self, request: web.Request) -> str:
        self.sim.stats.by_operation[request.match_info.route.name or "unknown"] += 1
        header = request.headers.get(it_paths.HEADER_AUTHORIZATION, "")
        scheme, _, key = header.strip().partition(" ")
        if not header:
            raise ITProblemError(401, "The Authorization header is missing.")
        if scheme.lower() != it_paths.AUTHORIZATION_SCHEME or not key.strip():
            raise ITProblemError(401, "Send the API key as `Authorization: bearer <key>`.")
        key = key.strip()
        refused = self.sim.check_key(key)
        if refused is not None:
            raise ITProblemError(401, refused)
        return key

    def _authorized(self, request: web.Request) -> OrganizationState:
        """The organization of the path, if the key covers it (403 otherwise, even unknown)."""
        key = self._key(request)
        organization_id = request.match_info["organization_id"]
        if organization_id not in {org.id for org in self.sim.covered(key)}:
            raise ITProblemError(403, "The API key does not grant access to this organization.")
        return self.sim.state(organization_id)

    def _changes_offset(self, request: web.Request) -> int:
        raw = request.match_info["offset"]
        if not raw.isdigit():
            raise ITProblemError(400, "The offset must be a non-negative integer.")
        return int(raw)

    def _changes(self, log: ChangeLog, offset: int, key: str) -> Json:
        new_offset, elements = log.after(
            offset, self.sim.config.changes_page_size, repeat=self.sim.repeat_changes
        )
        return {"offset": new_offset, key: elements}

    async def _list_organizations(self, request: web.Request) -> web.Response:
        return web.json_response([org.id for org in self.sim.covered(self._key(request))])

    async def _list_inventory(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        org = state.org
        objects = [
            org.to_json(),
            *(location.to_json() for location in org.locations.values()),
            *(device.to_json() for device in org.devices.values()),
        ]
        return web.json_response({"offset": state.inventory.offset, "inventoryObjects": objects})

    async def _inventory_changes(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        offset = self._changes_offset(request)
        return web.json_response(self._changes(state.inventory, offset, "inventoryObjectChanges"))

    async def _get_device(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        device = state.org.devices.get(request.match_info["device_id"])
        if device is None:
            raise ITProblemError(404, "No device with this id in the organization.")
        return web.json_response(
            {"device": device.to_json(), "ancestors": state.org.ancestors(device)}
        )

    async def _list_alarms(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        alarms = sorted(state.alarms.values(), key=lambda a: a.activated)
        return web.json_response(
            {"offset": state.alarm_log.offset, "alarms": [a.to_json() for a in alarms]}
        )

    async def _alarm_changes(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        offset = self._changes_offset(request)
        return web.json_response(self._changes(state.alarm_log, offset, "alarms"))

    async def _list_sensors(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        sensors = [sensor.to_json() for sensor in state.org.sensors()]
        return web.json_response({"offset": state.sensors.offset, "sensors": sensors})

    async def _sensor_changes(self, request: web.Request) -> web.Response:
        state = self._authorized(request)
        offset = self._changes_offset(request)
        return web.json_response(self._changes(state.sensors, offset, "sensorChanges"))

    def _stream_request(self, request: web.Request) -> OrganizationState:
        state = self._authorized(request)
        if "gzip" not in request.headers.get("Accept-Encoding", "").lower():
            raise ITProblemError(406, "Measurements are only streamed gzip-compressed.")
        return state

    async def _live(self, request: web.Request) -> web.StreamResponse:
        return await it_streams.serve_live(self.sim, request, self._stream_request(request))

    async def _simulated(self, request: web.Request) -> web.StreamResponse:
        state = self._stream_request(request)
        values = []
        for name, default, high in (
            ("measurementsPerSecond", 10, 10_000),
            ("sensorCount", 100, 100_000),
        ):
            raw = request.query.get(name, str(default))
            if not raw.isdigit() or not 1 <= int(raw) <= high:
                raise ITProblemError(400, f"{name} must be an integer from 1 to {high}.")
            values.append(int(raw))
        return await it_streams.serve_simulated(self.sim, request, state, values[0], values[1])

    async def _replay(self, request: web.Request) -> web.StreamResponse:
        state = self._stream_request(request)
        numbers = []
        for name in ("fromOffset", "toOffset"):
            decoded = decode_offset(self.sim.offset_secret, request.query.get(name, ""))
            if decoded is None or decoded[:2] != (OFFSET_LOG, state.org.index):
                raise ITProblemError(400, f"{name} is not an offset of this organization.")
            numbers.append(decoded[2])
        after, upto = numbers
        log = state.measurements
        if not log.kept(after) or not after <= upto <= log.last:
            raise ITProblemError(400, "The offsets are unknown or expired.")
        refused = not self.sim.take_replay(state)
        return await it_streams.serve_replay(self.sim, request, state, after, upto, refused=refused)
