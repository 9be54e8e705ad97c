"""The event interface: what the client reports, when, and that it costs nothing unused."""

from __future__ import annotations

import logging
import math

import pytest

from gu1_async import Gu1Client, NotFoundError, Plan, Quota, RetryPolicy
from gu1_async._observed import ObservedRequester
from gu1_async._requester import HttpRequester
from gu1_async.hooks import (
    Call,
    CallEnded,
    GovernorAttached,
    Hooks,
    RequestSent,
    ResponseReceived,
    Retried,
    StoreError,
    Throttled,
    Waited,
)
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

from ._recorder import Recorder

FAST = RetryPolicy(backoff_base=0.001, backoff_max=0.002)


async def test_without_hooks_the_plain_requester_is_used() -> None:
    async with Gu1Client(DEFAULT_KEY, base_url="http://127.0.0.1:9") as client:
        assert type(client._requester) is HttpRequester
        assert type(client.with_options(priority=1)._requester) is HttpRequester

    # Hooks that watch no per-call event (here none, or only the store's failures) keep
    # the plain requester too: no wrapper on the request path.
    class StoreOnly(Hooks):
        def on_store_error(self, event: StoreError) -> None:
            pass

    for idle in (Hooks(), StoreOnly()):
        async with Gu1Client(DEFAULT_KEY, base_url="http://127.0.0.1:9", hooks=[idle]) as client:
            assert type(client._requester) is HttpRequester
    async with Gu1Client(
        DEFAULT_KEY, base_url="http://127.0.0.1:9", hooks=[Hooks(), Recorder()]
    ) as client:
        assert type(client._requester) is ObservedRequester


async def test_each_call_attempt_and_answer_is_reported_with_its_route() -> None:
    recorder = Recorder()
    async with FakeGu1Server(plan="professional") as server:
        async with Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[recorder]) as client:
            created = await client.entities.create(
                type="person", name="Ana Souza", country_code="BR", external_id="p-1"
            )
            assert created.entity is not None and created.entity.id is not None
            await client.entities.get(created.entity.id)
            with pytest.raises(NotFoundError):
                await client.entities.get_by_tax_id("111.111.111-11")
            await client.request("GET", "/entities")
        requests = server.stats().requests

    attached = recorder.of(GovernorAttached)
    assert len(attached) == 1 and attached[0].key_id == client._slot.current.fingerprint[:12]
    calls = recorder.of(Call)
    assert [c.name for c in calls] == [
        "POST /entities",
        "GET /entities/{entity_id}",
        "GET /entities/by-tax-id/{tax_id}",
        "GET",  # client.request: no template, and the path is not guessed
    ]
    assert {c.server_address for c in calls} == {"127.0.0.1"}
    ended = recorder.of(CallEnded)
    assert [e.call for e in ended] == calls
    assert [e.status for e in ended] == [201, 200, 404, 200]
    assert [e.error_type for e in ended] == [None, None, "404", None]
    assert all(e.attempts == 1 and e.retries == 0 and e.duration > 0 for e in ended)
    sent = recorder.of(RequestSent)
    answered = recorder.of(ResponseReceived)
    assert len(sent) == len(answered) == requests == 4
    # Every event of a call comes between its start and its end.
    for call in calls:
        mine = [i for i, e in enumerate(recorder.events) if getattr(e, "call", e) is call]
        assert recorder.events[mine[0]] is call and isinstance(recorder.events[mine[-1]], CallEnded)


async def test_429s_are_reported_as_throttled_then_retried() -> None:
    recorder = Recorder()
    async with (
        FakeGu1Server(plan="professional") as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[recorder], retry=FAST) as client,
    ):
        server.force_429(2, retry_after=0.01)
        await client.request("GET", "/entities")
    throttled = recorder.of(Throttled)
    assert [t.attempt for t in throttled] == [1, 2]
    assert throttled[0].retry_after == pytest.approx(0.01)
    retried = recorder.of(Retried)
    assert [(r.attempt, r.reason) for r in retried] == [(2, "429"), (3, "429")]
    (ended,) = recorder.of(CallEnded)
    assert (ended.attempts, ended.retries, ended.status, ended.error_type) == (3, 2, 200, None)


async def test_waits_are_reported_and_add_up_to_the_governors_own() -> None:
    recorder = Recorder()
    # 5 requests per 0.2 s: 20 requests must wait for three window resets.
    plan = Plan.custom(Quota(5, 0.2))
    async with FakeGu1Server(plan=[(5, 0.2)]) as server:
        async with Gu1Client(
            DEFAULT_KEY, base_url=server.url, plan=plan, hooks=[recorder]
        ) as client:
            import asyncio

            await asyncio.gather(*(client.request("GET", "/entities") for _ in range(20)))
            stats = client.governor.stats()
        assert server.stats().rate_limited == 0
    waits = recorder.of(Waited)
    assert len(waits) == stats.waited >= 15
    assert math.isclose(sum(w.seconds for w in waits), stats.total_wait, abs_tol=1e-3)
    assert max(w.seconds for w in waits) == pytest.approx(stats.max_wait, abs=1e-3)
    per_call = sum(e.waited for e in recorder.of(CallEnded))
    assert math.isclose(per_call, stats.total_wait, abs_tol=1e-3)


