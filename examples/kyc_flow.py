"""The gu1 KYC flow end to end, against the SDK's fake gu1 server: no key, no network.

    python examples/kyc_flow.py

Starts a `FakeGu1Server` and an aiohttp webhook receiver on loopback, in this process,
then walks gu1's KYC flow (gu1-api.md §4) for five people:

1. create the person (retry-safe: a 409 means "already there", so look it up);
2. start an identity validation and hand its hosted URL to the person;
3. (the person completes the hosted flow: the fake's sandbox tax ids script this);
4. receive the outcome twice over: a signed webhook, verified by the receiver, and
   polling `client.kyc.get(...)`; both must agree;
5. decide `in_review` sessions by hand (approve, reject) and cancel an open one.

`main()` returns a `KycFlowResult` so `tests/test_kyc_flow.py` can assert on every path.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Collection

import aiohttp
import attrs
from aiohttp import web

from gu1_async import ConflictError, Gu1Client, NotFoundError, Plan
from gu1_async.models import KycValidation
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server
from gu1_async.webhook_receiver import WEBHOOK_RECEIVER_KEY, make_webhook_app
from gu1_async.webhooks import SIGNATURE_HEADER, WebhookEvent, sign_payload

TIME_SCALE = 20.0
"""API seconds per real second: the sandbox's 5-second outcome arrives in 0.25 s."""
WEBHOOK_SECRET = "whsec_example_not_a_secret"
"""The fake's webhook secret. In production it comes from the environment, never code."""
OPEN = frozenset({"pending", "in_progress", "in_review"})
FINAL = frozenset({"approved", "rejected", "expired", "abandoned", "cancelled"})
Printer = Callable[[str], None]


# -- results: what main() returns --------------------------------------------------------
@attrs.frozen
class PathOutcome:
    """How one validation ended, seen by polling and by webhook."""

    name: str
    expected: str
    validation_id: str
    session_url: str | None
    polled_status: str | None
    """The status `client.kyc.get()` returned last."""
    webhook_statuses: tuple[str, ...]
    """Every status the receiver verified for this validation, in arrival order."""
    resumed_same_session: bool | None = None
    """Asking twice for a session handed out the open one (checked on the cancel path)."""

    @property
    def reached_expected(self) -> bool:
        """The API says the validation ended where this path meant it to."""
        return self.polled_status == self.expected

    @property
    def webhook_agrees(self) -> bool:
        """A verified webhook announced the same final status that polling found."""
        return self.polled_status in self.webhook_statuses


@attrs.frozen
class KycFlowResult:
    """Everything the run observed, for the test (and the exit code)."""

    paths: tuple[PathOutcome, ...]
    webhooks_verified: int
    """KYC events the receiver accepted: signature verified, parsed, not a duplicate."""
    deliveries_attempted: int
    deliveries_acknowledged: int
    """Deliveries the receiver answered with 200."""
    forged_delivery_status: int
    """The receiver's answer to a delivery signed with the wrong secret (401 expected)."""
    person_reused: bool
    """Creating an existing person again found the same entity instead of a duplicate."""
    session_resumed: bool
    """Starting a validation twice handed out the same open session, not a second one."""
    approved_person_kyc_verified: bool | None
    history: tuple[tuple[str | None, bool | None], ...]
    """(status, isCurrent) of the re-verified person's validations, newest first."""

    def path(self, name: str) -> PathOutcome:
        """The outcome of the path called `name`."""
        return next(p for p in self.paths if p.name == name)

    @property
    def ok(self) -> bool:
        """Every path ended as planned and both channels agreed."""
        return (
            all(p.reached_expected and p.webhook_agrees for p in self.paths)
            and self.deliveries_acknowledged == self.deliveries_attempted
            and self.forged_delivery_status == 401
            and self.person_reused
            and self.session_resumed
        )


# -- the webhook side ------------------------------------------------------------------
class KycInbox:
    """The receiver's callback: records verified KYC statuses and wakes whoever waits."""

    def __init__(self) -> None:
        self._statuses: dict[str, list[str]] = {}
        self._changed = asyncio.Condition()
        self.verified = 0

    async def on_event(self, event: WebhookEvent) -> None:
        """Called by the receiver after the signature checked out and gu1 had its 200."""
        if not event.event.startswith("kyc.validation_"):
            return
        # Newer payloads are the validation row (`id`); older ones say `validationId`.
        validation_id = event.payload.get("id") or event.payload.get("validationId")
        status = event.payload.get("status") or event.event.removeprefix("kyc.validation_")
        async with self._changed:
            self._statuses.setdefault(str(validation_id), []).append(str(status))
            self.verified += 1
            self._changed.notify_all()

    def statuses(self, validation_id: str) -> tuple[str, ...]:
        """Every status received for `validation_id`, in arrival order."""
        return tuple(self._statuses.get(validation_id, ()))

    async def wait_for(self, validation_id: str, wanted: Collection[str]) -> str:
        """Wait for a webhook announcing one of `wanted` (deliveries may arrive out of order)."""

        def arrived() -> str | None:
            return next((s for s in self.statuses(validation_id) if s in wanted), None)

        async with self._changed:
            await self._changed.wait_for(lambda: arrived() is not None)
        status = arrived()
        assert status is not None
        return status


