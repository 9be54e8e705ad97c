"""DEBUG logs never show personal data: a full KYC flow, every log record scanned.

Builds on tests/test_kyc_flow.py's example (five people through gu1's KYC flow, webhooks
and all) and on tests/test_redaction.py (the key never logged), with every logger at DEBUG.
"""

from __future__ import annotations

import logging
import re

import pytest

from gu1_async import Gu1Client, NotFoundError, Plan
from gu1_async._redact import MARKER, PERSONAL_KEYS, redact, redact_path, summary
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

from .test_kyc_flow import example

PERSON = {
    "name": "Zuleica Planted Quintanilha",
    "tax_id": "529.982.247-25",
    "email": "zuleica.planted@example.org",
    "phone": "+55 11 98765-4321",
    "date_of_birth": "1987-06-05",
    "street": "Rua Plantada 4321",
    "document": "PLANTDOC998877",
    "ip": "203.0.113.77",
    "counterparty": "Florisvaldo Planted Counterparty",
}


def planted_values() -> list[str]:
    values = list(PERSON.values())
    values.append(re.sub(r"\D", "", PERSON["tax_id"]))  # the tax id as gu1 may echo it
    for person in example.PEOPLE:
        values += [person.name, person.tax_id, re.sub(r"\D", "", person.tax_id)]
    return values


def scan(records: list[logging.LogRecord], text: str, extra: list[str] = ()) -> None:  # type: ignore[assignment]
    seen = [r.getMessage() for r in records] + [text]
    for value in [*planted_values(), *extra, DEFAULT_KEY]:
        for line in seen:
            assert value not in line, f"{value!r} reached a log record: {line[:300]!r}"


def gu1_summaries(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.getMessage().startswith("gu1 ")]


async def test_the_kyc_example_logs_no_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lines: list[str] = []
    result = await example.main(out=lines.append)
    assert result.ok
    urls = [p.session_url for p in result.paths if p.session_url]
    summaries = gu1_summaries(caplog.records)
    # The logs are there and say something: one per request, bodies summarized.
    assert len(summaries) >= 40
    assert any(MARKER in line and '"status": "approved"' in line for line in summaries)
    scan(caplog.records, caplog.text, urls)


async def test_every_personal_field_of_a_full_flow_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        FakeGu1Server(plan="professional", time_scale=50) as server,
        Gu1Client(DEFAULT_KEY, base_url=server.url, plan=Plan.PROFESSIONAL.scaled(50)) as client,
    ):
        created = await client.entities.create(
            type="person",
            name=PERSON["name"],
            country_code="BR",
            external_id="pii-1",
            tax_id=PERSON["tax_id"],
            email=PERSON["email"],
            phone=PERSON["phone"],
            entity_data={
                "person": {
                    "firstName": PERSON["name"].split()[0],
                    "dateOfBirth": PERSON["date_of_birth"],
                    "documentNumber": PERSON["document"],
                    "address": {"street": PERSON["street"], "city": "São Paulo"},
                }
            },
        )
        assert created.entity is not None and created.entity.id is not None
        entity_id = created.entity.id
        await client.entities.get(entity_id)
        await client.entities.get_by_tax_id(PERSON["tax_id"])
        await client.entities.list(tax_id=PERSON["tax_id"])
        await client.request("GET", "/entities", params={"taxId": PERSON["tax_id"]})
        await client.request("GET", f"/entities?email={PERSON['email']}")
        validation = await client.kyc.create(entity_id=entity_id)
        assert validation.id is not None
        server.complete_kyc(validation.id, status="approved")
        await client.kyc.get(validation.id)
        await client.kyc.get_current(entity_id)
        await client.events.create(
            event_type="LOGIN",
            entity_id=entity_id,
            ip_address=PERSON["ip"],
            device_details={"ipAddress": PERSON["ip"], "platform": "web"},
        )
        await client.transactions.create(
            external_id="pii-tx-1",
            type="TRANSFER",
            amount=10,
            currency="BRL",
            origin_entity_id=entity_id,
            destination_name=PERSON["counterparty"],
        )
        with pytest.raises(NotFoundError):
            await client.entities.get_by_tax_id("000.000.000-00")
        await client.entities.get_by_tax_id(PERSON["tax_id"])
    summaries = gu1_summaries(caplog.records)
    assert len(summaries) >= 13
    assert all("by-tax-id/[REDACTED]" in s for s in summaries if "by-tax-id" in s)
    scan(caplog.records, caplog.text, ["000.000.000-00"])


def test_the_models_personal_fields_are_the_redacted_keys() -> None:
    for key in ("name", "taxId", "tax_id", "email", "phone", "entityData", "kycData"):
        assert key.replace("_", "").lower() in PERSONAL_KEYS  # Entity
    for key in ("extractedData", "documentsVerified", "providerSessionUrl", "ipAddress"):
        assert key.lower() in PERSONAL_KEYS  # KycValidation, UserEvent, Device
    assert "status" not in PERSONAL_KEYS and "id" not in PERSONAL_KEYS


def test_redaction_keeps_what_is_not_personal() -> None:
    body = {
        "entity": {"id": "e-1", "status": "active", "name": "X", "riskScore": 10},
        "error": {"code": "CONFLICT", "message": "taxId 1 exists"},
        "items": [{"EMAIL": "a@b", "type": "person"}],
    }
    assert redact(body) == {
        "entity": {"id": "e-1", "status": "active", "name": MARKER, "riskScore": 10},
        "error": {"code": "CONFLICT", "message": MARKER},
        "items": [{"EMAIL": MARKER, "type": "person"}],
    }
    assert summary(b"not json") == "<8 bytes, not JSON>"
    assert summary(b"") == "-"
    assert len(summary({"k": "v" * 5000})) < 700
    assert redact_path("/entities/by-tax-id/1%2F2?x=1&tax_id=2") == (
        "/entities/by-tax-id/[REDACTED]?x=1&tax_id=[REDACTED]"
    )
