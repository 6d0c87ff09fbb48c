"""The IT Expert client's REST operations against a scripted service."""

from collections.abc import Callable
import logging

import aiohttp
import pytest

from custom_components.ecostruxure.api import (
    AuthenticationError,
    CannotConnectError,
    ForbiddenError,
    InvalidRequestError,
    InvalidResponseError,
    ITExpertClient,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from custom_components.ecostruxure.api.it_expert import (
    Change,
    InventoryKind,
    InventoryObject,
    ITSeverity,
    SensorValueType,
)

from ..conftest import RecordingSleep
from .conftest import API_KEY, ORG, FakeITExpert, Reply, org_path


async def test_organizations_with_the_bearer_key_sent_as_issued(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add("/organizations", Reply(["org-1", {"id": "org-2"}]))
    assert await client.organizations() == ("org-1", "org-2")
    (request,) = service.requests
    assert request.headers["Authorization"] == f"bearer {API_KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.query == {}


async def test_inventory(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(
        org_path("/inventory"),
        Reply(
            {
                "offset": 24,
                "inventoryObjects": [
                    {"id": ORG, "label": "Flamingo Inc."},  # known by its id
                    {"@type": "Device", "id": "dev-1", "type": "UPS"},
                ],
            }
        ),
    )
    snapshot = await client.inventory(ORG)
    assert snapshot.offset == 24
    assert [(item.id, item.kind) for item in snapshot.items] == [
        (ORG, InventoryKind.ORGANIZATION),
        ("dev-1", InventoryKind.DEVICE),
    ]


async def test_ids_are_one_path_segment_each(client: ITExpertClient, service: FakeITExpert) -> None:
    organization = "org/1 ?#x"
    encoded = "org%2F1%20%3F%23x"
    service.add(
        f"/organizations/{encoded}/inventory/dev%2F9",
        Reply({"device": {"id": "dev/9"}, "ancestors": []}),
    )
    device = await client.device(organization, "dev/9")
    assert device is not None
    assert device.device.id == "dev/9"


async def test_device_with_ancestors(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(
        org_path("/inventory/dev-1"),
        Reply(
            {
                "device": {"id": "dev-1", "type": "UPS"},
                "ancestors": [{"@type": "Location", "id": "rack28"}, {"id": ORG}],
            }
        ),
    )
    device = await client.device(ORG, "dev-1")
    assert device is not None
    assert device.device.kind is InventoryKind.DEVICE
    assert [(a.id, a.kind) for a in device.ancestors] == [
        ("rack28", InventoryKind.LOCATION),
        (ORG, InventoryKind.ORGANIZATION),
    ]


async def test_an_unknown_device_is_none_not_an_error(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    # Unscripted paths answer 404.
    assert await client.device(ORG, "gone") is None
    assert len(service.requests) == 1  # a 404 is not retried


async def test_sensors_and_alarms(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(
        org_path("/sensors"),
        Reply({"offset": 7, "sensors": [{"id": "sen-1", "deviceId": "dev-1", "unit": "%"}]}),
    )
    service.add(
        org_path("/alarms"),
        Reply({"offset": 31, "alarms": [{"id": "al-1", "severity": "FAIL"}, {"bad": 1}]}),
    )
    sensors = await client.sensors(ORG)
    assert sensors.offset == 7
    assert sensors.items[0].value_type is SensorValueType.NUMERIC
    alarms = await client.alarms(ORG)
    assert alarms.offset == 31
    assert [(a.id, a.severity) for a in alarms.items] == [("al-1", ITSeverity.FAIL)]


# --- changes ----------------------------------------------------------------------------


def _script_inventory_pages(service: FakeITExpert) -> None:
    service.add(
        org_path("/inventory-changes/5"),
        Reply(
            {
                "offset": 7,
                "inventoryObjectChanges": [{"inventoryObject": {"@type": "Device", "id": "a"}}],
            }
        ),
    )
    service.add(
        org_path("/inventory-changes/7"),
        Reply({"offset": 9, "inventoryObjectChanges": [{"inventoryObjectId": "b"}]}),
    )
    service.add(
        org_path("/inventory-changes/9"), Reply({"offset": 9, "inventoryObjectChanges": []})
    )


async def test_changes_are_followed_until_caught_up(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    _script_inventory_pages(service)
    changes = await client.inventory_changes(ORG, 5)
    assert changes.offset == 9
    assert changes.caught_up
    assert changes.changes == (
        Change(item=InventoryObject("a", InventoryKind.DEVICE)),
        Change(deleted_id="b"),
    )
    assert [request.raw_path for request in service.requests] == [
        org_path("/inventory-changes/5"),
        org_path("/inventory-changes/7"),
        org_path("/inventory-changes/9"),
    ]


async def test_changes_stop_at_the_page_limit_not_caught_up(
    make_client: Callable[..., ITExpertClient], service: FakeITExpert
) -> None:
    _script_inventory_pages(service)
    changes = await make_client(max_change_pages=2).inventory_changes(ORG, 5)
    assert changes.offset == 9
    assert not changes.caught_up
    assert len(changes.changes) == 2
    assert len(service.requests) == 2


async def test_no_changes_is_one_call(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(org_path("/sensor-changes/0"), Reply({"offset": 0, "sensorChanges": []}))
    changes = await client.sensor_changes(ORG, 0)
    assert (changes.offset, changes.changes, changes.caught_up) == (0, (), True)
    assert len(service.requests) == 1


async def test_sensor_changes_with_deletes(client: ITExpertClient, service: FakeITExpert) -> None:
    service.add(
        org_path("/sensor-changes/3"),
        Reply({"offset": 4, "sensorChanges": [{"sensor": {"id": "s1"}}, {"sensorId": "s2"}]}),
    )
    service.add(org_path("/sensor-changes/4"), Reply({"offset": 4, "sensorChanges": []}))
    changes = await client.sensor_changes(ORG, 3)
    assert [(c.item and c.item.id, c.deleted_id) for c in changes.changes] == [
        ("s1", None),
        (None, "s2"),
    ]
    assert changes.offset == 4


async def test_alarm_changes_are_upserts_across_pages(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(
        org_path("/alarm-changes/10"),
        Reply({"offset": 11, "alarms": [{"id": "a1", "severity": "WARNING"}]}),
    )
    service.add(
        org_path("/alarm-changes/11"),
        Reply({"offset": 11, "alarms": [{"id": "a1", "clearedTime": "2026-01-01T00:00:00Z"}]}),
    )
    changes = await client.alarm_changes(ORG, 10)
    assert [change.deleted_id for change in changes.changes] == [None, None]
    items = [change.item for change in changes.changes]
    assert [(item.id, item.active) for item in items if item] == [("a1", True), ("a1", False)]


async def test_a_bad_page_is_an_invalid_response(
    client: ITExpertClient, service: FakeITExpert
) -> None:
    service.add(org_path("/alarm-changes/1"), Reply({"offset": 2, "alarms": []}))
    service.add(org_path("/alarm-changes/2"), Reply({"alarms": []}))
    with pytest.raises(InvalidResponseError):
        await client.alarm_changes(ORG, 1)
    service.add(org_path("/alarms"), Reply(b"<html>not json</html>"))
    with pytest.raises(InvalidResponseError):
        await client.alarms(ORG)


# --- arguments --------------------------------------------------------------------------


async def test_arguments_are_checked(
    make_client: Callable[..., ITExpertClient], client: ITExpertClient
) -> None:
    with pytest.raises(ValueError, match="max_change_pages"):
        make_client(max_change_pages=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        make_client(max_concurrency=11)
    with pytest.raises(ValueError, match="non-negative"):
        await client.inventory_changes(ORG, -1)


def test_defaults_and_repr(session: aiohttp.ClientSession) -> None:
    client = ITExpertClient(session, API_KEY)
    assert client.base_url == "https://api.ecostruxureit.com/rest/v1"
    assert repr(client) == "ITExpertClient(base_url='https://api.ecostruxureit.com/rest/v1')"
    assert API_KEY not in repr(client._transport)
    assert ITExpertClient(session, API_KEY, base_url="http://x/rest/v1/").base_url == (
        "http://x/rest/v1"
    )


# --- error statuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (406, InvalidRequestError),
        (503, ServerError),
    ],
)
async def test_error_statuses_map_to_the_client_errors_without_a_retry(
    client: ITExpertClient,
    service: FakeITExpert,
    sleep: RecordingSleep,
    status: int,
    error: type[Exception],
) -> None:
    service.add(
        org_path("/alarms"),
        Reply(
            {"title": "Refused", "detail": "no"},
            status=status,
            headers={"Content-Type": "application/problem+json"},
        ),
    )
    with pytest.raises(error) as caught:
        await client.alarms(ORG)
    assert type(caught.value) is error
    assert getattr(caught.value, "status", None) == status
    assert len(service.requests) == 1
    assert sleep.delays == []


async def test_429_waits_its_retry_after(
    client: ITExpertClient, service: FakeITExpert, sleep: RecordingSleep
) -> None:
    service.add(
        "/organizations",
        Reply({"title": "Too Many Requests"}, status=429, headers={"Retry-After": "7"}),
        Reply(["org-1"]),
    )
    assert await client.organizations() == ("org-1",)
    assert sleep.delays == [7.0]


async def test_429_given_up_tells_the_caller_when_to_come_back(
    client: ITExpertClient, service: FakeITExpert, sleep: RecordingSleep
) -> None:
    service.add(
        "/organizations",
        Reply({"title": "Too Many Requests"}, status=429, headers={"Retry-After": "600"}),
    )
    with pytest.raises(RateLimitedError) as caught:
        await client.organizations()
    assert caught.value.retry_after == 600.0
    assert sleep.delays == []


async def test_500_is_retried(
    client: ITExpertClient, service: FakeITExpert, sleep: RecordingSleep
) -> None:
    service.add(org_path("/sensors"), Reply(None, status=500), Reply({"offset": 1, "sensors": []}))
    assert (await client.sensors(ORG)).offset == 1
    assert len(service.requests) == 2
    assert len(sleep.delays) == 1


async def test_an_unreachable_service(
    session: aiohttp.ClientSession, sleep: RecordingSleep, socket_enabled: None
) -> None:
    client = ITExpertClient(session, API_KEY, base_url="http://127.0.0.1:9/rest/v1", sleep=sleep)
    with pytest.raises(CannotConnectError) as caught:
        await client.organizations()
    assert API_KEY not in str(caught.value)


# --- secrets ----------------------------------------------------------------------------


async def test_the_key_never_shows_in_errors_or_logs(
    client: ITExpertClient, service: FakeITExpert, caplog: pytest.LogCaptureFixture
) -> None:
    # A service echoing the key, whole or alone, in its problem details.
    service.add(
        "/organizations",
        Reply(
            {"title": f"bearer {API_KEY}", "detail": f"key {API_KEY} is revoked"},
            status=401,
        ),
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as caught:
        await client.organizations()
    assert API_KEY not in str(caught.value)
    assert "**REDACTED**" in str(caught.value)
    assert API_KEY not in repr(client)
    assert API_KEY not in caplog.text
    assert all(API_KEY not in request.raw_path for request in service.requests)
    assert all(API_KEY not in str(request.query) for request in service.requests)