async def start_receiver(inbox: KycInbox) -> tuple[web.AppRunner, str]:
    """Serve the SDK's webhook receiver on a free loopback port; return it and its URL."""
    app = make_webhook_app(WEBHOOK_SECRET, inbox.on_event, path="/webhooks/gu1")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/webhooks/gu1"


async def post_forged_delivery(url: str) -> int:
    """Send an 'approved' event signed with the wrong secret; the receiver must refuse it."""
    body = json.dumps(
        {"event": "kyc.validation_approved", "payload": {"id": "forged", "status": "approved"}}
    ).encode()
    headers = {SIGNATURE_HEADER: sign_payload(body, "not-the-secret")}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status


# -- the API side ----------------------------------------------------------------------
async def ensure_person(client: Gu1Client, *, external_id: str, name: str, tax_id: str) -> str:
    """Create the person, or find it when it already exists; return its entity id.

    gu1 has no idempotency keys: a unique `externalId` (and taxId) makes a retried create
    answer 409 instead of creating a twin, and the 409 is our cue to look it up.
    """
    try:
        created = await client.entities.create(
            type="person", name=name, country_code="BR", external_id=external_id, tax_id=tax_id
        )
    except ConflictError:
        try:
            return str((await client.entities.get_by_external_id(external_id)).id)
        except NotFoundError:  # the tax id was taken under another external id
            return str((await client.entities.get_by_tax_id(tax_id)).id)
    assert created.entity is not None and created.entity.id is not None
    return created.entity.id


async def start_or_resume(client: Gu1Client, entity_id: str) -> KycValidation:
    """Hand out the person's open session if there is one; start a new one otherwise.

    A retried or double-clicked "verify me" must not open a second session: a new one
    demotes the first, and the person may already be halfway through it.
    """
    try:
        current = await client.kyc.get_current(entity_id)
    except NotFoundError:
        pass
    else:
        if current.status in OPEN:
            return current
    return await client.kyc.create(entity_id=entity_id)


async def poll_until(
    client: Gu1Client, validation_id: str, wanted: Collection[str], *, interval: float
) -> KycValidation:
    """Read the validation every `interval` seconds until its status is one of `wanted`."""
    while True:
        validation = await client.kyc.get(validation_id)
        if validation.status in wanted:
            return validation
        await asyncio.sleep(interval)


async def await_status(
    client: Gu1Client,
    inbox: KycInbox,
    validation_id: str,
    wanted: Collection[str],
    *,
    interval: float,
    timeout: float,
) -> tuple[str, str | None]:
    """Wait for `wanted` on both channels at once; return (webhook status, polled status)."""
    by_webhook, polled = await asyncio.wait_for(
        asyncio.gather(
            inbox.wait_for(validation_id, wanted),
            poll_until(client, validation_id, wanted, interval=interval),
        ),
        timeout,
    )
    return by_webhook, polled.status


# -- the flow --------------------------------------------------------------------------
@attrs.frozen
class _Person:
    path: str
    name: str
    tax_id: str
    expected: str
    review: str | None = None
    """For an `in_review` session: "approve" or "reject"."""


PEOPLE = (
    # Tax ids from the fake's sandbox set (docs/fake-server.md) script the outcome.
    _Person("sandbox-approved", "Ana Souza", "111.111.111-11", "approved"),
    _Person("sandbox-rejected", "Bruno Lima", "222.222.222-22", "rejected"),
    _Person("review-approve", "Carla Dias", "444.444.444-44", "approved", review="approve"),
    # Not sandbox ids: these sessions wait for a real person, as in production.
    _Person("review-reject", "Diego Rocha", "123.456.789-09", "rejected", review="reject"),
    _Person("cancel", "Elisa Prado", "987.654.321-00", "cancelled"),
)


