"""The API areas of gu1, one class per area, and the endpoint registry."""

from __future__ import annotations

from gu1_async.resources._base import (
    ENDPOINTS,
    Endpoint,
    Resource,
    endpoint,
    get_endpoint,
    permissions_for,
)
from gu1_async.resources.bulk_imports import BulkImports
from gu1_async.resources.devices import Devices
from gu1_async.resources.entities import Entities
from gu1_async.resources.events import Events
from gu1_async.resources.kyc import Kyc
from gu1_async.resources.transactions import Transactions

__all__ = [
    "ENDPOINTS",
    "BulkImports",
    "Devices",
    "Endpoint",
    "Entities",
    "Events",
    "Kyc",
    "Resource",
    "Transactions",
    "endpoint",
    "get_endpoint",
    "permissions_for",
]
