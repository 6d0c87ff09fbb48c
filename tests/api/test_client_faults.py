"""How the client behaves when the service misbehaves: retries, limits, timeouts, secrets."""

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import logging
import types

import aiohttp
import pytest

from custom_components.ecostruxure.api import (
    CannotConnectError,
    ConnectionLimit,
    FacilityExpertClient,
    InvalidRequestError,
    InvalidResponseError,
    OperationDisabledError,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
)
from simulator import BodyFault, Simulator

from .conftest import RecordingSleep

# --- rate limiting -------------------------------------------------------------------------


async def test_429_waits_the_seconds_of_retry_after(
    client: FacilityExpertClient, sim: Simulator, sleep: RecordingSleep
) -> None:
    sim.faults.add(status=429, retry_after="7", count=1)
    assert await client.list_sites()
    assert sleep.delays == [7.0]
    assert sim.stats.requests == 2


async def test_429_understands_an_http_date(
    client: FacilityExpertClient, sim: Simulator, sleep: RecordingSleep
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=20)
    sim.faults.add(status=429, retry_after=format_datetime(when, usegmt=True), count=1)
    assert await client.list_sites()
    assert len(sleep.delays) == 1
    assert 15 <= sleep.delays[0] <= 20


async def test_429_without_retry_after_backs_off_with_jitter(
    client: FacilityExpertClient, sim: Simulator, sleep: RecordingSleep
) -> None:
    sim.faults.add(status=429, count=2)
    assert await client.list_sites()
    first, second = sleep.delays
    assert 0.5 <= first <= 1.0  # half the ceiling fixed, half random
    assert 1.0 <= second <= 2.0  # the ceiling doubles


async def test_429_gives_up_after_the_bounded_attempts(
    client: FacilityExpertClient, sim: Simulator, sleep: RecordingSleep
) -> None:
    sim.faults.add(status=429, retry_after="3")
    with pytest.raises(RateLimitedError) as caught:
        await client.list_sites()
    assert caught.value.retry_after == 3.0
    assert sim.stats.requests == 3
    assert sleep.delays == [3.0, 3.0]


async def test_a_long_retry_after_is_left_to_the_caller(
    client: FacilityExpertClient, sim: Simulator, sleep: RecordingSleep
) -> None:
    sim.faults.add(status=429, retry_after="600")
    with pytest.raises(RateLimitedError) as caught:
        await client.list_sites()
    assert caught.value.retry_after == 600.0
    assert sim.stats.requests == 1
    assert sleep.delays == []


# --- server errors and broken answers ----------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_transient_server_errors_are_retried(
    client: FacilityExpertClient, sim: Simulator, sleep: RecordingSleep, status: int
) -> None:
    sim.faults.add(status=status, count=2)
    assert await client.list_sites()
    assert sim.stats.requests == 3
    assert len(sleep.delays) == 2


