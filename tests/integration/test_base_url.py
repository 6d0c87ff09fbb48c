"""The base URL in the flows and at setup: https only (http to local addresses), one spelling.

Nothing is sent to a base URL that is refused: the simulator counts no request.
"""

import asyncio
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure.api import FacilityExpertClient, RedirectError
from custom_components.ecostruxure.api.it_expert.client import ITExpertClient
from custom_components.ecostruxure.api.pacing import DEFAULT_CONCURRENCY
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_API_KEY,
    CONF_BASE_URL,
    DOMAIN,
)
from custom_components.ecostruxure.facility_expert.entry import client_for
from simulator import KeyKind, SimulatorServer

from . import test_config_flow as fe, test_config_flow_it_expert as it


def bad_urls(server: SimulatorServer, base: str) -> list[tuple[str, str]]:
    """Base URLs the flows refuse, with the form error each gets."""
    root = server.root_url.removeprefix("http://")
    path = base.removeprefix(server.root_url)
    return [
        (f"http://ecostruxure.example.com{path}", "insecure_base_url"),
        (f"http://user:pw@{root}{path}", "invalid_base_url"),
        (f"{base}?x=1", "invalid_base_url"),
        (f"{base}#frag", "invalid_base_url"),
        (f"ftp://{root}{path}", "invalid_base_url"),
        ("file:///etc/passwd", "invalid_base_url"),
    ]


async def test_facility_expert_flow_refuses_unsafe_base_urls_and_keeps_the_input(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    flow_id = (await fe.start(hass))["flow_id"]
    for url, error in bad_urls(simulator_server, simulator_server.base_url):
        requests = sim.stats.requests
        result = await hass.config_entries.flow.async_configure(
            flow_id, fe.user_input(simulator_server, url)
        )
        assert result["type"] is FlowResultType.FORM, url
        assert result["errors"] == {"base": error}, url
        assert fe.suggested(result, CONF_ADVANCED, CONF_BASE_URL) == url
        assert sim.stats.requests == requests, url  # nothing sent, no retry
    # Any spelling of the local address is one URL, stored in its canonical form.
    shouting = simulator_server.base_url.replace("http://", "HTTP://") + "/"
    result = await hass.config_entries.flow.async_configure(
        flow_id, fe.user_input(simulator_server, shouting)
    )
    assert result["step_id"] == "sites"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"sites": [sim.sites[0].id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BASE_URL] == simulator_server.base_url


async def test_it_expert_flow_refuses_unsafe_base_urls_and_keeps_the_input(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    stats = simulator_server.simulator.it_expert.stats
    api_key = it.key(simulator_server.simulator.it_expert, KeyKind.PARTNER_ALL)
    flow_id = (await it.start(hass))["flow_id"]
    for url, error in bad_urls(simulator_server, simulator_server.it_base_url):
        requests = stats.requests
        result = await hass.config_entries.flow.async_configure(
            flow_id, it.user_input(simulator_server, api_key, url)
        )
        assert result["type"] is FlowResultType.FORM, url
        assert result["errors"] == {"base": error}, url
        assert it.suggested(result, CONF_ADVANCED, CONF_BASE_URL) == url
        assert stats.requests == requests, url
    result = await hass.config_entries.flow.async_configure(
        flow_id, it.user_input(simulator_server, api_key)
    )
    assert result["step_id"] == "organizations"


async def test_reconfiguration_refuses_plain_http_to_the_internet(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**fe.secrets(simulator_server), CONF_BASE_URL: "http://ecostruxure.example.com/api"},
    )
    assert result["errors"] == {"base": "insecure_base_url"}
    assert loaded_entry.data[CONF_BASE_URL] == simulator_server.base_url


async def test_it_reconfiguration_refuses_credentials_in_the_url(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    sim_it = simulator_server.simulator.it_expert
    entry = it.it_entry(simulator_server, it.key(sim_it), it.org_ids(sim_it)[:1])
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    url = simulator_server.it_base_url.replace("http://", "http://me:secret@")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: it.key(sim_it), CONF_BASE_URL: url}
    )
    assert result["errors"] == {"base": "invalid_base_url"}
    assert entry.data[CONF_BASE_URL] == simulator_server.it_base_url


