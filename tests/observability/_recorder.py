"""A Hooks subclass that keeps every event, for assertions."""

from __future__ import annotations

from typing import Any

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


class Recorder(Hooks):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def on_governor(self, event: GovernorAttached) -> None:
        self.events.append(event)

    def on_call_start(self, call: Call) -> None:
        self.events.append(call)

    def on_request_sent(self, event: RequestSent) -> None:
        self.events.append(event)

    def on_response(self, event: ResponseReceived) -> None:
        self.events.append(event)

    def on_wait(self, event: Waited) -> None:
        self.events.append(event)

    def on_throttled(self, event: Throttled) -> None:
        self.events.append(event)

    def on_retry(self, event: Retried) -> None:
        self.events.append(event)

    def on_call_end(self, event: CallEnded) -> None:
        self.events.append(event)

    def on_store_error(self, event: StoreError) -> None:
        self.events.append(event)
