"""examples/kyc_flow.py runs end to end against FakeGu1Server and every path ends as planned."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pytest
import pytest_asyncio

from gu1_async.testing import DEFAULT_KEY
from gu1_async.webhooks import parse_event

if TYPE_CHECKING:
    from examples.kyc_flow import KycFlowResult, KycInbox

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kyc_flow.py"


def _load_example() -> ModuleType:
    # examples/ is a folder of scripts, not a package: load the file by path.
    name = "gu1_examples_kyc_flow"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


example = _load_example()


class Run:
    """One run of the example: what main() returned and what it printed."""

    def __init__(self, result: KycFlowResult, lines: list[str]) -> None:
        self.result = result
        self.lines = lines


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def run() -> AsyncIterator[Run]:
    """Run the example once (about a second) and share it across this module's tests."""
    lines: list[str] = []
    result = cast("KycFlowResult", await example.main(out=lines.append))
    yield Run(result, lines)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sandbox-approved", "approved"),
        ("sandbox-rejected", "rejected"),
        ("review-approve", "approved"),
        ("review-reject", "rejected"),
        ("cancel", "cancelled"),
    ],
)
def test_each_path_reaches_its_final_status(run: Run, path: str, expected: str) -> None:
    outcome = run.result.path(path)
    assert outcome.expected == expected
    assert outcome.polled_status == expected
    assert outcome.reached_expected


def test_the_verified_webhook_agrees_with_the_poll_on_every_path(run: Run) -> None:
    assert len(run.result.paths) == 5
    for outcome in run.result.paths:
        assert outcome.webhook_agrees, outcome
        # The final status arrived by webhook exactly once (the receiver de-duplicates).
        assert outcome.webhook_statuses.count(outcome.expected) == 1
        assert outcome.webhook_statuses[0] == "pending"  # kyc.validation_created


def test_every_delivery_was_verified_and_acknowledged(run: Run) -> None:
    result = run.result
    # 3 + 3 + 4 + 4 + 2 status changes on the five paths, plus the re-verification's created.
    assert result.deliveries_attempted == 17
    assert result.deliveries_acknowledged == result.deliveries_attempted
    assert result.webhooks_verified == result.deliveries_attempted


def test_a_forged_delivery_is_refused(run: Run) -> None:
    assert run.result.forged_delivery_status == 401
    assert all(o.validation_id != "forged" for o in run.result.paths)


def test_sessions_pass_through_the_documented_intermediate_statuses(run: Run) -> None:
    assert "in_progress" in run.result.path("sandbox-approved").webhook_statuses
    for path in ("review-approve", "review-reject"):
        statuses = run.result.path(path).webhook_statuses
        assert statuses.index("in_review") < statuses.index(run.result.path(path).expected)
    # Cancelled while still waiting for the person: it never started.
    assert set(run.result.path("cancel").webhook_statuses) == {"pending", "cancelled"}


def test_retries_create_neither_a_second_person_nor_a_second_session(run: Run) -> None:
    assert run.result.person_reused
    assert run.result.session_resumed
    assert run.result.path("cancel").resumed_same_session is True


def test_reverification_demotes_the_old_session(run: Run) -> None:
    assert run.result.approved_person_kyc_verified is True
    assert run.result.history == (("pending", True), ("approved", False))


def test_the_narration_hands_out_each_url_and_never_the_key(run: Run) -> None:
    handed = [line for line in run.lines if "hand this to the user:" in line]
    assert len(handed) == 5
    urls = [line.rsplit(" ", 1)[-1] for line in handed]
    assert urls == [o.session_url for o in run.result.paths]
    assert all(url.startswith("https://kyc.fake-gu1.invalid/session/") for url in urls)
    assert not any(DEFAULT_KEY in line for line in run.lines)
    assert run.result.ok


async def _inbox_with(*bodies: dict[str, Any]) -> KycInbox:
    inbox = cast("KycInbox", example.KycInbox())
    for body in bodies:
        await inbox.on_event(parse_event(json.dumps(body).encode()))
    return inbox


async def test_inbox_reads_the_older_envelope_and_ignores_other_events() -> None:
    inbox = await _inbox_with(
        {"type": "kyc.validation_approved", "data": {"validationId": "v-1"}},
        {"event": "entity.updated", "payload": {"id": "v-1", "status": "active"}},
    )
    assert inbox.statuses("v-1") == ("approved",)
    assert inbox.verified == 1


async def test_inbox_wait_tolerates_out_of_order_deliveries() -> None:
    inbox = await _inbox_with(
        {"event": "kyc.validation_approved", "payload": {"id": "v-2", "status": "approved"}},
        {"event": "kyc.validation_in_progress", "payload": {"id": "v-2", "status": "in_progress"}},
    )
    assert await inbox.wait_for("v-2", {"approved", "rejected"}) == "approved"
    waiter = asyncio.ensure_future(inbox.wait_for("v-3", {"rejected"}))
    await asyncio.sleep(0)
    assert not waiter.done()
    await inbox.on_event(parse_event(b'{"event":"kyc.validation_rejected","payload":{"id":"v-3"}}'))
    assert await asyncio.wait_for(waiter, 1.0) == "rejected"


def test_the_script_runs_and_exits_zero() -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "hand this to the user: https://" in completed.stdout
    assert "17/17 deliveries acknowledged" in completed.stdout


DOC = Path(__file__).resolve().parents[1] / "docs" / "kyc.md"
_EXCERPT = re.compile(r'```python title="examples/kyc_flow.py"\n(.*?)```', re.DOTALL)


def test_docs_excerpts_are_verbatim_from_the_example() -> None:
    source = EXAMPLE.read_text()
    excerpts = _EXCERPT.findall(DOC.read_text())
    assert len(excerpts) >= 8
    for excerpt in excerpts:
        # The page shows excerpts dedented; the example has them at some nesting depth.
        assert any(
            textwrap.indent(excerpt, " " * depth, lambda line: bool(line.strip())) in source
            for depth in (0, 4, 8, 12, 16)
        ), f"docs/kyc.md excerpt drifted from examples/kyc_flow.py:\n{excerpt}"
