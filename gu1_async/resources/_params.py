"""`given`: check a call's keywords against its TypedDict spec and split them for the request.

A resource method whose keywords are declared in a spec takes `**params: Unpack[Spec]`,
so the spec is the one place its keyword signature is written: mypy and editors read it
(PEP 692), the reference docs list it, and `given` checks it at run time, where Python
itself no longer can. Spec keys are the snake_case names the caller types; on the wire
each becomes its camelCase form (`tax_id` -> `taxId`), the rule every such gu1 field
follows.

The specs live in `_entity_params.py`, `_import_params.py`, `_transaction_params.py` and
`_intelligence_params.py`. Each extends `RequestOptions`, so one checked set holds the
body fields and the per-call options (timeout, priority, max_wait, extra_headers).
Required keys live in a `total=True` base class (`Required[...]` is Python 3.11+).
Nested objects are sent as given, so they use gu1's camelCase keys; `extra_body` (JSON)
or `extra_fields` (multipart) adds or overrides top-level fields verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias, cast

import attrs

from gu1_async._checks import check_keywords
from gu1_async._serde import to_camel
from gu1_async._types import RequestOptions

__all__ = ["Body", "Given", "given"]

Body: TypeAlias = Mapping[str, Any]
"""A JSON object the caller passes (any read-only mapping), sent as given."""

OPTION_KEYS = tuple(RequestOptions.__annotations__)
"""The per-call request options every spec inherits (timeout, priority, ...)."""

EXTRA_KEYS = ("extra_body", "extra_fields", "extra_params")
"""The escape hatches: sent as given, after the spec's own fields."""


@attrs.frozen
class Given:
    """One call's keywords, split.

    Attributes:
        fields: the spec's own fields that were given, under their wire (camelCase)
            names, in the spec's order.
        extra: the `extra_body` / `extra_fields` / `extra_params` mapping, if given.
        options: the request options (timeout, priority, max_wait, extra_headers).
    """

    fields: dict[str, Any]
    extra: Mapping[str, Any] | None
    options: RequestOptions


def given(params: Mapping[str, object], spec: type[Any], *, call: str) -> Given:
    """Check `params` against `spec` (a TypedDict) and split them.

    Args:
        params: the keywords of one call.
        spec: the TypedDict the method's `**params` is typed with.
        call: the method as the caller knows it (`entities.create`), for the errors.

    Raises:
        TypeError: a keyword the spec does not know (with the nearest known one), or a
            required one missing: the errors Python raises for a plain signature.
    """
    known: tuple[str, ...] = tuple(spec.__annotations__)
    check_keywords(params, known, call=call)
    missing = [key for key in known if key in spec.__required_keys__ and key not in params]
    if missing:
        names = ", ".join(repr(key) for key in missing)
        raise TypeError(f"{call}() missing required keyword argument(s): {names}")
    fields = {
        to_camel(key): params[key]
        for key in known
        if key in params and key not in OPTION_KEYS and key not in EXTRA_KEYS
    }
    extra = next((params[key] for key in EXTRA_KEYS if key in params), None)
    options = {key: params[key] for key in OPTION_KEYS if key in params}
    return Given(
        fields=fields,
        extra=cast("Mapping[str, Any] | None", extra),
        options=cast("RequestOptions", options),
    )
