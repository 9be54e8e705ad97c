"""The API areas of gu1, one class per area, the endpoint registry and the keyword specs.

`ENDPOINTS` lists every endpoint the SDK calls (method, path, registry operation,
documented permissions, gu1-api.md number); `permissions_for(operation)` reads it.
The `*Params` TypedDicts are the keyword signatures of the methods that take many
keywords (`client.entities.create(**params: Unpack[EntityCreateParams])`): build a call's
keywords as one typed dict and pass it with `**`.
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
from gu1_async.resources._entity_params import (
    AttributesUpdateParams,
    EntityAnalyzeParams,
    EntityAutomaticParams,
    EntityCreateParams,
    EntityListParams,
    EntityRefreshParams,
    EntityUpdateParams,
    EntityUpsertParams,
    ExternalIdChangeParams,
)
from gu1_async.resources._import_params import (
    EntityCsvImportParams,
    EntityImportParams,
    MappingCreateParams,
    MappingUpdateParams,
    UserEventCsvImportParams,
)
from gu1_async.resources._intelligence_params import (
    EnrichByExternalIdParams,
    EnrichParams,
    RiskMatrixCreateParams,
    RiskMatrixUpdateParams,
)
from gu1_async.resources._transaction_params import (
    BatchSourcesParams,
    TransactionBatchParams,
    TransactionCreateParams,
    TransactionFileParams,
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
    "AttributesUpdateParams",
    "BatchSourcesParams",
    "BulkImports",
    "ClearType",
    "CustomSchemas",
    "DataLists",
    "Devices",
    "Endpoint",
    "EnrichByExternalIdParams",
    "EnrichParams",
    "Enrichment",
    "Entities",
    "EntityAnalyzeParams",
    "EntityAutomaticParams",
    "EntityCreateParams",
    "EntityCsvImportParams",
    "EntityImportParams",
    "EntityListParams",
    "EntityRefreshParams",
    "EntityUpdateParams",
    "EntityUpsertParams",
    "Events",
    "ExternalIdChangeParams",
    "Investigations",
    "Kyc",
    "MappingCreateParams",
    "MappingUpdateParams",
    "Resource",
    "RiskMatrices",
    "RiskMatrixCreateParams",
    "RiskMatrixUpdateParams",
    "Rules",
    "TransactionBatchParams",
    "TransactionCreateParams",
    "TransactionFileParams",
    "Transactions",
    "UserEventCsvImportParams",
    "endpoint",
    "get_endpoint",
    "permissions_for",
]
