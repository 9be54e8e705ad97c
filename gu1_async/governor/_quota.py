"""Quotas and plans: what the governor believes before any response header has been seen."""

from __future__ import annotations

import datetime as _dt
from typing import ClassVar

import attrs

from .._errors import ConfigurationError

__all__ = ["Plan", "Quota"]


def _to_seconds(value: float | _dt.timedelta) -> float:
    seconds = value.total_seconds() if isinstance(value, _dt.timedelta) else float(value)
    if not seconds > 0:  # also rejects NaN
        raise ConfigurationError(f"a quota period must be positive, got {value!r}")
    return seconds


def _check_limit(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"a quota limit must be a positive int, got {value!r}")


@attrs.frozen
class Quota:
    """At most `limit` requests per `period` (seconds, or a timedelta; stored as seconds)."""

    limit: int = attrs.field(validator=_check_limit)
    period: float = attrs.field(converter=_to_seconds)

    def __str__(self) -> str:
        return f"{self.limit}/{_format_period(self.period)}"


def _format_period(seconds: float) -> str:
    for unit, size in (("d", 86_400.0), ("h", 3_600.0), ("min", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _to_quotas(value: tuple[Quota, ...]) -> tuple[Quota, ...]:
    quotas = tuple(value)
    if not quotas or not all(isinstance(q, Quota) for q in quotas):
        raise ConfigurationError("a plan needs at least one Quota")
    # Shortest window first: it is the one that binds most often, so checks stop early.
    return tuple(sorted(quotas, key=lambda q: q.period))


@attrs.frozen
class Plan:
    """The quotas of an API key's plan: every window must allow a request before it is sent.

    The plan is an upper bound and a first guess: response headers correct it live.
    """

    quotas: tuple[Quota, ...] = attrs.field(converter=_to_quotas)
    name: str = "custom"

    FREE: ClassVar[Plan]
    """100 requests per hour and 10,000 per day (also the sandbox limit)."""
    STARTER: ClassVar[Plan]
    """300 requests per hour and 100,000 per day."""
    PROFESSIONAL: ClassVar[Plan]
    """1,200 requests per hour and 500,000 per day."""

    @classmethod
    def custom(cls, *quotas: Quota, name: str = "custom") -> Plan:
        """Any windows, e.g. an Enterprise contract: `Plan.custom(Quota(5000, 3600))`."""
        return cls(quotas, name)

    @classmethod
    def from_name(cls, name: str) -> Plan:
        """`"free"`, `"starter"` or `"professional"` (any case).

        Raises:
            ConfigurationError: the name is not one of those.
        """
        plan = _NAMED.get(name.strip().lower())
        if plan is None:
            known = ", ".join(repr(n) for n in _NAMED)
            raise ConfigurationError(f"unknown plan {name!r}; use one of {known} or Plan.custom()")
        return plan

    @classmethod
    def coerce(cls, value: Plan | str) -> Plan:
        """Accept a Plan or a plan name."""
        if isinstance(value, Plan):
            return value
        if isinstance(value, str):
            return cls.from_name(value)
        raise ConfigurationError(f"plan must be a Plan or a plan name, got {value!r}")

    def scaled(self, factor: float) -> Plan:
        """The same limits with every period divided by `factor` (for a fast fake server)."""
        if not factor > 0:
            raise ConfigurationError(f"scale factor must be positive, got {factor!r}")
        quotas = tuple(Quota(q.limit, q.period / factor) for q in self.quotas)
        return Plan(quotas, f"{self.name}/{factor:g}")

    def __str__(self) -> str:
        return f"{self.name} ({' + '.join(str(q) for q in self.quotas)})"


_HOUR = 3_600.0
_DAY = 86_400.0
Plan.FREE = Plan((Quota(100, _HOUR), Quota(10_000, _DAY)), "free")
Plan.STARTER = Plan((Quota(300, _HOUR), Quota(100_000, _DAY)), "starter")
Plan.PROFESSIONAL = Plan((Quota(1_200, _HOUR), Quota(500_000, _DAY)), "professional")
_NAMED = {"free": Plan.FREE, "starter": Plan.STARTER, "professional": Plan.PROFESSIONAL}