async def test_a_lasting_server_error_is_raised_after_three_attempts(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    sim.faults.add(status=500)
    with pytest.raises(ServerError) as caught:
        await client.list_sites()
    assert caught.value.status == 500
    assert caught.value.reason == "InternalServerError"
    assert sim.stats.requests == 3


async def test_a_retry_policy_bounds_attempts_and_backoff(
    make_client, sim: Simulator, sleep: RecordingSleep
) -> None:
    policy = RetryPolicy(attempts=5, backoff_initial=2, backoff_max=5)
    sim.faults.add(status=502)
    with pytest.raises(ServerError):
        await make_client(retry=policy).list_sites()
    assert sim.stats.requests == 5
    assert all(delay <= 5 for delay in sleep.delays)
    assert sleep.delays[-1] >= 2.5  # capped ceiling 5, at least half of it


@pytest.mark.parametrize(
    ("status", "title", "error"),
    [
        (503, "ComplianceRelated", OperationDisabledError),
        (503, "ServiceUnavailable", ServerError),
        (501, "NotImplemented", ServerError),
        (400, "Invalid Action", InvalidRequestError),
        (405, "MethodNotAllowed", InvalidRequestError),
        (414, "ResourceNestingTooDeep", InvalidRequestError),
        (422, "RequestedFieldsInvalid", InvalidRequestError),
    ],
)
async def test_errors_that_cannot_heal_are_not_retried(
    client: FacilityExpertClient,
    sim: Simulator,
    status: int,
    title: str,
    error: type[Exception],
) -> None:
    sim.faults.add(status=status, title=title)
    with pytest.raises(error) as caught:
        await client.list_sites()
    assert type(caught.value) is error
    assert sim.stats.requests == 1


async def test_a_non_json_error_page_still_gives_a_clean_error(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    sim.faults.add(status=503, body=BodyFault.NON_JSON)
    with pytest.raises(ServerError) as caught:
        await client.list_sites()
    assert caught.value.status == 503
    assert "html" not in str(caught.value).lower()


@pytest.mark.parametrize("body", [BodyFault.NON_JSON, BodyFault.TRUNCATED])
async def test_a_broken_body_is_an_invalid_response(
    client: FacilityExpertClient, sim: Simulator, body: BodyFault
) -> None:
    sim.faults.add(body=body, count=1)
    with pytest.raises(InvalidResponseError):
        await client.list_assets(sim.sites[0].id)
    assert sim.stats.requests == 1
    assert await client.list_assets(sim.sites[0].id)  # the next call is fine


async def test_a_dropped_connection_is_retried(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    sim.faults.add(body=BodyFault.DROP, count=1)
    assert await client.list_sites()
    assert sim.stats.requests == 2


async def test_a_connection_that_keeps_dropping_cannot_connect(
    client: FacilityExpertClient, sim: Simulator
) -> None:
    sim.faults.add(body=BodyFault.DROP)
    with pytest.raises(CannotConnectError):
        await client.list_sites()
    # Three attempts; aiohttp itself may resend a GET once on a reused connection.
    assert 3 <= sim.stats.requests <= 6


async def test_a_service_that_does_not_answer_in_time(make_client, sim: Simulator) -> None:
    sim.faults.add(latency=5, count=1)
    client = make_client(request_timeout=0.2, retry=RetryPolicy(attempts=1))
    with pytest.raises(RequestTimeoutError):
        await client.list_sites()


async def test_nobody_listening(
    session: aiohttp.ClientSession, sleep: RecordingSleep, socket_enabled: None
) -> None:
    client = FacilityExpertClient(
        session, "key", "token", base_url="http://127.0.0.1:9/api", sleep=sleep
    )
    with pytest.raises(CannotConnectError):
        await client.list_sites()
    assert len(sleep.delays) == 2  # connection failures are retried, boundedly


# --- concurrency ---------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [1, 4, 10])
async def test_never_more_requests_in_flight_than_the_cap(
    make_client, sim: Simulator, cap: int
) -> None:
    client = make_client(max_concurrency=cap)
    sim.faults.add(latency=0.05)
    site_ids = [site.id for site in sim.sites] * 8
    await asyncio.gather(*(client.get_latest_values(site_id) for site_id in site_ids))
    assert sim.stats.peak_in_flight == cap
    assert sim.stats.rejected_busy == 0


async def test_default_cap_is_four(make_client, sim: Simulator) -> None:
    client = make_client()
    sim.faults.add(latency=0.05)
    await asyncio.gather(*(client.list_assets(site.id) for site in sim.sites * 4))
    assert sim.stats.peak_in_flight == 4


async def test_clients_of_one_account_share_a_limit(make_client, sim: Simulator) -> None:
    # Three clients of 4 each would be 12 in flight, over the service's 10: one shared limit.
    limit = ConnectionLimit(4)
    clients = [make_client(limit=limit) for _ in range(3)]
    sim.faults.add(latency=0.05)
    await asyncio.gather(
        *(client.get_latest_values(site.id) for client in clients for site in sim.sites * 4)
    )
    assert sim.stats.peak_in_flight == 4
    assert sim.stats.rejected_busy == 0


def test_a_limit_is_within_the_service_cap() -> None:
    for size in (0, 11):
        with pytest.raises(ValueError, match="between 1 and 10"):
            ConnectionLimit(size)


# --- secrets -------------------------------------------------------------------------------


async def test_secrets_appear_in_no_log_error_repr_or_url(
    make_client,
    sim: Simulator,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key, token = sim.config.subscription_key, sim.config.technical_token
    urls: list[str] = []

    async def record(
        _session: aiohttp.ClientSession,
        _context: types.SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        urls.append(str(params.url))

    session.trace_configs.append(aiohttp.TraceConfig())
    session.trace_configs[-1].on_request_start.append(record)
    session.trace_configs[-1].freeze()
    caplog.set_level(logging.DEBUG)
    client = make_client()
    messages = [repr(client)]
    site_id = sim.sites[0].id
    await client.list_alarms(site_id)
    # The service echoing a secret back in its problem details.
    sim.faults.add(status=400, title=f"Bad {key}", detail=f"token {token} rejected", count=1)
    sim.faults.add(status=500, detail=f"upstream said {key}", count=3)
    for call in (client.list_sites, client.list_sites):
        try:
            await call()
        except Exception as err:  # noqa: BLE001 - every error's text is inspected
            messages.extend([str(err), repr(err)])
    for wrong in ({"subscription_key": key + "x"}, {"technical_token": token + "x"}):
        try:
            await make_client(**wrong).list_sites()
        except Exception as err:  # noqa: BLE001
            messages.extend([str(err), repr(err)])
    assert len(messages) == 9  # the repr and 4 errors, each as str and repr
    assert any("REDACTED" in message for message in messages)
    assert urls
    everything = "\n".join([caplog.text, *messages, *urls])
    assert key not in everything
    assert token not in everything
