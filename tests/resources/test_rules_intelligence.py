"""client.rules, risk_matrices, alerts, investigations: request shape and decoding."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from gu1_async.models import (
    AlertActionResult,
    InvestigationAlerts,
    InvestigationAssignment,
    InvestigationStatusResult,
    RiskMatrix,
    RiskMatrixCreateResult,
    Rule,
    RuleExecutionResult,
)

from .harness import Api, Case, run_case

RULE = {"id": "rule-1", "name": "High amount", "status": "active", "priority": 10, "version": 3}
MATRIX = {"id": "rm-1", "name": "AML", "status": "active", "ruleCount": 4}
ALERT = {"id": "al-1", "name": "PEP hit", "severity": "HIGH", "status": "PENDING"}

CASES = [
    Case(
        id="rules.list",
        call=lambda api: api.rules.list(
            status="active", enabled=True, tags=["aml", "kyc"], sort_by="priority"
        ),
        method="GET",
        path="/rules",
        query={
            "status": "active",
            "enabled": "true",
            "tags": "aml,kyc",
            "sortBy": "priority",
            "page": "1",
            "pageSize": "100",
        },
        response={"rules": [RULE], "total": "1", "page": 1, "pageSize": 100, "totalPages": 1},
        check=lambda r: [x.id for x in r] == ["rule-1"] and isinstance(r[0], Rule),
    ),
    Case(
        id="rules.get",
        call=lambda api: api.rules.get("rule-1"),
        method="GET",
        path="/rules/rule-1",
        response=RULE,
        check=lambda r: isinstance(r, Rule) and r.version == 3 and r.priority == 10,
    ),
    Case(
        id="rules.update",
        call=lambda api: api.rules.update("rule-1", enabled=False, rule_priority=20),
        method="PATCH",
        path="/rules/rule-1",
        json={"enabled": False, "priority": 20},
        response={**RULE, "version": 4, "previousVersionId": "rule-0"},
        check=lambda r: (
            isinstance(r, Rule) and r.version == 4 and r.previous_version_id == "rule-0"
        ),
    ),
    Case(
        id="rules.execute",
        call=lambda api: api.rules.execute("rule-1", entity_id="ent-1", test_mode=True),
        method="POST",
        path="/rules/rule-1/execute",
        json={"entityId": "ent-1", "testMode": True},
        response={"matched": True, "score": 30, "executionTime": 12, "actions": []},
        check=lambda r: isinstance(r, RuleExecutionResult) and r.matched is True and r.score == 30,
    ),
    Case(
        id="risk_matrices.list",
        call=lambda api: api.risk_matrices.list(),
        method="GET",
        path="/risk-matrices",
        response={"riskMatrices": [MATRIX], "total": 1},
        check=lambda r: [m.rule_count for m in r] == [4],
    ),
    Case(
        id="risk_matrices.create",
        call=lambda api: api.risk_matrices.create(
            name="AML", category="aml", scoring_config={"minScore": 0, "maxScore": 100}
        ),
        method="POST",
        path="/risk-matrices",
        json={"name": "AML", "category": "aml", "scoringConfig": {"minScore": 0, "maxScore": 100}},
        status=201,
        response={"riskMatrix": MATRIX, "usingDefaultStrategy": True},
        check=lambda r: (
            isinstance(r, RiskMatrixCreateResult)
            and r.risk_matrix == RiskMatrix(id="rm-1", name="AML", status="active", rule_count=4)
            and r.using_default_strategy is True
        ),
    ),
    Case(
        id="risk_matrices.update",
        call=lambda api: api.risk_matrices.update("rm-1", status="inactive"),
        method="PUT",
        path="/risk-matrices/rm-1",
        json={"status": "inactive"},
        response={"riskMatrix": {"id": "rm-1", "name": "AML", "version": 2}},
        check=lambda r: isinstance(r, RiskMatrix) and r.version == 2,
    ),
    Case(
        id="alerts.list",
        call=lambda api: api.alerts.list(entity_id="ent-1", severity="HIGH"),
        method="GET",
        path="/intelligence/alerts",
        query={"entityId": "ent-1", "severity": "HIGH"},
        response={"success": True, "alerts": [ALERT], "count": 1},
        check=lambda r: [a.severity for a in r] == ["HIGH"],
    ),
    Case(
        id="alerts.acknowledge",
        call=lambda api: api.alerts.acknowledge("al-1"),
        method="POST",
        path="/intelligence/alerts/al-1/acknowledge",
        response={"success": True, "alertId": "al-1", "status": "ACKNOWLEDGED", "message": "ok"},
        check=lambda r: isinstance(r, AlertActionResult) and r.status == "ACKNOWLEDGED",
    ),
    Case(
        id="alerts.resolve",
        call=lambda api: api.alerts.resolve("al-1", resolution_notes="false positive"),
        method="POST",
        path="/intelligence/alerts/al-1/resolve",
        json={"resolutionNotes": "false positive"},
        response={"success": True, "alertId": "al-1", "status": "RESOLVED"},
        check=lambda r: isinstance(r, AlertActionResult) and r.alert_id == "al-1",
    ),
    Case(
        id="investigations.list",
        call=lambda api: api.investigations.list(
            entity_id="ent-1", status="OPEN", investigation_priority="HIGH"
        ),
        method="GET",
        path="/intelligence/investigations",
        query={"entityId": "ent-1", "status": "OPEN", "priority": "HIGH"},
        response={"success": True, "investigations": [{"id": "inv-1", "alertCount": 2}]},
        check=lambda r: [(i.id, i.alert_count) for i in r] == [("inv-1", 2)],
    ),
    Case(
        id="investigations.alerts",
        call=lambda api: api.investigations.alerts("inv-1", sort_by="severity"),
        method="GET",
        path="/intelligence/investigations/inv-1/alerts",
        query={"sortBy": "severity"},
        response={
            "investigation": {"id": "inv-1", "name": "Case 1"},
            "alerts": [ALERT],
            "summary": {"totalAlerts": 1},
        },
        check=lambda r: (
            isinstance(r, InvestigationAlerts)
            and r.alerts is not None
            and r.alerts[0].id == "al-1"
            and r.summary == {"totalAlerts": 1}
        ),
    ),
    Case(
        id="investigations.assign",
        call=lambda api: api.investigations.assign(
            "inv-1", assigned_to="user-7", assigned_to_type="user", investigation_priority="LOW"
        ),
        method="PUT",
        path="/intelligence/investigations/inv-1/assign",
        json={"assignedTo": "user-7", "assignedToType": "user", "priority": "LOW"},
        response={"assignmentId": "as-1", "assignedTo": "user-7", "assignedToType": "user"},
        check=lambda r: isinstance(r, InvestigationAssignment) and r.assignment_id == "as-1",
    ),
    Case(
        id="investigations.update_status",
        call=lambda api: api.investigations.update_status(
            "inv-1", status="CLOSED", closure_reason="resolved with customer"
        ),
        method="PATCH",
        path="/intelligence/investigations/inv-1/status",
        json={"status": "CLOSED", "closureReason": "resolved with customer"},
        response={"success": True, "investigationId": "inv-1", "status": "CLOSED"},
        check=lambda r: isinstance(r, InvestigationStatusResult) and r.status == "CLOSED",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_rules_and_intelligence(case: Case, api: Api, mock_api: aioresponses) -> None:
    await run_case(case, api, mock_api)
