"""A service that echoes the secrets it was sent: none reaches a message, a log or the UI.

The echo comes whole, URL-encoded (either case of %xx), upper-cased and in fragments, in every
part of an RFC 7807 problem (title, detail, errors) and in the reason phrase.
"""

from collections.abc import AsyncIterator
import json
import logging
from urllib.parse import quote, quote_plus

import aiohttp
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ecostruxure.api import (
    EcoStruxureError,
    FacilityExpertClient,
    ITExpertClient,
    RetryPolicy,
)
from custom_components.ecostruxure.api.it_expert.parsing import parse_inventory
from custom_components.ecostruxure.api.it_expert.stream_lines import parse_stream_line
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    SERVICE_IT_EXPERT,
)
from simulator import ITExpertConfig, SimulatorConfig, SimulatorServer
from tests.simulator_fixtures import quiet

from .server import Handler, HostileServer

# Secrets as issued: random, with characters URL encoding changes.
SUBSCRIPTION_KEY = "7c1f0e9a4b2d4c6e8a0b1c2d3e4f5a6b"
TECHNICAL_TOKEN = "Tk/9x+Qe2Lm4Np6Rs8Uv0Wy=Za1Bc3De"
IT_KEY = "AK1/p4rtn3r+Key/7Hq2Wz9=Lx5Vb8Nm"
SECRETS = (SUBSCRIPTION_KEY, TECHNICAL_TOKEN, IT_KEY)


def _forms(secret: str) -> set[str]:
    encoded = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    return {secret, *encoded, *(form.lower() for form in encoded)}


def leaks(text: str) -> list[str]:
    """Every 8-character run of a secret, in any of its forms, that `text` contains."""
    lowered = text.lower()
    return sorted(
        {
            form[i : i + 8]
            for secret in SECRETS
            for form in _forms(secret)
            for i in range(len(form) - 7)
            if form[i : i + 8].lower() in lowered
        }
    )


def _echo(request: web.Request) -> str:
    """What a careless service writes back: the credentials, in every disguise."""
    parts: list[str] = []
    for header in ("Authorization", "apikey"):
        value = request.headers.get(header, "")
        credential = value.split(" ", 1)[-1]
        parts += [
            f"{header}: {value}",
            credential,
            quote(credential, safe=""),
            quote(credential, safe="").lower(),
            quote_plus(credential),
            credential.upper(),
            f"...{credential[3:12]}...",
            f"{credential[:10]}…{credential[-10:]}",
        ]
    return " | ".join(parts)


def _handler(status: int, padding: int = 0) -> Handler:
    """A problem of `status` echoing the request's secrets."""

    async def handle(request: web.Request) -> web.Response:
        echo = _echo(request)
        problem = {
            "type": "about:blank",
            "title": f"Bad {echo}",
            "status": status,
            "detail": "x" * padding + f"You sent {echo}",
            "errors": [
                {"name": request.headers.get("apikey", "apikey"), "reason": echo},
                {"name": "Authorization", "reason": echo},
            ],
        }
        return web.Response(
            status=status,
            reason=f"Echo {quote(request.headers.get('apikey', ''), safe='')}",
            body=json.dumps(problem).encode(),
            content_type="application/problem+json",
        )

    return handle


def _assert_clean(*texts: object) -> None:
    for text in texts:
        assert leaks(str(text)) == [], text


