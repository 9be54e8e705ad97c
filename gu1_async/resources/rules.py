"""`client.rules`: the rules engine's rules (gu1-api.md §2.7)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from gu1_async._serde import compact, query, unwrap
from gu1_async.models import Rule, RuleCategory, RuleExecutionResult, RuleStatus
from gu1_async.pagination import AsyncPaginator
from gu1_async.resources._base import Resource, endpoint
from gu1_async.resources._params import Body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gu1_async._types import PageOptions, RequestOptions

__all__ = ["Rules"]


class Rules(Resource):
    """List, read, update and test rules (gu1 documents no create or delete)."""

    @endpoint("GET", "/rules", operation="rules.list", doc=57, paginated="page+pageSize")
    def list(
        self,
        *,
        status: RuleStatus | None = None,
        category: RuleCategory | None = None,
        enabled: bool | None = None,
        target_entity_type: Literal["person", "company", "transaction"] | str | None = None,
        risk_matrix_id: str | None = None,
        tags: Sequence[str] | None = None,
        search: str | None = None,
        sort_by: Literal["name", "priority", "createdAt", "updatedAt", "score"] | str | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        extra_params: Body | None = None,
        **options: Unpack[PageOptions],
    ) -> AsyncPaginator[Rule]:
        """Iterate rules matching the filters (page size up to 100, the default here)."""
        params = query(
            {
                "status": status,
                "category": category,
                "enabled": enabled,
                "targetEntityType": target_entity_type,
                "riskMatrixId": risk_matrix_id,
                "tags": tags,
                "search": search,
                "sortBy": sort_by,
                "sortOrder": sort_order,
            },
            extra_params,
        )
        return self._paginate(
            "rules.list",
            Rule,
            "rules",
            params=params,
            max_page_size=100,
            **options,
        )

    @endpoint("GET", "/rules/{rule_id}", operation="rules.get", doc=58)
    async def get(self, rule_id: str, **options: Unpack[RequestOptions]) -> Rule:
        """Fetch one rule."""
        data = await self._request("rules.get", {"rule_id": rule_id}, **options)
        return Rule.from_api(unwrap(data, "rule", "data"))

    @endpoint("PATCH", "/rules/{rule_id}", operation="rules.update", doc=59)
    async def update(
        self,
        rule_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        category: RuleCategory | None = None,
        status: RuleStatus | None = None,
        enabled: bool | None = None,
        rule_priority: int | None = None,
        score: float | None = None,
        conditions: Body | None = None,
        actions: Sequence[Body] | None = None,
        scope: Body | None = None,
        target_entity_types: Sequence[str] | None = None,
        evaluation_mode: Literal["sync", "async"] | str | None = None,
        risk_matrix_id: str | None = None,
        tags: Sequence[str] | None = None,
        extra_body: Body | None = None,
        **options: Unpack[RequestOptions],
    ) -> Rule:
        """Update a rule (gu1 bumps its version); returns the new version.

        `rule_priority` is gu1's `priority` field (1-100), renamed because `priority=`
        is the request option that orders calls in the rate-limit governor.
        """
        body = compact(
            {
                "name": name,
                "description": description,
                "category": category,
                "status": status,
                "enabled": enabled,
                "priority": rule_priority,
                "score": score,
                "conditions": conditions,
                "actions": actions,
                "scope": scope,
                "targetEntityTypes": target_entity_types,
                "evaluationMode": evaluation_mode,
                "riskMatrixId": risk_matrix_id,
                "tags": tags,
            },
            extra_body,
        )
        data = await self._request("rules.update", {"rule_id": rule_id}, json=body, **options)
        return Rule.from_api(unwrap(data, "rule", "data"))

    @endpoint("POST", "/rules/{rule_id}/execute", operation="rules.execute", doc=60)
    async def execute(
        self,
        rule_id: str,
        *,
        entity_id: str,
        test_mode: bool | None = None,
        include_debug: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> RuleExecutionResult:
        """Test a rule on an entity (`test_mode=True`: no alerts, no changes)."""
        body = compact(
            {"entityId": entity_id, "testMode": test_mode, "includeDebug": include_debug}
        )
        data = await self._request("rules.execute", {"rule_id": rule_id}, json=body, **options)
        return RuleExecutionResult.from_api(data)