async def test_a_failing_hook_never_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Hooks):
        def on_response(self, event: ResponseReceived) -> None:
            raise RuntimeError("boom")

    recorder = Recorder()
    async with (
        FakeGu1Server() as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[Broken(), recorder]) as client,
    ):
        for _ in range(3):
            await client.request("GET", "/entities")
    assert len(recorder.of(ResponseReceived)) == 3  # the next hook still got every event
    reports = [r for r in caplog.records if "Broken.on_response" in r.getMessage()]
    assert len(reports) == 1 and reports[0].levelno == logging.WARNING


def test_hooks_must_be_hooks() -> None:
    with pytest.raises(TypeError):
        Gu1Client(DEFAULT_KEY, base_url="http://127.0.0.1:9", hooks=[object()])  # type: ignore[list-item]


async def test_a_connection_failure_is_an_answer_without_status() -> None:
    recorder = Recorder()
    retry = RetryPolicy(max_retries=1, backoff_base=0.001)
    async with Gu1Client(
        DEFAULT_KEY, base_url="http://127.0.0.1:9", hooks=[recorder], retry=retry
    ) as client:
        with pytest.raises(Exception, match="connect"):
            await client.request("GET", "/entities")
    answers = recorder.of(ResponseReceived)
    assert [(a.status, a.error_type) for a in answers] == [
        (None, "APIConnectionError"),
        (None, "APIConnectionError"),
    ]
    (ended,) = recorder.of(CallEnded)
    assert (ended.attempts, ended.retries, ended.error_type) == (2, 1, "APIConnectionError")


async def test_a_failing_shared_store_is_reported() -> None:
    pytest.importorskip("redis")
    from gu1_async.governor.redis import RedisStore
    from gu1_async.hooks import StoreError

    recorder = Recorder()
    store = RedisStore.from_url("redis://127.0.0.1:1", on_store_error="local", timeout=0.2)
    async with (
        FakeGu1Server() as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[recorder], store=store) as client,
    ):
        await client.request("GET", "/entities")
    await store.aclose()
    errors = recorder.of(StoreError)
    assert errors and errors[0].fallback is True
    assert errors[0].error_type in {"ConnectionError", "ConnectionRefusedError", "OSError"}


async def test_an_event_nobody_watches_is_never_built(monkeypatch: pytest.MonkeyPatch) -> None:
    import gu1_async._observed as observed

    built: dict[str, int] = {}
    for name in ("Call", "RequestSent", "ResponseReceived", "Retried", "CallEnded", "Waited"):
        original = getattr(observed, name)

        def counting(*args: object, _name: str = name, _original: type = original) -> object:
            built[_name] = built.get(_name, 0) + 1
            return _original(*args)

        monkeypatch.setattr(observed, name, counting)

    class ThrottledOnly(Hooks):
        def __init__(self) -> None:
            self.seen: list[Throttled] = []

        def on_throttled(self, event: Throttled) -> None:
            self.seen.append(event)

    hook = ThrottledOnly()
    async with (
        FakeGu1Server() as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[hook], retry=FAST) as client,
    ):
        for _ in range(5):
            await client.request("GET", "/entities")
        server.force_429(1, retry_after=0.01)
        await client.entities.list()
        requests = server.stats().requests
    assert requests == 7
    assert [(t.attempt, t.call.route) for t in hook.seen] == [(1, "/entities")]
    # Only the call that was throttled built its Call, and only the watched event was built.
    assert built == {"Call": 1}

    recorder = Recorder()  # watches everything: every event is built
    built.clear()
    async with (
        FakeGu1Server() as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[recorder]) as client,
    ):
        for _ in range(3):
            await client.request("GET", "/entities")
    assert built == {"Call": 3, "RequestSent": 3, "ResponseReceived": 3, "CallEnded": 3}
    assert len(recorder.of(ResponseReceived)) == 3


async def test_watches_turns_an_overridden_method_off_per_instance() -> None:
    class Quiet(Recorder):
        def watches(self, name: str) -> bool:
            return name != "on_response" and super().watches(name)

    quiet = Quiet()
    async with (
        FakeGu1Server() as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, hooks=[quiet]) as client,
    ):
        await client.request("GET", "/entities")
    assert quiet.of(ResponseReceived) == []
    assert len(quiet.of(RequestSent)) == len(quiet.of(CallEnded)) == 1
