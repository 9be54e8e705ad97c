"""When Redis dies, restarts or never answers: raise at once, or fall back and rejoin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gu1_async._errors import GovernorStoreError, QuotaExhaustedError
from gu1_async.governor import Governor, Observation, Plan, Quota
from gu1_async.governor.redis import RedisStore
from tests.redis._servers import free_port
from tests.redis.conftest import RedisServer

PLAN = Plan.custom(Quota(8, 60))


async def settle_store() -> None:
    for _ in range(20):
        await asyncio.sleep(0.005)


async def take_all(governor: Governor) -> int:
    granted = 0
    while True:
        try:
            permit = await governor.acquire(max_wait=0)
        except QuotaExhaustedError:
            return granted
        granted += 1
        permit.mark_sent()
        permit.observe(Observation(200))
        await settle_store()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never answers (a hung Redis)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    yield port
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_raise_mode_refuses_while_redis_is_down_and_recovers_after_a_restart(
    redis_server: RedisServer,
) -> None:
    store = RedisStore.from_url(redis_server.url, namespace="test:fp1", timeout=0.5)
    gov = Governor(PLAN, store=store)
    assert await take_all(gov) == 8
    redis_server.stop()
    with pytest.raises(GovernorStoreError) as caught:
        await gov.acquire(max_wait=0)
    assert "not sent" in str(caught.value)
    redis_server.start()  # the same port, and nothing persisted: the state starts over
    assert await take_all(gov) == 8
    assert not store.degraded
    await store.aclose()


async def test_local_mode_spends_a_share_warns_once_and_rejoins(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore.from_url(
        redis_server.url,
        namespace="test:fp1",
        on_store_error="local",
        local_share=0.25,
        timeout=0.5,
        probe_interval=0.2,
    )
    gov = Governor(PLAN, store=store)
    probe = await gov.acquire(max_wait=0)
    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="gu1_async.governor.redis")
    probe.mark_sent()
    probe.observe(Observation(200, 8, 7, 50.0))  # its end fails over to the local store
    await settle_store()
    assert store.degraded
    # A quarter of the 7 the last answer left (not of the limit), rounded down.
    assert await take_all(gov) == 1
    assert gov.stats().windows[0].limit == 2
    warnings = [r for r in caplog.records if r.name == "gu1_async.governor.redis"]
    assert len(warnings) == 1 and "local 25%" in warnings[0].getMessage()
    redis_server.start()
    await asyncio.sleep(0.25)  # past the probe interval
    assert await take_all(gov) == 8  # Redis lost its state: a fresh shared window
    assert repr(store).endswith("shared)")  # (not `degraded`: mypy narrowed it above)
    messages = [r.getMessage() for r in caplog.records if r.name == "gu1_async.governor.redis"]
    assert len(messages) == 2 and "rejoined" in messages[1]
    await store.aclose()


async def test_local_mode_keeps_429_pauses_while_degraded() -> None:
    store = RedisStore.from_url(
        f"redis://127.0.0.1:{free_port()}/0", on_store_error="local", timeout=0.5
    )
    gov = Governor(PLAN, store=store)
    permit = await gov.acquire(max_wait=0)
    permit.mark_sent()
    permit.observe(Observation(429, 8, 0, 30.0, retry_after=10.0))
    await settle_store()
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire(max_wait=1)
    assert caught.value.retry_after == pytest.approx(30.0, abs=1.0)
    assert gov.stats().pauses == 1
    assert store.degraded
    await store.aclose()


async def test_a_redis_that_never_answers_times_out_instead_of_hanging(
    silent_port: int,
) -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{silent_port}/0", timeout=0.2)
    gov = Governor(PLAN, store=store)
    with pytest.raises(GovernorStoreError) as caught:
        await gov.acquire()
    assert "Timeout" in str(caught.value)
    await store.aclose()


async def test_a_client_without_socket_timeouts_is_bounded_by_the_store(
    silent_port: int,
) -> None:
    client = Redis(host="127.0.0.1", port=silent_port, socket_timeout=None)
    store = RedisStore(client, timeout=0.2)
    gov = Governor(PLAN, store=store)
    with pytest.raises(GovernorStoreError):
        await gov.acquire()
    await store.aclose()
    await client.aclose()


async def test_max_wait_running_out_on_the_local_fallback_raises_quota_exhausted() -> None:
    """Regression: a waiter queued while the fallback answers (its probe still out, so the
    store says "when its answer comes") whose max_wait runs out gets QuotaExhaustedError;
    the governor asked the RedisStore's synchronous estimate, which a remote store
    refuses with ConfigurationError."""
    store = RedisStore.from_url(
        f"redis://127.0.0.1:{free_port()}/0", on_store_error="local", timeout=0.5
    )
    gov = Governor(PLAN, store=store)
    probe = await gov.acquire(max_wait=0)  # the fallback's probe: unanswered
    assert store.degraded
    with pytest.raises(QuotaExhaustedError) as caught:
        await gov.acquire(max_wait=0.05)
    assert caught.value.retry_after >= 0.0
    probe.release()
    await store.aclose()
