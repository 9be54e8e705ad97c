"""Everything the fake remembers, shared by the handlers through the aiohttp app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._jobs import JobStore
from ._kyc_store import KycStore
from ._store import EntityStore
from ._transaction_store import TransactionStore
from ._webhooks import WebhookHub

__all__ = ["STATE", "FakeState", "state_of"]


class FakeState:
    """The clock, the stores and the webhook hub of one FakeGu1Server."""

    def __init__(self, clock: Callable[[], float], time_scale: float) -> None:
        self.clock = clock
        self.time_scale = time_scale
        self.entities = EntityStore()
        self.jobs = JobStore(time_scale)
        self.transactions = TransactionStore()
        self.events: list[dict[str, Any]] = []
        self.devices: dict[str, dict[str, dict[str, Any]]] = {}  # entity id -> device id -> row
        self.mappings: dict[str, dict[str, dict[str, Any]]] = {}  # org -> mapping id -> row
        self.kyc = KycStore(self)
        self.webhooks = WebhookHub(clock)
        # Areas that change over (scaled) time register a callback; the server calls
        # them before each request, so state is always current when it is read.
        self._tickers: list[Callable[[float], None]] = [self.jobs.tick]

    def now(self) -> float:
        """Real wall-clock epoch seconds."""
        return self.clock()

    def scaled(self, real_seconds: float) -> float:
        """How much API time passes in `real_seconds` of real time."""
        return real_seconds * self.time_scale

    def add_ticker(self, ticker: Callable[[float], None]) -> None:
        """Call `ticker(now)` before every request (jobs, KYC sessions)."""
        self._tickers.append(ticker)

    def tick(self) -> None:
        """Bring every time-driven area up to now."""
        now = self.now()
        for ticker in self._tickers:
            ticker(now)

    def emit(self, event: str, payload: dict[str, Any], organization_id: str) -> None:
        """Send a webhook event to the matching subscriptions."""
        self.webhooks.emit(event, payload, organization_id)

    def emit_entity_change(self, entity: dict[str, Any], changes: dict[str, Any]) -> None:
        """`entity.status_changed` for a status transition, `entity.updated` for the rest."""
        org = entity["organizationId"]
        status = changes.get("status")
        rest = {k: v for k, v in changes.items() if k != "status"}
        if status is not None:
            payload = {
                "entity": dict(entity),
                "previousStatus": status["old"],
                "newStatus": status["new"],
            }
            self.emit("entity.status_changed", payload, org)
        if rest:
            self.emit("entity.updated", {"entity": dict(entity), "changes": rest}, org)


STATE: web.AppKey[FakeState] = web.AppKey("gu1_fake_state")


def state_of(request: web.Request) -> FakeState:
    """The server's in-memory state."""
    return request.app[STATE]
