"""The simulator's control endpoint: drive faults, alarms, credentials and the clock over HTTP.

Used by the demo, the browser test and anyone running `python -m simulator`. It listens on
the same port as the API under `/_simulator`, without authentication: the simulator is meant
for loopback only.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .building import ASSET_KINDS
from .faults import FaultRule

if TYPE_CHECKING:
    from .facility_expert import Simulator

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


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    """Register the control routes of `sim` on `app`."""

    def route(method: str, path: str) -> Callable[[_Handler], _Handler]:
        def register(handler: _Handler) -> _Handler:
            async def wrapped(request: web.Request) -> web.Response:
                try:
                    return web.json_response(await handler(request, await _json_object(request)))
                except (_BadRequestError, ValueError, TypeError) as err:
                    return web.json_response({"error": str(err)}, status=400)
                except KeyError as err:
                    return web.json_response({"error": f"unknown id {err.args[0]!r}"}, status=404)

            app.router.add_route(method, _PREFIX + path, wrapped)
            return handler

        return register

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
        return {"now": sim.clock.now().isoformat(), "frozen": sim.clock.frozen}
