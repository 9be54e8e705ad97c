"""The one place that knows gu1's wire format: one cattrs converter plus body helpers.

Reading (JSON -> models). gu1 returns camelCase JSON, adds fields without notice, and is
not always consistent (some routes answer in snake_case, `total` is sometimes a string).
So the converter is *lenient*:

* a field is read from its camelCase key (or a `wire` name in the field's metadata),
  falling back to the snake_case key;
* a missing field is None; an unknown key lands in the model's `extra` mapping;
* a value that does not fit its field (a malformed datetime, a string where a number was
  expected) is kept verbatim in `extra` and the field is None, instead of raising;
* the original dict stays reachable as `model.raw`.

Models opt in with a `__gu1_wire__ = True` class attribute and `extra` / `raw` fields
(see `gu1_async.models.Gu1Model`); this module never imports the models.

Writing (arguments -> JSON). Resources build bodies with `compact()`: None means "not
given" and is omitted, `CLEAR` sends an explicit JSON null ("send null to clear" in the
gu1 docs), datetimes become ISO 8601 strings. `form_fields()` does the same for
multipart forms (booleans as "true"/"false", objects as JSON strings).
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import re
import reprlib
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import BaseValidationError

from gu1_async._errors import ResponseShapeError
from gu1_async._types import FilePart

__all__ = [
    "CLEAR",
    "ClearType",
    "compact",
    "converter",
    "form_fields",
    "parse_datetime",
    "query",
    "shape_error",
    "structure",
    "to_camel",
    "to_snake",
    "unwrap",
    "unwrap_list",
]

_T = TypeVar("_T")


class ClearType(enum.Enum):
    """Type of the `CLEAR` sentinel."""

    CLEAR = "CLEAR"

    def __repr__(self) -> str:
        return "CLEAR"


CLEAR = ClearType.CLEAR
"""Pass as an argument value to send an explicit JSON `null` (gu1: "send null to clear")."""

converter = cattrs.Converter()
"""The SDK's single cattrs converter."""

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")
_FRACTION = re.compile(r"\.(\d+)")