# --- the clients ----------------------------------------------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500, 503])
async def test_facility_expert_errors_carry_no_secret(
    hostile: HostileServer,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile.on(r"/sites$", _handler(status))
    client = FacilityExpertClient(
        session,
        SUBSCRIPTION_KEY,
        TECHNICAL_TOKEN,
        base_url=hostile.base_url,
        retry=RetryPolicy(attempts=1),
    )
    with pytest.raises(EcoStruxureError) as caught:
        await client.list_sites()
    err = caught.value
    assert hostile.seen[0].headers["apikey"] == TECHNICAL_TOKEN  # the echo did carry it
    assert "REDACTED" in str(err)
    _assert_clean(str(err), repr(err), vars(err), caplog.text)


async def test_a_huge_problem_makes_a_short_message(
    hostile: HostileServer, session: aiohttp.ClientSession
) -> None:
    hostile.on(r"/sites$", _handler(400, padding=2_000_000))
    client = FacilityExpertClient(
        session, SUBSCRIPTION_KEY, TECHNICAL_TOKEN, base_url=hostile.base_url
    )
    with pytest.raises(EcoStruxureError) as caught:
        await client.list_sites()
    assert len(str(caught.value)) < 2000
    _assert_clean(str(caught.value))


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500])
async def test_it_expert_errors_carry_no_key(
    hostile: HostileServer,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile.on(r"/organizations$", _handler(status))
    hostile.on(r"/measurements/live$", _handler(status))
    client = ITExpertClient(
        session, IT_KEY, base_url=hostile.base_url, retry=RetryPolicy(attempts=1)
    )
    with pytest.raises(EcoStruxureError) as caught:
        await client.organizations()
    rest_error = caught.value
    with pytest.raises(EcoStruxureError) as caught:
        async for _ in client.live_measurements("org"):
            pass
    stream_error = caught.value
    assert hostile.seen[0].headers["Authorization"] == f"bearer {IT_KEY}"
    for err in (rest_error, stream_error):
        assert "REDACTED" in str(err)
        _assert_clean(str(err), repr(err), vars(err))
    _assert_clean(caplog.text)


# --- through Home Assistant -----------------------------------------------------------------


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """An account whose secrets are the ones above; small IT Expert customers."""
    return quiet(
        SimulatorConfig(
            seed=7,
            sites=2,
            assets_per_site=8,
            subscription_key=SUBSCRIPTION_KEY,
            technical_token=TECHNICAL_TOKEN,
            it_expert=ITExpertConfig(
                organizations=2,
                rooms_per_organization=1,
                racks_per_room=1,
                outlets_per_pdu=2,
                partner_all_key=IT_KEY,
            ),
        )
    )


def _fe_entry(base_url: str, sites: list[str]) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="EcoStruxure",
        unique_id=sites[0],
        data={
            CONF_SUBSCRIPTION_KEY: SUBSCRIPTION_KEY,
            CONF_TECHNICAL_TOKEN: TECHNICAL_TOKEN,
            CONF_BASE_URL: base_url,
        },
        options={CONF_SITES: sites, CONF_SCAN_INTERVAL: 60},
    )


async def test_an_entry_shows_no_echoed_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hostile_proxy: HostileServer,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One site's values fail with an echo: the entry runs, its diagnostics are clean."""
    caplog.set_level(logging.DEBUG)
    sites = [site.id for site in simulator_server.simulator.sites]
    hostile_proxy.on(rf"/sites/{sites[0]}/measurements/latest$", _handler(400))
    entry = _fe_entry(hostile_proxy.base_url, sites)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert "REDACTED" in json.dumps(diagnostics)  # the failure is shown, redacted
    _assert_clean(json.dumps(diagnostics), caplog.text)


async def test_a_failed_setup_shows_no_echoed_secret(
    hass: HomeAssistant,
    hostile_proxy: HostileServer,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sites = [site.id for site in simulator_server.simulator.sites]
    hostile_proxy.on(r"/measurements/latest$", _handler(400))
    entry = _fe_entry(hostile_proxy.base_url, sites)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    _assert_clean(entry.reason, caplog.text)


async def test_the_config_flow_shows_no_echoed_secret(
    hass: HomeAssistant, hostile_proxy: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile_proxy.on(r"/sites$", _handler(400))
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_SUBSCRIPTION_KEY: SUBSCRIPTION_KEY,
            CONF_TECHNICAL_TOKEN: TECHNICAL_TOKEN,
            CONF_ADVANCED: {CONF_BASE_URL: hostile_proxy.base_url},
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "REDACTED" in caplog.text  # the flow logged the answer, redacted
    _assert_clean(str(result.get("errors")), str(result.get("description_placeholders")))
    _assert_clean(caplog.text)


async def test_an_it_expert_entry_shows_no_echoed_key(
    hass: HomeAssistant,
    hostile_proxy: HostileServer,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile_proxy.on(r"/organizations$", _handler(400))
    it_base_url = hostile_proxy.root_url + simulator_server.it_base_url.removeprefix(
        simulator_server.root_url
    )
    organization = simulator_server.simulator.it_expert.organizations[0].id
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="IT Expert",
        unique_id=f"it_expert:{organization}",
        data={CONF_SERVICE: SERVICE_IT_EXPERT, CONF_API_KEY: IT_KEY, CONF_BASE_URL: it_base_url},
        options={CONF_ORGANIZATIONS: [organization], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert any(seen.path.endswith("/organizations") for seen in hostile_proxy.seen)
    _assert_clean(str(entry.reason), caplog.text)


def test_parsers_log_no_text_of_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    """Items the parsers skip are logged at debug without quoting what the service sent."""
    caplog.set_level(logging.DEBUG, logger="custom_components.ecostruxure")
    inventory = {
        "offset": 1,
        "inventoryObjects": [{"id": "d-1", "inventoryObjectType": f"Kind{IT_KEY}"}],
    }
    assert parse_inventory(inventory, "org-1").items == ()
    assert parse_stream_line(json.dumps({"systemMessageType": IT_KEY})) is None
    assert parse_stream_line(json.dumps({IT_KEY: 1})) is None
    assert len(caplog.records) == 3
    _assert_clean(caplog.text)
