"""What DEBUG logs may show of a request or an answer: personal data replaced by a marker.

The personal keys are the fields the models mark `personal()` (`Entity.name`, `tax_id`,
`email`, `phone`, `entity_data`, `KycValidation.extracted_data`, `UserEvent.ip_address`...),
in their camelCase and snake_case spellings, plus the keys gu1 nests inside free-form
objects (`entityData`, `kycData`, a device's details) that no model field names:
`firstName`, `dateOfBirth`, `documentNumber`, `address`, `ip`... A personal key's whole
value is replaced, whatever it holds; keys are compared without case and underscores.

Paths are shown with the personal segments replaced (`/entities/by-tax-id/[REDACTED]`).
Everything here runs only when DEBUG logging is on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from . import models
from ._serde import to_camel
from .models._base import PERSONAL, Gu1Model

__all__ = ["MARKER", "PERSONAL_KEYS", "redact", "redact_path", "sent", "summary"]

MARKER = "[REDACTED]"

# Keys of personal data inside free-form objects and request bodies, which no model field
# names (a transaction's `destinationName`, an event's `previousValue`).
NESTED = (  # noqa: SIM905 - a word list reads better as words
    "first_name last_name middle_name full_name legal_name display_name given_name "
    "family_name surname mother_name father_name name tax_id cpf cnpj cuit cuil rfc curp "
    "rut nit ssn national_id document document_id document_number document_type_number "
    "passport passport_number id_number date_of_birth birth_date birthdate dob email "
    "email_address phone phone_number mobile telephone address address_line address_line1 "
    "address_line2 street street_address city_address postal_code zip zip_code ip "
    "ip_address client_ip remote_ip user_agent latitude longitude geolocation selfie face "
    "image photo document_front document_back origin_name destination_name origin_details "
    "destination_details origin_tax_id destination_tax_id destination_cuit entity_tax_id "
    "previous_value beneficiary_name account_holder holder_name"
).split()


# Free text may quote anything (a 409's "taxId 123 already exists", a reviewer's note).
FREE_TEXT = "message error detail details description reason note notes comment comments".split()  # noqa: SIM905


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _model_classes() -> Iterable[type[Gu1Model]]:
    for name in models.__all__:
        value = getattr(models, name)
        if isinstance(value, type) and issubclass(value, Gu1Model):
            yield value


def _personal_fields() -> set[str]:
    keys: set[str] = set()
    for cls in _model_classes():
        for field in attrs.fields(cls):
            if field.metadata.get(PERSONAL):
                keys.add(field.name)
                keys.add(to_camel(field.name))
                if "wire" in field.metadata:
                    keys.add(field.metadata["wire"])
    return keys


PERSONAL_KEYS: frozenset[str] = frozenset(_norm(k) for k in (*_personal_fields(), *NESTED))
"""Normalized (lower case, no `_` or `-`) keys whose values DEBUG logs never show."""
_FREE_TEXT = frozenset(_norm(k) for k in FREE_TEXT)

_PERSONAL_PATH = re.compile(r"(/by-tax-id/)[^/?#]+")
_QUERY_PAIR = re.compile(r"([?&])([^=&#]+)=([^&#]*)")
_LIMIT = 600


def redact(value: Any) -> Any:
    """A copy of decoded JSON (or a mapping of parameters) with personal values replaced."""
    if isinstance(value, Mapping):
        return {key: _redact_item(_norm(str(key)), item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value


def _redact_item(key: str, item: Any) -> Any:
    if key in PERSONAL_KEYS or (key in _FREE_TEXT and isinstance(item, str)):
        return MARKER
    return redact(item)


def redact_path(path: str) -> str:
    """The path with personal segments and personal query values replaced."""
    path = _PERSONAL_PATH.sub(rf"\1{MARKER}", path)
    if "?" in path:
        path = _QUERY_PAIR.sub(
            lambda m: f"{m[1]}{m[2]}={MARKER if _norm(m[2]) in PERSONAL_KEYS else m[3]}", path
        )
    return path


def summary(value: Any) -> str:
    """Redacted JSON of a request's body or parameters, cut to a few hundred characters."""
    if value is None:
        return "-"
    if isinstance(value, (bytes, bytearray)):
        if not value:
            return "-"
        try:
            value = json.loads(value)
        except ValueError:
            return f"<{len(value)} bytes, not JSON>"
    if not isinstance(value, (Mapping, list, tuple)):
        return f"<{type(value).__name__}>"  # a scalar or form fields: not shown
    text = json.dumps(redact(value), default=str, ensure_ascii=False)
    return text if len(text) <= _LIMIT else f"{text[:_LIMIT]}…"


def sent(params: Any, json_body: Any, files: Any) -> str:
    """What a request carried, redacted: its JSON body, else its query, else form field names."""
    if files:
        return f"<multipart: {', '.join(sorted(map(str, files)))}>"
    return summary(json_body if json_body is not None else params)
