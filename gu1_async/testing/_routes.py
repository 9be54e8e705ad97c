"""Routes of the areas beyond entities, and 501s for documented paths the fake skips."""

from __future__ import annotations

from aiohttp import web

from ._bulk import add_bulk_routes
from ._common import ApiError
from ._entities import add_entity_routes
from ._events import add_event_routes
from ._kyc import add_kyc_routes
from ._state import FakeState
from ._transactions import add_transaction_routes

__all__ = ["NOT_IMPLEMENTED", "add_area_routes"]

# Documented gu1 paths (gu1-api.md §2) outside the flows the fake serves.
NOT_IMPLEMENTED: tuple[tuple[str, str], ...] = (
    ("POST", "/entities/{entityId}/analyze"),
    ("POST", "/entities/{entityId}/refresh"),
    ("POST", "/entities/{entityId}/enrich"),
    ("GET", "/events/user/stats"),
    ("POST", "/batch-import/import/transactions"),
    ("POST", "/transactions/batch/background-multi"),
    ("POST", "/transactions/batch/upload"),
    ("GET", "/rules"),
    ("GET", "/rules/{id}"),
    ("PATCH", "/rules/{id}"),
    ("POST", "/rules/{id}/execute"),
    ("GET", "/risk-matrices"),
    ("POST", "/risk-matrices"),
    ("PUT", "/risk-matrices/{id}"),
    ("GET", "/intelligence/alerts"),
    ("POST", "/intelligence/alerts/{id}/acknowledge"),
    ("POST", "/intelligence/alerts/{id}/resolve"),
    ("GET", "/intelligence/investigations"),
    ("GET", "/intelligence/investigations/{id}/alerts"),
    ("PUT", "/intelligence/investigations/{id}/assign"),
    ("PATCH", "/intelligence/investigations/{id}/status"),
    ("POST", "/integration-execution/marketplace/enrichment"),
    ("POST", "/integration-execution/marketplace/enrichment-by-external-id"),
    ("POST", "/integration-execution/execute-without-entity"),
    ("GET", "/integration-execution/headless-executions"),
    ("GET", "/integration-execution/headless-executions/{id}"),
    ("POST", "/data-lists"),
    ("POST", "/data-lists/bulk-check"),
    ("POST", "/data-lists/{id}/items"),
    ("POST", "/data-lists/{id}/items/bulk"),
    ("POST", "/data-lists/{id}/items/find"),
    ("GET", "/data-lists/{id}/items"),
    ("POST", "/data-lists/{type}/check"),
    ("PATCH", "/data-lists/{id}"),
    ("PATCH", "/data-lists/{id}/status"),
    ("DELETE", "/data-lists/{id}"),
    ("POST", "/custom-schemas"),
    ("GET", "/custom-schemas"),
    ("GET", "/custom-schemas/{id}"),
    ("POST", "/custom-schemas/mappings"),
)


async def not_implemented(request: web.Request) -> web.Response:
    """A documented endpoint the fake does not model."""
    raise ApiError(
        501,
        "NOT_IMPLEMENTED_IN_FAKE",
        f"{request.method} {request.path} is a documented gu1 endpoint the fake does not serve",
    )


def add_area_routes(router: web.UrlDispatcher, state: FakeState) -> None:
    """Register every area's routes, then the 501 stand-ins."""
    add_entity_routes(router)
    add_bulk_routes(router, state)
    add_transaction_routes(router, state)
    add_event_routes(router, state)
    add_kyc_routes(router, state)
    for method, path in NOT_IMPLEMENTED:
        router.add_route(method, path, not_implemented)
