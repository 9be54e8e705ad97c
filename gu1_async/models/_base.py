"""Conventions every gu1 model follows, and the shapes several areas share."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from gu1_async._serde import structure

__all__ = ["PERSONAL", "ApiResult", "Gu1Model", "RulesExecutionSummary", "personal"]

PERSONAL = "gu1_personal"
"""Field metadata key: the value is personal data (a name, tax id, document, contact,
address, date of birth, IP...). DEBUG logs show such fields as a redaction marker."""

_M = TypeVar("_M", bound="Gu1Model")


def personal() -> Any:
    """An optional field (default None) that holds personal data; see `PERSONAL`."""
    return attrs.field(default=None, metadata={PERSONAL: True})


@attrs.frozen(kw_only=True, repr=False)
class Gu1Model:
    """Base of all models: frozen, lenient, with unknown fields kept.

    Attributes:
        extra: keys gu1 sent that the model has no field for (and values that did not
            fit their field, e.g. a malformed datetime), verbatim.
        raw: the decoded JSON object the model was built from.

    Neither takes part in equality: two models are equal when their known fields are.
    """

    __gu1_wire__: ClassVar[bool] = True

    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False)
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_api(cls: type[_M], data: Mapping[str, Any]) -> _M:
        """Build the model from a decoded gu1 JSON object."""
        return structure(data, cls)

    def __repr__(self) -> str:
        # Models have dozens of optional fields; show only those gu1 actually sent.
        shown = [
            f"{a.name}={getattr(self, a.name)!r}"
            for a in attrs.fields(type(self))
            if a.name not in ("extra", "raw") and getattr(self, a.name) is not None
        ]
        if self.extra:
            shown.append(f"extra={self.extra!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


@attrs.frozen(kw_only=True, repr=False)
class RulesExecutionSummary(Gu1Model):
    """What the rules engine did after a create, event, analysis or enrichment."""

    rules_hit: tuple[Mapping[str, Any], ...] | None = None
    rules_no_hit: tuple[Mapping[str, Any], ...] | None = None
    actions_executed: Mapping[str, Any] | None = None
    total_score: float | None = None
    score_result: Mapping[str, Any] | None = None
    risk_matrix_name: str | None = None
    execution_time_ms: float | None = None
    trigger: str | None = None
    matched_rules_count: int | None = None
    risk_matrices_executed: tuple[Any, ...] | None = None


@attrs.frozen(kw_only=True, repr=False)
class ApiResult(Gu1Model):
    """A response gu1 documents only loosely: the success flag and message, rest in `extra`."""

    success: bool | None = None
    message: str | None = None
    id: str | None = None
    status: str | None = None
    created_at: _dt.datetime | None = None