@pytest.mark.parametrize("service", ["facility_expert", "it_expert"])
@pytest.mark.parametrize(
    ("url", "error", "explained"),
    [
        # Edited by hand in .storage: a password in it; plain http to a public host.
        ("https://me:hunter2@ecostruxure.example.com", "invalid_base_url", "no user name"),
        ("http://ecostruxure.example.com", "insecure_base_url", "secrets unencrypted"),
    ],
)
async def test_an_entry_with_an_unsafe_stored_url_fails_setup_with_a_clear_reason(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    caplog: pytest.LogCaptureFixture,
    service: str,
    url: str,
    error: str,
    explained: str,
) -> None:
    sim = simulator_server.simulator
    if service == "it_expert":
        sim_it = sim.it_expert
        config_entry = it.it_entry(simulator_server, it.key(sim_it), it.org_ids(sim_it)[:1])
    data: dict[str, Any] = {**config_entry.data, CONF_BASE_URL: url}
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, data=data)
    with caplog.at_level(logging.ERROR):
        assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert config_entry.reason is not None
    assert "base URL of this entry" in config_entry.reason
    assert explained in config_entry.reason
    # Home Assistant logs the error with its traceback; neither repeats the URL.
    assert "hunter2" not in caplog.text
    assert "example.com" not in caplog.text
    assert sim.stats.requests == 0
    assert sim.it_expert.stats.requests == 0

    # The options cannot be opened on it either: an abort, not an error 500.
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == error


async def test_spellings_of_one_base_url_share_one_connection_limit(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    """Three entries of one account, their URLs typed differently: one limit, not three."""
    sim = simulator_server.simulator
    sim.faults.add(latency=0.2, path="/sites$")
    clients = [
        client_for(
            hass,
            {
                "subscription_key": sim.subscription_key,
                "technical_token": sim.technical_token,
                CONF_BASE_URL: simulator_server.base_url.replace("http://", scheme),
            },
        )
        for scheme in ("http://", "HTTP://", "Http://")
    ]
    sim.stats.reset()
    await asyncio.gather(
        *(c.list_sites() for c in clients for _ in range(DEFAULT_CONCURRENCY)),
    )
    assert sim.stats.peak_in_flight == DEFAULT_CONCURRENCY  # not three times as many


@pytest.mark.parametrize("service", ["facility_expert", "it_expert"])
async def test_a_redirect_is_a_form_error(
    hass: HomeAssistant, simulator_server: SimulatorServer, service: str
) -> None:
    # Until the client refuses redirects by itself, the error is made here.
    if service == "facility_expert":
        target: Any = patch.object(
            FacilityExpertClient, "list_sites", side_effect=RedirectError(302, "/sites")
        )
        flow_id = (await fe.start(hass))["flow_id"]
        entered = fe.user_input(simulator_server)
    else:
        target = patch.object(
            ITExpertClient, "organizations", side_effect=RedirectError(301, "/organizations")
        )
        flow_id = (await it.start(hass))["flow_id"]
        entered = it.user_input(
            simulator_server, it.key(simulator_server.simulator.it_expert, KeyKind.PARTNER_ALL)
        )
    with target:
        result = await hass.config_entries.flow.async_configure(flow_id, entered)
    assert result["errors"] == {"base": "redirected"}
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize("service", ["facility_expert", "it_expert"])
async def test_reauthentication_sends_nothing_to_an_unsafe_stored_url(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    service: str,
) -> None:
    sim = simulator_server.simulator
    if service == "it_expert":
        config_entry = it.it_entry(
            simulator_server, it.key(sim.it_expert), it.org_ids(sim.it_expert)[:1]
        )
        entered: dict[str, Any] = {CONF_API_KEY: it.key(sim.it_expert)}
    else:
        entered = fe.secrets(simulator_server)
    config_entry.add_to_hass(hass)
    url = simulator_server.root_url.replace("127.0.0.1", "ecostruxure.example.com")
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_BASE_URL: url}
    )
    result = await config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entered)
    assert result["errors"] == {"base": "insecure_base_url"}  # reconfigure is the way out
    assert config_entry.data[CONF_BASE_URL] == url
