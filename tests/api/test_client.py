"""The Facility Expert client against the simulator, over real loopback HTTP."""

from datetime import datetime, timedelta

import aiohttp
import pytest

from custom_components.ecostruxure.api import (
    AlarmStatus,
    AlarmType,
    AssetType,
    AuthenticationError,
    FacilityExpertClient,
    ForbiddenError,
    Interval,
    InvalidRequestError,
    NotFoundError,
    Quantity,
    Secret,
)
from simulator import Simulator

# --- operations --------------------------------------------------------------------------


async def test_list_sites_returns_every_site_across_pages(make_client, sim: Simulator) -> None:
    expected = {site.id for site in sim.sites}
    assert len(expected) >= 2
    sim.stats.reset()
    one_per_page = await make_client(page_size=1).list_sites()
    assert {site.id for site in one_per_page} == expected
    assert sim.stats.requests == len(expected)  # one request a page, no more
    everything = await make_client().list_sites()
    assert everything == one_per_page
    assert all(site.time_zone and site.name for site in everything)


async def test_get_site_has_gateways(client: FacilityExpertClient, sim: Simulator) -> None:
    site_id = sim.sites[0].id
    detail = await client.get_site(site_id)
    assert detail.site.id == site_id
    assert detail.gateways
    assert all(gateway.id and gateway.connection_status for gateway in detail.gateways)


