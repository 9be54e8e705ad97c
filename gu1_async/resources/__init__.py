"""The API areas of gu1, one class per area, the endpoint registry and the keyword specs.

`ENDPOINTS` lists every endpoint the SDK calls (method, path, registry operation,
documented permissions, gu1-api.md number); `permissions_for(operation)` reads it.
The `*Params` TypedDicts are the keyword signatures of the methods that take many
keywords (`client.entities.create(**params: Unpack[EntityCreateParams])`): build a call's
keywords as one typed dict and pass it with `**`.
"""

from __future__ import annotations

from gu1_async._serde import CLEAR, ClearType
from gu1_async.resources import (
    _entity_params,
    _import_params,
    _intelligence_params,
    _transaction_params,
)
from gu1_async.resources._base import (
    ENDPOINTS,
    Endpoint,
    Resource,
    endpoint,
    get_endpoint,
    permissions_for,
)
from gu1_async.resources._entity_params import *  # noqa: F403
from gu1_async.resources._import_params import *  # noqa: F403
from gu1_async.resources._intelligence_params import *  # noqa: F403
from gu1_async.resources._transaction_params import *  # noqa: F403
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
# The keyword specs: each module's own list (see resources/_params.py).
__all__ += _entity_params.__all__
__all__ += _import_params.__all__
__all__ += _intelligence_params.__all__
__all__ += _transaction_params.__all__
