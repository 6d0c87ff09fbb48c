"""Adding, re-authenticating, reconfiguring and tuning an entry, against the simulator."""

from collections.abc import AsyncIterator, Callable
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure import capacity
from custom_components.ecostruxure.api.facility_expert.paths import DEFAULT_BASE_URL
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_HISTORY_DAYS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    CONF_SUBSCRIPTION_KEY,
    CONF_TECHNICAL_TOKEN,
    DOMAIN,
    SERVICE_FACILITY_EXPERT,
)
from simulator import BodyFault, Simulator, SimulatorConfig, SimulatorServer


def secrets(server: SimulatorServer, **overrides: str) -> dict[str, Any]:
    return {
        CONF_SUBSCRIPTION_KEY: server.simulator.subscription_key,
        CONF_TECHNICAL_TOKEN: server.simulator.technical_token,
        **overrides,
    }


def user_input(server: SimulatorServer, base_url: str | None = None, **overrides: str) -> dict:
    return {
        **secrets(server, **overrides),
        CONF_ADVANCED: {CONF_BASE_URL: base_url or server.base_url + "/"},
    }


def suggested(result: FlowResult, *path: str) -> Any:
    """The value a form offers again: the suggested value of a field (in a section)."""
    schema = result["data_schema"].schema
    for key in path[:-1]:
        schema = schema[key].schema.schema  # a section's own schema
    for marker in schema:
        if marker == path[-1]:
            return (marker.description or {}).get("suggested_value")
    raise KeyError(path)


async def start(hass: HomeAssistant) -> FlowResult:
    """A new flow, past the menu: Facility Expert chosen."""
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )


@pytest.fixture
async def other_account(socket_enabled: None) -> AsyncIterator[SimulatorServer]:
    """Another account: a service with other sites and other secrets."""
    sim = Simulator(
        SimulatorConfig(seed=99, sites=1, assets_per_site=8, technical_token="other-token")
    )
    async with SimulatorServer(sim) as server:
        yield server


async def test_the_flow_starts_with_a_choice_of_service(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert list(result["menu_options"]) == ["facility_expert", "it_expert"]


async def test_form_defaults_to_the_real_service(hass: HomeAssistant) -> None:
    result = await start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "facility_expert"
    assert result["errors"] == {}
    filled = result["data_schema"]({CONF_SUBSCRIPTION_KEY: "k", CONF_TECHNICAL_TOKEN: "t",
                                     CONF_ADVANCED: {}})  # fmt: skip
    assert filled[CONF_ADVANCED][CONF_BASE_URL] == DEFAULT_BASE_URL


async def test_secrets_then_sites_create_an_entry(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(simulator_server)
    )
    assert result["step_id"] == "sites"
    selector = result["data_schema"].schema[CONF_SITES]
    labels = {o["value"]: o["label"] for o in selector.config["options"]}
    assert labels == {s.id: f"{s.name} ({s.location.city})" for s in sim.sites}
    assert result["data_schema"]({})[CONF_SITES] == [s.id for s in sim.sites]  # all by default

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SITES: [sim.sites[1].id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == sim.sites[1].name
    assert result["data"] == {
        CONF_SERVICE: SERVICE_FACILITY_EXPERT,
        CONF_SUBSCRIPTION_KEY: sim.subscription_key,
        CONF_TECHNICAL_TOKEN: sim.technical_token,
        CONF_BASE_URL: simulator_server.base_url,  # trailing slash removed
    }
    assert result["options"] == {
        CONF_SITES: [sim.sites[1].id],
        CONF_SCAN_INTERVAL: 60,
        CONF_HISTORY_DAYS: 30,
    }
    entry = result["result"]
    assert entry.unique_id == sim.sites[1].id
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.topology) == {sim.sites[1].id}


@pytest.mark.parametrize(
    ("break_it", "override", "error"),
    [
        (None, {CONF_SUBSCRIPTION_KEY: "wrong"}, "invalid_subscription_key"),
        (None, {CONF_TECHNICAL_TOKEN: "wrong"}, "invalid_technical_token"),
        (None, {CONF_SUBSCRIPTION_KEY: "wrong", CONF_TECHNICAL_TOKEN: "wrong"}, "invalid_auth"),
        (lambda sim: sim.disable_account(), {}, "account_disabled"),
        (lambda sim: sim.set_wrong_datacenter(), {}, "wrong_datacenter"),
        (lambda sim: sim.faults.add(status=403), {}, "forbidden"),
        (lambda sim: sim.faults.add(status=429, retry_after="3600"), {}, "rate_limited"),
        (lambda sim: sim.faults.add(body=BodyFault.NON_JSON), {}, "unknown"),
        (None, {"base_url": "http://127.0.0.1:9/api"}, "cannot_connect"),
    ],
)
async def test_each_failure_has_its_own_message_and_keeps_the_input(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    break_it: Callable[[Simulator], object] | None,
    override: dict[str, str],
    error: str,
) -> None:
    sim = simulator_server.simulator
    if break_it is not None:
        break_it(sim)
    base_url = override.pop("base_url", None)
    entered = user_input(simulator_server, base_url, **override)
    result = await hass.config_entries.flow.async_configure((await start(hass))["flow_id"], entered)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert not hass.config_entries.async_entries(DOMAIN)
    assert suggested(result, CONF_SUBSCRIPTION_KEY) == entered[CONF_SUBSCRIPTION_KEY]
    assert suggested(result, CONF_ADVANCED, CONF_BASE_URL) == entered[CONF_ADVANCED][CONF_BASE_URL]

    sim.faults.clear()
    sim.disable_account(False)
    sim.set_wrong_datacenter(False)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator_server)
    )
    assert result["step_id"] == "sites"  # fixed: on to the next step