async def run_path(
    client: Gu1Client,
    server: FakeGu1Server,
    inbox: KycInbox,
    person: _Person,
    *,
    interval: float,
    timeout: float,
    out: Printer,
) -> PathOutcome:
    """One person through steps 1-5; print each step."""
    out(f"\n== {person.path}: {person.name} ({person.tax_id}) ==")
    entity_id = await ensure_person(
        client, external_id=f"kyc-example-{person.path}", name=person.name, tax_id=person.tax_id
    )
    out(f"1. person created: entity {entity_id}")
    validation = await start_or_resume(client, entity_id)
    validation_id = str(validation.id)
    out(f"2. validation {validation_id} started: {validation.status}")
    out(f"3. hand this to the user: {validation.provider_session_url}")

    async def wait(step: str, wanted: Collection[str]) -> str | None:
        by_webhook, polled = await await_status(
            client, inbox, validation_id, wanted, interval=interval, timeout=timeout
        )
        out(f"{step}: webhook (signature verified) says {by_webhook}, poll says {polled}")
        return polled

    resumed: bool | None = None
    if person.path == "cancel":
        resumed = (await start_or_resume(client, entity_id)).id == validation.id
        out(f"   asked again: same session handed out ({resumed})")
        cancelled = await client.kyc.cancel(validation_id, reason="Customer closed the signup")
        out(f"5. cancelled by us: {cancelled.status}")
        polled = await wait("   confirmed", {"cancelled"})
    elif person.review is None:
        polled = await wait("4. outcome", FINAL)
    else:
        if person.tax_id.startswith("444"):
            out("   (the sandbox routes this tax id to manual review)")
        else:
            # Stands in for the person finishing the hosted flow and the provider asking
            # for a human look; FakeGu1Server's test hook, not an API call.
            server.complete_kyc(validation_id, status="in_review")
            out("   (the person finished the hosted flow; the provider wants a human look)")
        await wait("4. outcome", {"in_review"})
        decide = client.kyc.approve if person.review == "approve" else client.kyc.reject
        decided = await decide(validation_id, reason=f"Compliance review: {person.review}")
        out(f"5. compliance decided ({person.review}): {decided.status}")
        polled = await wait("   confirmed", FINAL)

    return PathOutcome(
        name=person.path,
        expected=person.expected,
        validation_id=validation_id,
        session_url=validation.provider_session_url,
        polled_status=polled,
        webhook_statuses=inbox.statuses(validation_id),
        resumed_same_session=resumed,
    )


async def main(
    *, time_scale: float = TIME_SCALE, timeout: float = 10.0, out: Printer = print
) -> KycFlowResult:
    """Run every path against a fresh fake server and webhook receiver.

    Args:
        time_scale: API seconds per real second in the fake (the sandbox needs 5).
        timeout: Real seconds to wait for any one outcome before giving up.
        out: Where the step-by-step narration goes.
    """
    inbox = KycInbox()
    runner, hook_url = await start_receiver(inbox)
    try:
        async with FakeGu1Server(plan="starter", time_scale=time_scale) as server:
            server.add_webhook(hook_url, WEBHOOK_SECRET, events=("kyc.*",))
            out(f"fake gu1 on {server.url}; webhooks (kyc.*) go to {hook_url}")
            async with Gu1Client(
                DEFAULT_KEY, base_url=server.url, plan=Plan.STARTER.scaled(time_scale)
            ) as client:
                interval = 1.0 / time_scale  # one API second between polls
                paths = [
                    await run_path(
                        client, server, inbox, p, interval=interval, timeout=timeout, out=out
                    )
                    for p in PEOPLE
                ]
                first = PEOPLE[0]
                out("\n== housekeeping ==")
                entity_id = await ensure_person(
                    client,
                    external_id=f"kyc-example-{first.path}",
                    name=first.name,
                    tax_id=first.tax_id,
                )
                reused = entity_id == await ensure_person(
                    client, external_id="kyc-example-retry", name=first.name, tax_id=first.tax_id
                )
                out(f"creating {first.name} again found the same entity: {reused}")
                entity = await client.entities.get(entity_id)
                out(f"{first.name}: kycVerified={entity.kyc_verified}")
                # Re-verification: her session is final, so this starts a new one, which
                # becomes current and demotes the old one in the history.
                renewed = await start_or_resume(client, entity_id)
                out(f"re-verifying {first.name}: new session {renewed.id} ({renewed.status})")
                listed = [v async for v in client.kyc.list_for_entity(entity_id)]
                history = tuple((v.status, v.is_current) for v in listed)
                out(f"{first.name}'s history, newest first (status, isCurrent): {history}")
                forged = await post_forged_delivery(hook_url)
                out(f"a delivery signed with the wrong secret was answered {forged}")
            await server.drain_webhooks()
            # Callbacks run after the 200: let them finish before counting.
            await runner.app[WEBHOOK_RECEIVER_KEY].drain(timeout=timeout)
            deliveries = server.webhook_deliveries
            result = KycFlowResult(
                paths=tuple(paths),
                webhooks_verified=inbox.verified,
                deliveries_attempted=len(deliveries),
                deliveries_acknowledged=sum(d.status == 200 for d in deliveries),
                forged_delivery_status=forged,
                person_reused=reused,
                session_resumed=any(p.resumed_same_session for p in paths),
                approved_person_kyc_verified=entity.kyc_verified,
                history=history,
            )
    finally:
        await runner.cleanup()
    out(
        f"\n{result.webhooks_verified} verified KYC webhooks, "
        f"{result.deliveries_acknowledged}/{result.deliveries_attempted} deliveries acknowledged"
    )
    for p in result.paths:
        mark = "ok" if p.reached_expected and p.webhook_agrees else "MISMATCH"
        seen = ", ".join(p.webhook_statuses)
        out(f"  {p.name:<17} {p.polled_status!s:<10} webhooks: {seen}  {mark}")
    return result


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()).ok else 1)
