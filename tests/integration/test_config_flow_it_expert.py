"""Adding, re-authenticating, reconfiguring and tuning an IT Expert entry, against the simulator.

The simulator's keys: the customer key covers the first customer, the "all customers" partner
key every consenting customer, the "specific customers" partner key the second customer only,
and the demo key the demo organization only.
"""

import logging
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ecostruxure import capacity
from custom_components.ecostruxure.api.it_expert.client import ITExpertClient
from custom_components.ecostruxure.api.it_expert.paths import DEFAULT_BASE_URL
from custom_components.ecostruxure.capacity import it_expert_enabled_entities
from custom_components.ecostruxure.const import (
    CONF_ADVANCED,
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ORGANIZATIONS,
    CONF_SCAN_INTERVAL,
    CONF_SERVICE,
    CONF_SITES,
    DOMAIN,
    SERVICE_FACILITY_EXPERT,
    SERVICE_IT_EXPERT,
)
from custom_components.ecostruxure.it_expert.data import it_device_id
from simulator import (
    BodyFault,
    ITExpertConfig,
    ITExpertSimulator,
    KeyKind,
    Simulator,
    SimulatorConfig,
    SimulatorServer,
)
from tests.simulator_fixtures import quiet

# The entities one organization of this simulator enables (all its organizations are alike);
# alarm count and severity, and the alarm events of PDU banks and outlets, are off by default.
PER_ORGANIZATION = 225


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """A small Facility Expert side; three IT Expert customers and the demo organization."""
    return quiet(
        SimulatorConfig(
            seed=7,
            sites=1,
            assets_per_site=8,
            it_expert=ITExpertConfig(seed=7, alarms_per_organization_per_hour=0),
        )
    )


@pytest.fixture
def it(simulator_server: SimulatorServer) -> ITExpertSimulator:
    return simulator_server.simulator.it_expert


def key(it: ITExpertSimulator, kind: KeyKind = KeyKind.PARTNER_ALL) -> str:
    return it.config.key(kind)


def org_ids(it: ITExpertSimulator) -> list[str]:
    return [org.id for org in it.organizations]


def user_input(server: SimulatorServer, api_key: str, base_url: str | None = None) -> dict:
    return {
        CONF_API_KEY: api_key,
        CONF_ADVANCED: {CONF_BASE_URL: base_url or server.it_base_url + "/"},
    }


def suggested(result: FlowResult, *path: str) -> Any:
    """The value a form offers again: the suggested value of a field (in a section)."""
    schema = result["data_schema"].schema
    for name in path[:-1]:
        schema = schema[name].schema.schema  # a section's own schema
    for marker in schema:
        if marker == path[-1]:
            return (marker.description or {}).get("suggested_value")
    raise KeyError(path)


def offered(result: FlowResult) -> dict[str, str]:
    """The organizations a form offers: id -> label."""
    selector = result["data_schema"].schema[CONF_ORGANIZATIONS]
    return {o["value"]: o["label"] for o in selector.config["options"]}


async def start(hass: HomeAssistant) -> FlowResult:
    """A new flow, past the menu: IT Expert chosen."""
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "it_expert"}
    )


async def organizations_step(
    hass: HomeAssistant, server: SimulatorServer, api_key: str
) -> FlowResult:
    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(server, api_key)
    )
    assert result["step_id"] == "organizations", result
    return result