async def test_sites_step_needs_a_site_and_respects_the_entity_cap(
    hass: HomeAssistant, simulator_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = simulator_server.simulator
    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(simulator_server)
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SITES: []})
    assert result["errors"] == {"base": "no_sites"}

    # A cap between what one site and what both sites create (the real one is 10,000).
    monkeypatch.setattr(capacity, "MAX_ENTITIES", 100)
    both = [site.id for site in sim.sites]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SITES: both})
    assert result["errors"] == {"base": "too_many_entities"}
    assert result["description_placeholders"]["max"] == "100"
    assert result["description_placeholders"]["count"] == "120"  # 60 a site
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SITES: both[:1]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY

    # The rest of the account goes into a second entry; its sites only are offered.
    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(simulator_server)
    )
    offered = [o["value"] for o in result["data_schema"].schema[CONF_SITES].config["options"]]
    assert offered == both[1:]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SITES: offered}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == sim.sites[1].name

    # Every site is taken now.
    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(simulator_server)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "all_sites_configured"


async def test_an_account_without_sites(hass: HomeAssistant, socket_enabled: None) -> None:
    empty = Simulator(SimulatorConfig(sites=0))
    async with SimulatorServer(empty) as server:
        result = await hass.config_entries.flow.async_configure(
            (await start(hass))["flow_id"], user_input(server)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_sites"


async def test_the_entity_count_matches_what_is_created(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    from homeassistant.helpers import entity_registry as er

    from custom_components.ecostruxure.api import Asset
    from custom_components.ecostruxure.capacity import enabled_entities

    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(simulator_server)
    )
    sites = [site.id for site in simulator_server.simulator.sites]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SITES: sites})
    await hass.async_block_till_done()
    entry = result["result"]
    created = [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.disabled_by is None
    ]
    topology = entry.runtime_data.topology.values()
    expected = sum(enabled_entities(list[Asset](t.assets.values())) for t in topology)
    assert len(created) == expected


async def test_reauthentication(
    hass: HomeAssistant, config_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    config_entry.add_to_hass(hass)
    sim.revoke_credentials(new_technical_token="rotated")
    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["title"] == config_entry.title
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], secrets(simulator_server, **{CONF_TECHNICAL_TOKEN: "still-wrong"})
    )
    assert result["errors"] == {"base": "invalid_technical_token"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], secrets(simulator_server)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.data[CONF_TECHNICAL_TOKEN] == "rotated"
    assert config_entry.data[CONF_BASE_URL] == simulator_server.base_url
    assert config_entry.data[CONF_SERVICE] == SERVICE_FACILITY_EXPERT  # still Facility Expert
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED  # reloaded with the new secrets


async def test_reauthentication_refuses_another_accounts_secrets(
    hass: HomeAssistant, simulator_server: SimulatorServer
) -> None:
    # An entry whose sites this account does not see: the secrets are someone else's.
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_SERVICE: SERVICE_FACILITY_EXPERT,
            **secrets(simulator_server),
            CONF_BASE_URL: simulator_server.base_url,
        },
        options={CONF_SITES: ["st-of-another-account"], CONF_SCAN_INTERVAL: 60},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], secrets(simulator_server)
    )
    assert result["errors"] == {"base": "wrong_account"}


async def test_reconfiguration(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulator_server: SimulatorServer,
    other_account: SimulatorServer,
) -> None:
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert suggested(result, CONF_BASE_URL) == simulator_server.base_url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**secrets(other_account), CONF_BASE_URL: other_account.base_url}
    )
    assert result["errors"] == {"base": "wrong_account"}

    simulator_server.simulator.revoke_credentials(new_subscription_key="new-key")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**secrets(simulator_server), CONF_BASE_URL: simulator_server.base_url + "/"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_entry.data[CONF_SUBSCRIPTION_KEY] == "new-key"
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED


async def test_options_change_sites_and_interval(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    sim = simulator_server.simulator
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["step_id"] == "init"
    assert suggested(result, CONF_SCAN_INTERVAL) == 60
    assert suggested(result, CONF_HISTORY_DAYS) == 30
    assert suggested(result, CONF_SITES) == [site.id for site in sim.sites]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITES: [], CONF_SCAN_INTERVAL: 120, CONF_HISTORY_DAYS: 90}
    )
    assert result["errors"] == {"base": "no_sites"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_SITES: [sim.sites[0].id], CONF_SCAN_INTERVAL: 120, CONF_HISTORY_DAYS: 90},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options[CONF_HISTORY_DAYS] == 90
    await hass.async_block_till_done()
    coordinator = loaded_entry.runtime_data  # reloaded with the new options
    assert set(coordinator.topology) == {sim.sites[0].id}
    assert coordinator.update_interval is not None
    assert coordinator.update_interval.total_seconds() == 120


async def test_options_need_the_service(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulator_server: SimulatorServer
) -> None:
    simulator_server.simulator.faults.add(body=BodyFault.DROP)
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"
