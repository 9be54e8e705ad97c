"""The fake's KYC validations and their scripted sandbox outcomes, on scaled time (no HTTP)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Protocol

from ._common import iso, new_id, normalize_tax_id, not_found
from ._store import EntityStore

__all__ = ["FINAL", "OPEN", "SANDBOX_OUTCOMES", "KycHost", "KycStore"]


class KycHost(Protocol):
    """What the KYC store needs of the fake's state (the state holds the store, so the
    store names only this, and the dependency runs one way)."""

    time_scale: float
    entities: EntityStore

    def tick(self) -> None: ...

    def scaled(self, real_seconds: float) -> float: ...

    def emit(self, event: str, payload: dict[str, Any], organization_id: str) -> None: ...


# gu1's real sandbox test set is not in the docs we have; this is the fake's own, keyed on
# the person's tax id normalised to alphanumerics (any punctuation works).
SANDBOX_OUTCOMES: dict[str, str] = {
    "11111111111": "approved",
    "22222222222": "rejected",
    "33333333333": "cancelled",
    "44444444444": "in_review",
    "55555555555": "abandoned",
    "66666666666": "expired",
}
IN_PROGRESS_AFTER = 2.0
"""API seconds after creation at which a sandbox session shows `in_progress`."""
OUTCOME_AFTER = 5.0
"""API seconds after creation at which a sandbox session reaches its scripted outcome."""
OPEN = frozenset({"pending", "in_progress", "in_review"})
FINAL = frozenset({"approved", "rejected", "expired", "abandoned", "cancelled"})
SESSION_LIFETIME = 7 * 86_400.0


class KycStore:
    """Validations by id, and the scripted outcome of each sandbox session."""

    def __init__(self, state: KycHost) -> None:
        self._state = state
        self.by_id: dict[str, dict[str, Any]] = {}
        self._script: dict[str, tuple[float, str]] = {}  # id -> (created real time, outcome)
        self._timers: list[asyncio.TimerHandle] = []

    def create(self, entity: dict[str, Any], body: dict[str, Any], now: float) -> dict[str, Any]:
        """Start a session for a person entity; it becomes the entity's current one."""
        for previous in self.by_id.values():
            if previous["entityId"] == entity["id"]:
                previous["isCurrent"] = False
        session_id = new_id()
        stamp = iso(now)
        validation: dict[str, Any] = {
            "id": new_id(),
            "entityId": entity["id"],
            "organizationId": entity["organizationId"],
            "sessionId": session_id,
            "validationSessionId": session_id,
            "integrationCode": body["integrationCode"],
            "status": "pending",
            "provider": "gueno",
            "providerSessionUrl": f"https://kyc.fake-gu1.invalid/session/{session_id}",
            "isCurrent": True,
            "decision": None,
            "documentsVerified": [],
            "biometricResult": None,
            "riskAssessment": None,
            "verifiedFields": [],
            "extractedData": {},
            "warnings": [],
            "expiresAt": iso(now + SESSION_LIFETIME / self._state.time_scale),
            "verifiedAt": None,
            "metadata": body.get("metadata") or {},
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.by_id[validation["id"]] = validation
        outcome = SANDBOX_OUTCOMES.get(normalize_tax_id(entity.get("taxId") or ""))
        if outcome is not None:
            self._script[validation["id"]] = (now, outcome)
            self._schedule_ticks()
        self._emit(validation, "created")
        return validation

    def _schedule_ticks(self) -> None:
        """Advance scripted sessions on time too, not only when a request arrives, so a
        client that waits for webhooks alone (as gu1 recommends) sees the outcome."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for api_seconds in (IN_PROGRESS_AFTER, OUTCOME_AFTER):
            delay = api_seconds / self._state.time_scale + 0.001
            self._timers.append(loop.call_later(delay, self._state.tick))

    def close(self) -> None:
        """Cancel pending timeline timers (the server is stopping)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def fetch(self, org: str, validation_id: str) -> dict[str, Any]:
        """The validation, or a 404 (also for another organization's)."""
        validation = self.by_id.get(validation_id)
        if validation is None or validation["organizationId"] != org:
            not_found("Validation")
        return validation

    def tick(self, now: float) -> None:
        """Move scripted sandbox sessions along their timeline."""
        for validation_id, (created, outcome) in list(self._script.items()):
            validation = self.by_id[validation_id]
            if validation["status"] not in ("pending", "in_progress"):
                del self._script[validation_id]  # cancelled or decided by hand meanwhile
                continue
            elapsed = self._state.scaled(now - created)
            if validation["status"] == "pending" and elapsed >= IN_PROGRESS_AFTER:
                self.set_status(validation, "in_progress", now)
            if elapsed >= OUTCOME_AFTER:
                self.set_status(validation, outcome, now)
                del self._script[validation_id]

    def complete(self, validation_id: str, status: str | None, now: float) -> dict[str, Any]:
        """Jump a session to `status` (default: its sandbox outcome, else approved)."""
        validation = self.by_id[validation_id]
        if validation["status"] in FINAL:
            raise ValueError(f"validation {validation_id} is already {validation['status']}")
        if status == "pending":
            raise ValueError("a session cannot move back to pending")
        scripted = self._script.pop(validation_id, None)
        target = status or (scripted[1] if scripted else "approved")
        if target not in OPEN | FINAL:
            raise ValueError(f"unknown KYC status {target!r}")
        if validation["status"] == "pending" and target != "in_progress":
            self.set_status(validation, "in_progress", now)
        self.set_status(validation, target, now)
        return validation

    def set_status(self, validation: dict[str, Any], status: str, now: float) -> None:
        """Change status, fill the decision for outcomes, update the entity, send the webhook."""
        if validation["status"] == status:
            return
        validation["status"] = status
        validation["updatedAt"] = iso(now)
        if status in ("approved", "rejected"):
            validation["decision"] = {
                "status": status.capitalize(),
                "features": ["id_verification", "liveness", "face_match"],
                "id_verification": {"status": status.capitalize(), "document_type": "ID_CARD"},
            }
            validation["verifiedAt"] = iso(now)
            entity = self._state.entities.get(validation["entityId"])
            if entity is not None:
                entity["kycVerified"] = status == "approved"
                entity["kycProvider"] = validation["provider"]
                entity["kycData"] = copy.deepcopy(validation["decision"])
                entity["updatedAt"] = iso(now)
        self._emit(validation, status)

    def _emit(self, validation: dict[str, Any], status: str) -> None:
        payload = copy.deepcopy(validation)
        if status in ("approved", "rejected"):  # gu1 adds the entity only for these two
            payload["entity"] = copy.deepcopy(self._state.entities.get(validation["entityId"]))
        self._state.emit(f"kyc.validation_{status}", payload, validation["organizationId"])