def it_entry(
    server: SimulatorServer, api_key: str, organizations: list[str], **options: Any
) -> MockConfigEntry:
    """An IT Expert entry as the flow creates it (not yet added)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="IT Expert",
        unique_id=f"it_expert:{organizations[0]}",
        data={
            CONF_SERVICE: SERVICE_IT_EXPERT,
            CONF_API_KEY: api_key,
            CONF_BASE_URL: server.it_base_url,
        },
        options={CONF_ORGANIZATIONS: organizations, CONF_SCAN_INTERVAL: 60, **options},
    )


async def test_the_key_form_defaults_to_the_real_service(hass: HomeAssistant) -> None:
    result = await start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "it_expert"
    assert result["errors"] == {}
    filled = result["data_schema"]({CONF_API_KEY: "k", CONF_ADVANCED: {}})
    assert filled[CONF_ADVANCED][CONF_BASE_URL] == DEFAULT_BASE_URL


async def test_a_key_then_organizations_create_an_entry(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    result = await organizations_step(hass, simulator_server, key(it))
    labels = {org.id: org.label for org in it.organizations}
    assert offered(result) == labels  # by name, in the service's order
    assert result["data_schema"]({})[CONF_ORGANIZATIONS] == org_ids(it)  # all by default
    assert result["description_placeholders"]["max"] == str(capacity.MAX_ENTITIES)

    chosen = org_ids(it)[1:]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: chosen}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"{labels[chosen[0]]} (+1)"
    assert result["data"] == {
        CONF_SERVICE: SERVICE_IT_EXPERT,
        CONF_API_KEY: key(it),
        CONF_BASE_URL: simulator_server.it_base_url,  # trailing slash removed
    }
    assert result["options"] == {CONF_ORGANIZATIONS: chosen, CONF_SCAN_INTERVAL: 60}
    entry = result["result"]
    assert entry.unique_id == f"it_expert:{chosen[0]}"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.organizations) == set(chosen)


async def test_one_organization_is_titled_by_its_name(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    result = await organizations_step(hass, simulator_server, key(it, KeyKind.CUSTOMER))
    first = it.organizations[0]
    assert list(offered(result)) == [first.id]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [first.id]}
    )
    assert result["title"] == first.label
    await hass.async_block_till_done()


async def test_the_entity_count_matches_what_is_created(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    result = await organizations_step(hass, simulator_server, key(it, KeyKind.DEMO))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [it.demo_organization.id]}
    )
    await hass.async_block_till_done()
    entry = result["result"]
    created = [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.disabled_by is None
    ]
    org = entry.runtime_data.organizations[it.demo_organization.id]
    assert len(created) == it_expert_enabled_entities(org.objects.values(), org.sensors.values())
    assert len(created) == PER_ORGANIZATION


@pytest.mark.parametrize(
    ("break_it", "api_key", "base_url", "error"),
    [
        (None, "AK1/not/a-key", None, "invalid_auth"),
        (lambda it: it.revoke_key(key(it)), None, None, "invalid_auth"),
        (lambda it: it.faults.add(status=403, path="organizations$"), None, None, "forbidden"),
        (
            lambda it: it.faults.add(status=429, retry_after="3600", path="organizations$"),
            None,
            None,
            "rate_limited",
        ),
        (lambda it: it.faults.add(body=BodyFault.NON_JSON), None, None, "unknown"),
        (None, None, "http://127.0.0.1:9/rest/v1", "cannot_connect"),
        # A partner key whose only customer withdrew its consent: valid, but covers nothing.
        (
            lambda it: it.revoke_consent(it.organizations[1].id),
            KeyKind.PARTNER_SPECIFIC,
            None,
            "no_organizations",
        ),
    ],
)
async def test_each_failure_has_its_own_message_and_keeps_the_input(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    caplog: pytest.LogCaptureFixture,
    break_it: Any,
    api_key: str | KeyKind | None,
    base_url: str | None,
    error: str,
) -> None:
    if break_it is not None:
        break_it(it)
    if isinstance(api_key, KeyKind):
        api_key = key(it, api_key)
    entered = user_input(simulator_server, api_key or key(it), base_url)
    result = await hass.config_entries.flow.async_configure((await start(hass))["flow_id"], entered)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert not hass.config_entries.async_entries(DOMAIN)
    assert suggested(result, CONF_API_KEY) == entered[CONF_API_KEY]
    assert suggested(result, CONF_ADVANCED, CONF_BASE_URL) == entered[CONF_ADVANCED][CONF_BASE_URL]
    assert entered[CONF_API_KEY] not in caplog.text

    it.faults.clear()
    it.restore_key(key(it))
    it.restore_consent(it.organizations[1].id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(simulator_server, key(it))
    )
    assert result["step_id"] == "organizations"  # fixed: on to the next step


async def test_an_unexpected_error_is_logged_without_the_key(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entered = user_input(simulator_server, key(it))
    with patch.object(ITExpertClient, "organizations", side_effect=RuntimeError("a bug")):
        result = await hass.config_entries.flow.async_configure(
            (await start(hass))["flow_id"], entered
        )
    assert result["errors"] == {"base": "unknown"}
    assert suggested(result, CONF_API_KEY) == key(it)
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged
    assert logged[0].exc_info is not None  # the traceback of the bug
    assert key(it) not in caplog.text


async def test_an_organization_whose_inventory_fails_is_listed_by_its_id(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    failing = it.organizations[2]
    it.faults.add(status=403, path=f"{failing.id}/inventory$", count=1)
    result = await organizations_step(hass, simulator_server, key(it))
    labels = offered(result)
    assert labels[failing.id] == failing.id
    assert labels[it.organizations[0].id] == it.organizations[0].label
    assert result["data_schema"]({})[CONF_ORGANIZATIONS] == org_ids(it)  # still chosen

    # Chosen, it is read again for the entity count (and works now), then named by its id.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [failing.id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == failing.id
    await hass.async_block_till_done()


async def test_organizations_of_other_entries_are_left_out(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    first, *others = org_ids(it)
    it_entry(simulator_server, key(it, KeyKind.CUSTOMER), [first]).add_to_hass(hass)
    # A Facility Expert entry takes no organization.
    MockConfigEntry(
        domain=DOMAIN, data={CONF_SERVICE: SERVICE_FACILITY_EXPERT}, options={CONF_SITES: ["st-1"]}
    ).add_to_hass(hass)
    result = await organizations_step(hass, simulator_server, key(it))
    assert list(offered(result)) == others
    assert result["data_schema"]({})[CONF_ORGANIZATIONS] == others

    # The customer key covers nothing else: every organization it sees is added.
    result = await hass.config_entries.flow.async_configure(
        (await start(hass))["flow_id"], user_input(simulator_server, key(it, KeyKind.CUSTOMER))
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "all_organizations_configured"


async def test_organizations_step_needs_one_and_respects_the_entity_cap(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = org_ids(it)
    result = await organizations_step(hass, simulator_server, key(it))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: []}
    )
    assert result["errors"] == {"base": "no_organizations_selected"}

    # A cap between what one and what two organizations create (the real one is 10,000).
    monkeypatch.setattr(capacity, "MAX_ENTITIES", PER_ORGANIZATION + 1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: ids[:2]}
    )
    assert result["errors"] == {"base": "too_many_entities"}
    assert result["description_placeholders"] == {
        "count": str(2 * PER_ORGANIZATION),
        "max": str(PER_ORGANIZATION + 1),
    }
    assert result["data_schema"]({})[CONF_ORGANIZATIONS] == ids[:2]  # the choice kept

    # The count needs the sensors: a failure to read them is shown, and can be retried.
    it.faults.add(status=429, retry_after="3600", path="/sensors$", count=1)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: ids[:1]}
    )
    assert result["errors"] == {"base": "rate_limited"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: ids[:1]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"it_expert:{ids[0]}"
    await hass.async_block_till_done()


async def test_the_unique_id_skips_an_organization_that_names_another_entry(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    first, second, third = org_ids(it)
    # An entry created with the first organization, which later kept the second only.
    entry = it_entry(simulator_server, key(it), [first])
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_ORGANIZATIONS: [second]}
    )
    result = await organizations_step(hass, simulator_server, key(it))
    assert list(offered(result)) == [first, third]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [first, third]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"it_expert:{third}"
    await hass.async_block_till_done()


async def test_reauthentication(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    ids = org_ids(it)
    entry = it_entry(simulator_server, "AK1/revoked/old-key", ids[:2])
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_it_expert"
    assert result["description_placeholders"]["title"] == entry.title

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "AK1/still/wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    # The demo key works, but for another organization: someone else's data.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: key(it, KeyKind.DEMO)}
    )
    assert result["errors"] == {"base": "wrong_account"}
    # The customer key covers the first organization only: one is enough.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: f" {key(it, KeyKind.CUSTOMER)} "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == {
        CONF_SERVICE: SERVICE_IT_EXPERT,
        CONF_API_KEY: key(it, KeyKind.CUSTOMER),
        CONF_BASE_URL: simulator_server.it_base_url,
    }
    assert entry.options[CONF_ORGANIZATIONS] == ids[:2]  # untouched
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED  # reloaded with the new key


async def test_reconfiguration(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    first = it.organizations[0].id
    entry = it_entry(simulator_server, key(it, KeyKind.CUSTOMER), [first])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_it_expert"
    assert suggested(result, CONF_BASE_URL) == simulator_server.it_base_url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: key(it, KeyKind.PARTNER_SPECIFIC),
            CONF_BASE_URL: simulator_server.it_base_url,
        },
    )
    assert result["errors"] == {"base": "wrong_account"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: key(it), CONF_BASE_URL: "http://127.0.0.1:9/rest/v1"}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: key(it), CONF_BASE_URL: simulator_server.it_base_url + "/"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_SERVICE: SERVICE_IT_EXPERT,
        CONF_API_KEY: key(it),
        CONF_BASE_URL: simulator_server.it_base_url,
    }
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_options_change_organizations_and_interval(
    hass: HomeAssistant,
    simulator_server: SimulatorServer,
    it: ITExpertSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second, third = org_ids(it)
    entry = it_entry(simulator_server, key(it), [first, second])
    entry.add_to_hass(hass)
    # The second customer withdraws its consent; Home Assistant still knows its name.
    it.revoke_consent(second)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={it_device_id(second, second)},
        name=it.organizations[1].label,
    )
    # Another entry holds the third: not offered here.
    it_entry(simulator_server, key(it, KeyKind.DEMO), [third]).add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "it_expert"
    assert offered(result) == {
        first: it.organizations[0].label,
        second: it.organizations[1].label,  # no longer covered, still listed and named
    }
    assert suggested(result, CONF_ORGANIZATIONS) == [first, second]
    assert suggested(result, CONF_SCAN_INTERVAL) == 60

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [], CONF_SCAN_INTERVAL: 120}
    )
    assert result["errors"] == {"base": "no_organizations_selected"}
    assert suggested(result, CONF_SCAN_INTERVAL) == 120  # the input kept

    # Only what can be read is counted: the second organization counts for nothing now.
    monkeypatch.setattr(capacity, "MAX_ENTITIES", PER_ORGANIZATION - 1)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [first, second], CONF_SCAN_INTERVAL: 120}
    )
    assert result["errors"] == {"base": "too_many_entities"}
    assert result["description_placeholders"]["count"] == str(PER_ORGANIZATION)
    monkeypatch.setattr(capacity, "MAX_ENTITIES", PER_ORGANIZATION)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [second, first], CONF_SCAN_INTERVAL: 120}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # In the order offered; no history options for IT Expert.
    assert entry.options == {CONF_ORGANIZATIONS: [first, second], CONF_SCAN_INTERVAL: 120}


async def test_options_name_an_unknown_organization_by_its_id(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    entry = it_entry(simulator_server, key(it, KeyKind.CUSTOMER), ["gone-org"])
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert offered(result) == {
        it.organizations[0].id: it.organizations[0].label,
        "gone-org": "gone-org",
    }


async def test_a_loaded_entry_changes_its_options(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    first = it.organizations[0].id
    entry = it_entry(simulator_server, key(it), [first])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_ORGANIZATIONS: [first], CONF_SCAN_INTERVAL: 300}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED  # reloaded with the new options
    interval = entry.runtime_data.update_interval
    assert interval is not None
    assert interval.total_seconds() == 300


async def test_options_need_the_service(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    entry = it_entry(simulator_server, key(it), org_ids(it)[:1])
    entry.add_to_hass(hass)
    it.revoke_key(key(it))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"


async def test_both_services_side_by_side(
    hass: HomeAssistant, simulator_server: SimulatorServer, it: ITExpertSimulator
) -> None:
    """An IT Expert entry does not hide Facility Expert sites, nor the reverse."""
    sim: Simulator = simulator_server.simulator
    it_entry(simulator_server, key(it), org_ids(it)).add_to_hass(hass)
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "facility_expert"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "subscription_key": sim.subscription_key,
            "technical_token": sim.technical_token,
            CONF_ADVANCED: {CONF_BASE_URL: simulator_server.base_url},
        },
    )
    assert result["step_id"] == "sites"
