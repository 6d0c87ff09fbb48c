"""The simulator's control endpoint: drive faults, alarms, credentials and the clock over HTTP.

Used by the demo, the browser test and anyone running `python -m simulator`. It listens on
the same port as the API under `/_simulator` (the IT Expert API under `/_simulator/it`),
without authentication: the simulator is meant for loopback only.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .building import ASSET_KINDS
from .faults import FaultRule
from .it_expert import KeyKind

if TYPE_CHECKING:
    from .facility_expert import Simulator
    from .it_expert import ITExpertSimulator

_PREFIX = "/_simulator"
type _Handler = Callable[[web.Request, dict[str, Any]], Awaitable[Any]]


class _BadRequestError(Exception):
    pass


async def _json_object(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise _BadRequestError("The body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequestError("The body must be a JSON object")
    return body


def _router(
    app: web.Application, prefix: str
) -> Callable[[str, str], Callable[[_Handler], _Handler]]:
    """A decorator registering a JSON handler at `prefix + path`; errors become 400 or 404."""

    def route(method: str, path: str) -> Callable[[_Handler], _Handler]:
        def register(handler: _Handler) -> _Handler:
            async def wrapped(request: web.Request) -> web.Response:
                try:
                    return web.json_response(await handler(request, await _json_object(request)))
                except (_BadRequestError, ValueError, TypeError) as err:
                    return web.json_response({"error": str(err)}, status=400)
                except KeyError as err:
                    return web.json_response({"error": f"unknown id {err.args[0]!r}"}, status=404)

            app.router.add_route(method, prefix + path, wrapped)
            return handler

        return register

    return route


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    """Register the control routes of `sim` (and of its IT Expert API) on `app`."""
    route = _router(app, _PREFIX)
    add_it_control_routes(app, sim.it_expert)

    @route("GET", "")
    async def state(request: web.Request, body: dict[str, Any]) -> Any:
        return {
            "now": sim.clock.now().isoformat(),
            "frozen": sim.clock.frozen,
            "sites": [{"id": s.id, "name": s.name, "assets": len(s.assets)} for s in sim.sites],
            "accountDisabled": sim.account_disabled,
            "wrongDatacenter": sim.wrong_datacenter,
            "faults": [rule.to_json() for rule in sim.faults.rules],
            "stats": sim.stats.to_json(),
            "assetKinds": list(ASSET_KINDS),
        }

    @route("POST", "/faults")
    async def add_fault(request: web.Request, body: dict[str, Any]) -> Any:
        return sim.faults.add(FaultRule(**body)).to_json()

    @route("DELETE", "/faults")
    async def clear_faults(request: web.Request, body: dict[str, Any]) -> Any:
        sim.faults.clear()
        return {"faults": []}

    @route("POST", "/alarms")
    async def raise_alarm(request: web.Request, body: dict[str, Any]) -> Any:
        site_id = body.get("siteId") or sim.sites[0].id
        asset_id = body.get("assetId")
        kind = body.get("type", "overload")
        if asset_id is None:
            # The first asset that can raise this type of alarm.
            asset_id = next(
                a.id for a in sim.site(site_id).assets.values() if kind in a.alarm_types
            )
        alarm_id = sim.raise_alarm(
            site_id, asset_id, kind, severity=body.get("severity"), message=body.get("message")
        )
        return {"id": alarm_id, "siteId": site_id, "assetId": asset_id, "type": kind}

    @route("DELETE", "/alarms/{alarm_id}")
    async def clear_alarm(request: web.Request, body: dict[str, Any]) -> Any:
        sim.clear_alarm(request.match_info["alarm_id"])
        return {"cleared": request.match_info["alarm_id"]}

    @route("POST", "/credentials")
    async def revoke(request: web.Request, body: dict[str, Any]) -> Any:
        sim.revoke_credentials(
            new_subscription_key=body.get("subscriptionKey"),
            new_technical_token=body.get("technicalToken"),
        )
        return {"subscriptionKey": sim.subscription_key, "technicalToken": sim.technical_token}

    @route("POST", "/account")
    async def account(request: web.Request, body: dict[str, Any]) -> Any:
        if "disabled" in body:
            sim.disable_account(bool(body["disabled"]))
        if "wrongDatacenter" in body:
            sim.set_wrong_datacenter(bool(body["wrongDatacenter"]))
        return {"accountDisabled": sim.account_disabled, "wrongDatacenter": sim.wrong_datacenter}

    @route("POST", "/sites/{site_id}/remove")
    async def remove_site(request: web.Request, body: dict[str, Any]) -> Any:
        sim.remove_site(request.match_info["site_id"])
        return {"removed": request.match_info["site_id"]}

    @route("POST", "/sites/{site_id}/restore")
    async def restore_site(request: web.Request, body: dict[str, Any]) -> Any:
        sim.restore_site(request.match_info["site_id"])
        return {"restored": request.match_info["site_id"]}

    @route("POST", "/sites/{site_id}/assets")
    async def add_asset(request: web.Request, body: dict[str, Any]) -> Any:
        return sim.add_asset(request.match_info["site_id"], body.get("kind", "feeder")).to_json()

    @route("POST", "/clock")
    async def clock(request: web.Request, body: dict[str, Any]) -> Any:
        if body.get("freeze"):
            at = body["freeze"]
            sim.clock.freeze(datetime.fromisoformat(at) if isinstance(at, str) else None)
        if body.get("resume"):
            sim.clock.resume()
        if "advanceSeconds" in body:
            sim.clock.advance(timedelta(seconds=float(body["advanceSeconds"])))
        sim.it_expert.notify()  # open IT Expert streams see the new time at once
        return {"now": sim.clock.now().isoformat(), "frozen": sim.clock.frozen}


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _BadRequestError(f"{name} (a non-empty string) is required")
    return value


def add_it_control_routes(app: web.Application, it: ITExpertSimulator) -> None:
    """Register the IT Expert control routes under `/_simulator/it`."""
    route = _router(app, _PREFIX + "/it")

    @route("GET", "")
    async def state(request: web.Request, body: dict[str, Any]) -> Any:
        return {"now": it.clock.now().isoformat(), **it.control_state()}

    @route("POST", "/organizations/{organization_id}/consent/{action}")
    async def consent(request: web.Request, body: dict[str, Any]) -> Any:
        organization_id, action = (
            request.match_info["organization_id"],
            request.match_info["action"],
        )
        if action not in ("revoke", "restore"):
            raise _BadRequestError("revoke or restore")
        if action == "revoke":
            it.revoke_consent(organization_id)
        else:
            it.restore_consent(organization_id)
        return {"organizationId": organization_id, "consent": action == "restore"}

    @route("POST", "/keys/{kind}/{action}")
    async def key(request: web.Request, body: dict[str, Any]) -> Any:
        kind, action = KeyKind(request.match_info["kind"]), request.match_info["action"]
        if action not in ("revoke", "restore"):
            raise _BadRequestError("revoke or restore")
        if action == "revoke":
            it.revoke_key(it.config.key(kind))
        else:
            it.restore_key(it.config.key(kind))
        return {"kind": kind, "revoked": action == "revoke"}

    @route("POST", "/organizations/{organization_id}/devices")
    async def add_device(request: web.Request, body: dict[str, Any]) -> Any:
        listed_after = body.get("listedAfterSeconds")
        devices = it.add_device(
            request.match_info["organization_id"],
            body.get("type", "UPS"),
            label=body.get("label"),
            location_id=body.get("locationId"),
            parent_id=body.get("parentId"),
            listed_after=None if listed_after is None else timedelta(seconds=float(listed_after)),
        )
        return {
            "devices": [
                {**device.to_json(), "sensors": [s.to_json() for s in device.sensors]}
                for device in devices
            ]
        }

    @route("DELETE", "/devices/{device_id}")
    async def remove_device(request: web.Request, body: dict[str, Any]) -> Any:
        return {"removed": it.remove_device(request.match_info["device_id"])}

    @route("PATCH", "/devices/{device_id}")
    async def rename_device(request: web.Request, body: dict[str, Any]) -> Any:
        it.rename_device(request.match_info["device_id"], _text(body, "label"))
        return {"id": request.match_info["device_id"], "label": body["label"]}

    @route("POST", "/devices/{device_id}/sensors")
    async def add_sensor(request: web.Request, body: dict[str, Any]) -> Any:
        sensor = it.add_sensor(
            request.match_info["device_id"],
            body.get("label", "Extra sensor"),
            body.get("type", "TEMPERATURE"),
            body.get("unit", "°C"),
            body.get("valueType", "NUMERIC"),
        )
        return sensor.to_json()

    @route("DELETE", "/sensors/{sensor_id}")
    async def remove_sensor(request: web.Request, body: dict[str, Any]) -> Any:
        it.remove_sensor(request.match_info["sensor_id"])
        return {"removed": request.match_info["sensor_id"]}

    @route("POST", "/organizations/{organization_id}/alarms")
    async def raise_alarm(request: web.Request, body: dict[str, Any]) -> Any:
        alarm_id = it.raise_alarm(
            request.match_info["organization_id"],
            _text(body, "deviceId"),
            severity=body.get("severity", "WARNING"),
            label=body.get("label", "Test alarm"),
            message=body.get("message"),
        )
        return {"id": alarm_id}

    @route("DELETE", "/alarms/{alarm_id}")
    async def clear_alarm(request: web.Request, body: dict[str, Any]) -> Any:
        it.clear_alarm(request.match_info["alarm_id"])
        return {"cleared": request.match_info["alarm_id"]}

    @route("POST", "/measurements")
    async def emit(request: web.Request, body: dict[str, Any]) -> Any:
        value = body.get("value")
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            raise _BadRequestError("value (a number or a string) is required")
        timestamp = body.get("timestamp")
        number = it.emit_measurement(
            _text(body, "sensorId"),
            float(value) if not isinstance(value, str) else value,
            timestamp=None if timestamp is None else datetime.fromisoformat(timestamp),
            organization_id=body.get("organizationId"),
        )
        return {"line": number}

    @route("POST", "/streams/drop")
    async def drop(request: web.Request, body: dict[str, Any]) -> Any:
        dropped = it.drop_streams(body.get("organizationId"), mid_line=bool(body.get("midLine")))
        return {"dropped": dropped}

    @route("POST", "/streams/rate-limit")
    async def rate_limit(request: web.Request, body: dict[str, Any]) -> Any:
        return {"rateLimited": it.rate_limit_streams(body.get("organizationId"))}

    @route("POST", "/changes")
    async def changes(request: web.Request, body: dict[str, Any]) -> Any:
        if "repeat" in body:
            it.repeat_changes = bool(body["repeat"])
        return {"repeat": it.repeat_changes}
