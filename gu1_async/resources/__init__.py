"""The API areas of gu1, one class per area, and the endpoint registry."""

from __future__ import annotations

from gu1_async.resources._base import ENDPOINTS, Endpoint, Resource, endpoint, permissions_for
from gu1_async.resources.entities import Entities

__all__ = ["ENDPOINTS", "Endpoint", "Entities", "Resource", "endpoint", "permissions_for"]