async def test_assets_form_a_tree_with_measurements(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    assets = await client.list_assets(sim.sites[0].id)
    by_id = {asset.id: asset for asset in assets}
    assert len(by_id) == len(assets)
    roots = [asset for asset in assets if asset.parent_id is None]
    assert roots
    assert all(asset.parent_id in by_id for asset in assets if asset.parent_id is not None)
    types = {asset.type for asset in assets}
    assert {AssetType.BUILDING, AssetType.ROOM, AssetType.LV_SWITCHBOARD} <= types
    assert any(m.quantity == Quantity.ACTIVE_ENERGY for a in assets for m in a.measurements)
    assert any(a.alarm_types for a in assets)
    assert any(not a.name.isascii() for a in assets)  # non-ASCII names survive


async def test_latest_values_cover_every_measurement(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    site_id = sim.sites[0].id
    assets = await client.list_assets(site_id)
    measurement_ids = {m.id for asset in assets for m in asset.measurements}
    values = await client.get_latest_values(site_id)
    assert {value.measurement_id for value in values} == measurement_ids
    assert all(value.timestamp.tzinfo is not None for value in values)
    one_asset = next(asset for asset in assets if asset.measurements)
    only = await client.get_latest_values(site_id, [one_asset.id])
    assert {value.measurement_id for value in only} == {m.id for m in one_asset.measurements}


async def test_energy_counters_grow_with_simulated_time(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    site_id = sim.sites[0].id
    assets = await client.list_assets(site_id)
    energy = {m.id for a in assets for m in a.measurements if m.quantity == Quantity.ACTIVE_ENERGY}
    before = {v.measurement_id: v for v in await client.get_latest_values(site_id)}
    sim.clock.advance(timedelta(hours=6))
    after = {v.measurement_id: v for v in await client.get_latest_values(site_id)}
    grown = [
        mid
        for mid in energy
        if before[mid].value is not None
        and after[mid].value is not None
        and after[mid].value > before[mid].value
    ]
    assert grown
    assert all(
        after[mid].value >= before[mid].value  # type: ignore[operator]
        for mid in energy
        if before[mid].value is not None and after[mid].value is not None
    )


async def test_time_series_batches_pages_and_matches_latest(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    site_id = sim.sites[0].id
    assets = await client.list_assets(site_id)
    measurement_ids = [m.id for a in assets for m in a.measurements]
    assert len(measurement_ids) > 20  # so the client has to split the request
    end = sim.clock.now().replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=3)
    sim.stats.reset()
    series = await client.get_time_series(site_id, measurement_ids, start, end, Interval.HOUR)
    assert sim.stats.requests >= 2
    assert {s.measurement_id for s in series} == set(measurement_ids)
    for one in series:
        stamps = [point.timestamp for point in one.points]
        assert stamps == sorted(stamps)
        assert all(start <= stamp < end for stamp in stamps)
        assert len(stamps) == len(set(stamps))  # pages joined without duplicates
    energy_id = next(
        m.id for a in assets for m in a.measurements if m.quantity == Quantity.ACTIVE_ENERGY
    )
    energy = next(s for s in series if s.measurement_id == energy_id)
    readings = [p.value for p in energy.points if p.value is not None]
    assert readings == sorted(readings)  # a counter never goes back
    latest = {v.measurement_id: v.value for v in await client.get_latest_values(site_id)}
    assert latest[energy_id] is not None
    assert readings[-1] <= latest[energy_id]


async def test_alarms_raised_and_cleared(client: FacilityExpertClient, sim: Simulator) -> None:
    site_id = sim.sites[0].id
    assets = await client.list_assets(site_id)
    asset = next(a for a in assets if AlarmType.OVERLOAD in a.alarm_types)
    alarm_id = sim.raise_alarm(site_id, asset.id, AlarmType.OVERLOAD, severity="high")
    active = await client.list_alarms(site_id)
    raised = next(alarm for alarm in active if alarm.id == alarm_id)
    assert raised.active
    assert raised.asset_id == asset.id
    assert raised.type == AlarmType.OVERLOAD
    assert raised.severity == "high"
    sim.clear_alarm(alarm_id)
    assert alarm_id not in {alarm.id for alarm in await client.list_alarms(site_id)}
    everything = await client.list_alarms(site_id, AlarmStatus.ALL)
    cleared = next(alarm for alarm in everything if alarm.id == alarm_id)
    assert not cleared.active
    assert cleared.cleared_at is not None


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "secret"),
    [
        ({"subscription_key": "wrong-key"}, Secret.SUBSCRIPTION_KEY),
        ({"technical_token": "wrong-token"}, Secret.TECHNICAL_TOKEN),
    ],
)
async def test_a_wrong_secret_is_named(
    make_client, sim: Simulator, override: dict[str, str], secret: Secret
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await make_client(**override).list_sites()
    assert caught.value.status == 401
    assert caught.value.reason == "APIKeyInvalid"
    assert caught.value.secret is secret
    assert sim.stats.requests == 1  # never retried


async def test_a_missing_secret(make_client) -> None:
    with pytest.raises(AuthenticationError) as caught:
        await make_client(technical_token="").list_sites()
    assert caught.value.reason == "APIKeyMissing"
    assert caught.value.secret is Secret.TECHNICAL_TOKEN


async def test_revoked_key(client: FacilityExpertClient, sim: Simulator) -> None:
    await client.list_sites()
    sim.revoke_credentials(new_subscription_key="rotated-key")
    with pytest.raises(AuthenticationError):
        await client.list_sites()


async def test_disabled_account_and_wrong_datacenter(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    sim.disable_account(True)
    with pytest.raises(ForbiddenError) as caught:
        await client.list_sites()
    assert caught.value.account_disabled
    assert not caught.value.wrong_datacenter
    sim.disable_account(False)
    sim.set_wrong_datacenter(True)
    with pytest.raises(ForbiddenError) as caught:
        await client.list_sites()
    assert caught.value.wrong_datacenter
    assert not caught.value.account_disabled


async def test_unknown_site_is_not_found(client: FacilityExpertClient, sim: Simulator) -> None:
    with pytest.raises(NotFoundError):
        await client.get_latest_values("no/such site")
    site_id = sim.sites[0].id
    sim.remove_site(site_id)
    with pytest.raises(NotFoundError):
        await client.list_assets(site_id)
    assert site_id not in {site.id for site in await client.list_sites()}
    sim.restore_site(site_id)
    assert await client.list_assets(site_id)


async def test_bad_parameter_is_an_invalid_request_with_field_errors(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    site_id = sim.sites[0].id
    now = sim.clock.now()
    with pytest.raises(InvalidRequestError) as caught:
        await client.get_time_series(site_id, ["m"], now, now - timedelta(hours=1), "weekly")
    assert caught.value.status == 400
    assert caught.value.errors
    assert sim.stats.requests == 1


async def test_naive_timestamps_are_refused_before_sending(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await client.list_alarms(sim.sites[0].id, start=datetime(2026, 1, 1))  # noqa: DTZ001
    assert sim.stats.requests == 0


async def test_invalid_settings_are_refused(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        FacilityExpertClient(session, "k", "t", max_concurrency=11)
    with pytest.raises(ValueError, match="page_size"):
        FacilityExpertClient(session, "k", "t", page_size=201)


async def test_alarm_history_window_and_time_series_pages(make_client, sim: Simulator) -> None:
    site_id = sim.sites[0].id
    client = make_client(base_url=make_client().base_url + "/")
    assert not client.base_url.endswith("/")
    now = sim.clock.now()
    sim.clock.advance(timedelta(hours=30))
    recent = await client.list_alarms(
        site_id, AlarmStatus.ALL, start=now, end=now + timedelta(hours=30)
    )
    assert recent
    assert all(now <= alarm.activated_at < now + timedelta(hours=30) for alarm in recent)
    assert [a.activated_at for a in recent] == sorted(
        (a.activated_at for a in recent), reverse=True
    )
    assets = await client.list_assets(site_id)
    ids = [m.id for a in assets for m in a.measurements][:3]
    end = sim.clock.now().replace(minute=0, second=0, microsecond=0)
    sim.stats.reset()
    series = await client.get_time_series(site_id, ids, end - timedelta(days=40), end, "15min")
    assert sim.stats.requests > 1  # more points than a page holds: the cursor was followed
    assert all(len(s.points) > 40 * 90 for s in series)
    assert all(s.interval == "15min" for s in series)