def to_camel(name: str) -> str:
    """`risk_score` -> `riskScore`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    """`riskScore` -> `risk_score`."""
    return _CAMEL_BOUNDARY.sub(r"_\1", name).lower()


# --- scalars ---------------------------------------------------------------------------


def parse_datetime(value: Any) -> _dt.datetime:
    """Parse an ISO 8601 string (or epoch seconds/milliseconds) into an aware datetime.

    Naive values are taken as UTC. Raises ValueError or TypeError on anything else.
    """
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A unix number above ~1e11 cannot be seconds (year 5138): treat it as milliseconds.
        seconds = value / 1000 if abs(value) > 1e11 else value
        return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(f"not an ISO 8601 datetime: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat accepts only 3 or 6 fraction digits; gu1 may send others.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    parsed = _dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


def _structure_str(value: Any, _: type) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # numeric ids
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())  # gu1 documents some totals as strings
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(_dt.datetime, lambda v, _: parse_datetime(v))
converter.register_unstructure_hook(_dt.datetime, lambda d: d.isoformat())


# --- models ----------------------------------------------------------------------------

# What a value may fail with when it does not fit its field; anything else is a bug.
_LENIENT_ERRORS = (ValueError, TypeError, AttributeError, KeyError, BaseValidationError)


def _is_wire_model(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and getattr(cls, "__gu1_wire__", False)


def _open_string(field_type: Any) -> Any:
    """Read `Literal["a", "b"] | str` (an open enum) as plain `str`; cattrs has no hook for it."""
    if typing.get_origin(field_type) is not typing.Union:
        return field_type
    args = typing.get_args(field_type)
    real = [a for a in args if a is not type(None)]
    if all(a is str or typing.get_origin(a) is typing.Literal for a in real) and str in real:
        return typing.Optional[str] if len(real) < len(args) else str  # noqa: UP045
    return field_type


def _model_hook_factory(cls: type[Any]) -> Callable[[Any, type[Any]], Any]:
    hints = typing.get_type_hints(cls)
    plan = [
        (f.name, f.metadata.get("wire", to_camel(f.name)), _open_string(hints[f.name]))
        for f in attrs.fields(cls)
        if f.name not in ("extra", "raw")
    ]

    def structure_model(data: Any, _: type[Any]) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise shape_error(f"a JSON object ({cls.__name__})", data)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        used: set[str] = set()
        for name, wire, field_type in plan:
            key = wire if wire in data else name if name in data else None
            if key is None:
                continue
            used.add(key)
            value = data[key]
            if value is None:
                continue
            try:
                values[name] = converter.structure(value, field_type)
            except _LENIENT_ERRORS:
                extra[key] = value  # keep what we could not read; never break on it
        extra.update((k, v) for k, v in data.items() if k not in used)
        return cls(**values, extra=extra, raw=data)

    return structure_model


converter.register_structure_hook_factory(_is_wire_model, _model_hook_factory)


def structure(data: Any, cls: type[_T]) -> _T:
    """Build `cls` (a model, or e.g. `list[Model]`) from decoded JSON.

    Raises:
        ResponseShapeError: `data` (or an item of it) is not the shape `cls` is read from.
    """
    try:
        return converter.structure(data, cls)
    except BaseValidationError as exc:
        # cattrs gathers the failures of a list's items into a group: the first one says it.
        raise _first_shape_error(exc) from None


def _first_shape_error(group: BaseException) -> BaseException:
    for inner in getattr(group, "exceptions", ()):
        found = inner if isinstance(inner, ResponseShapeError) else _first_shape_error(inner)
        if isinstance(found, ResponseShapeError):
            return found
    return shape_error("the documented shape", None, detail=str(group))


_excerpt = reprlib.Repr()
_excerpt.maxlevel, _excerpt.maxstring, _excerpt.maxother = 3, 60, 60


def _kind(value: Any) -> str:
    if value is None:
        return "null or an empty body"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a JSON array"
    if isinstance(value, Mapping):
        return "a JSON object"
    return type(value).__name__


def shape_error(expected: str, got: Any, *, detail: str | None = None) -> ResponseShapeError:
    """The error for a decoded body (or part of one) that is not the shape expected.

    The resource method that called the decoder adds its operation, method and path.
    """
    message = detail or f"gu1 answered with {_kind(got)} where {expected} was expected"
    return ResponseShapeError(message, expected=expected, body_excerpt=_excerpt.repr(got))


def unwrap(body: Any, *keys: str) -> Any:
    """Return `body[key]` for the first envelope key present, else `body` itself.

    gu1 wraps some objects (`{success, entity}`) and not others (GET /entities/{id});
    accepting both keeps the SDK working if a route changes shape.
    """
    if isinstance(body, Mapping):
        for key in keys:
            inner = body.get(key)
            if isinstance(inner, Mapping):
                return inner
    return body


def unwrap_list(body: Any, key: str) -> list[Any]:
    """The list under `key`, or the body itself if gu1 sent a bare list.

    An object without the list, or an empty body, reads as no items.

    Raises:
        ResponseShapeError: the body is a string, a number or a boolean.
    """
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        inner = body.get(key)
        return list(inner) if isinstance(inner, list) else []
    if body is None:
        return []
    raise shape_error(f"a JSON object with a list under {key!r}", body)


# --- request bodies --------------------------------------------------------------------


def _wire_value(value: Any) -> Any:
    if value is CLEAR:
        return None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return converter.unstructure(value)
    if isinstance(value, Mapping):
        return {k: _wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire_value(v) for v in value]
    return value


def compact(fields: Mapping[str, Any], extra_body: Mapping[str, Any] | None = None) -> Any:
    """Build a JSON body from wire-named fields: drop None, `CLEAR` -> null.

    `extra_body` is merged last and sent as given (its None values become null), the
    escape hatch for fields gu1 adds before the SDK knows them.
    """
    body = {key: _wire_value(value) for key, value in fields.items() if value is not None}
    if extra_body:
        body.update((key, _wire_value(value)) for key, value in extra_body.items())
    return body


def query(
    fields: Mapping[str, Any], extra_params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build query parameters: drop None, booleans as "true"/"false", datetimes as ISO."""
    merged = {**fields, **(extra_params or {})}
    params: dict[str, Any] = {}
    for key, value in merged.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            params[key] = ",".join(str(_wire_value(v)) for v in value)
        else:
            params[key] = _wire_value(value)
    return params


def form_fields(
    fields: Mapping[str, Any], extra_fields: Mapping[str, Any] | None = None
) -> dict[str, FilePart | str]:
    """Build multipart form fields: files as given, booleans "true"/"false", objects as JSON."""
    merged = {**fields, **(extra_fields or {})}
    form: dict[str, FilePart | str] = {}
    for key, value in merged.items():
        if value is None:
            continue
        if isinstance(value, (FilePart, str)):
            form[key] = value
        elif isinstance(value, bool):
            form[key] = "true" if value else "false"
        elif isinstance(value, (Mapping, list, tuple)):
            form[key] = json.dumps(_wire_value(value), separators=(",", ":"))
        else:
            form[key] = str(_wire_value(value))
    return form
