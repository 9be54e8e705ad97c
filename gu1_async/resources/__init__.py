"""The API areas of gu1, one class per area, and the endpoint registry.

`ENDPOINTS` lists every endpoint the SDK calls (method, path, registry operation,
documented permissions, gu1-api.md number); `permissions_for(operation)` reads it.
"""

from __future__ import annotations

from gu1_async._serde import CLEAR, ClearType
from gu1_async.resources._base import (
    ENDPOINTS,
    Endpoint,
    Resource,
    endpoint,
    get_endpoint,
    permissions_for,
)
from gu1_async.resources.alerts import Alerts
from gu1_async.resources.bulk_imports import BulkImports
from gu1_async.resources.custom_schemas import CustomSchemas
from gu1_async.resources.data_lists import DataLists
from gu1_async.resources.devices import Devices
from gu1_async.resources.enrichment import Enrichment
from gu1_async.resources.entities import Entities
from gu1_async.resources.events import Events
from gu1_async.resources.investigations import Investigations
from gu1_async.resources.kyc import Kyc
from gu1_async.resources.risk_matrices import RiskMatrices
from gu1_async.resources.rules import Rules
from gu1_async.resources.transactions import Transactions

RESOURCES: dict[str, type[Resource]] = {
    "entities": Entities,
    "bulk_imports": BulkImports,
    "transactions": Transactions,
    "events": Events,
    "devices": Devices,
    "kyc": Kyc,
    "rules": Rules,
    "risk_matrices": RiskMatrices,
    "alerts": Alerts,
    "investigations": Investigations,
    "enrichment": Enrichment,
    "data_lists": DataLists,
    "custom_schemas": CustomSchemas,
}
"""Client attribute name -> resource class, in the order the docs list them."""

__all__ = [
    "CLEAR",
    "ENDPOINTS",
    "RESOURCES",
    "Alerts",
    "BulkImports",
    "ClearType",
    "CustomSchemas",
    "DataLists",
    "Devices",
    "Endpoint",
    "Enrichment",
    "Entities",
    "Events",
    "Investigations",
    "Kyc",
    "Resource",
    "RiskMatrices",
    "Rules",
    "Transactions",
    "endpoint",
    "get_endpoint",
    "permissions_for",
]
