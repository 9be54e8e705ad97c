"""Typed models for what gu1 returns; build them with `Model.from_api(data)`.

Each area's module lists its public names once, in its `__all__`; this package re-exports
exactly those (the star imports and `__all__ +=` below are the forms mypy and the docs
generator both follow), so a new model is exported by adding it to its module's list.
"""

from __future__ import annotations

from gu1_async.models import (
    bulk_imports,
    custom_schemas,
    data_lists,
    enrichment,
    entities,
    events,
    intelligence,
    kyc,
    rules,
    transactions,
)
from gu1_async.models._base import ApiResult, Gu1Model, RulesExecutionSummary
from gu1_async.models.bulk_imports import *  # noqa: F403
from gu1_async.models.custom_schemas import *  # noqa: F403
from gu1_async.models.data_lists import *  # noqa: F403
from gu1_async.models.enrichment import *  # noqa: F403
from gu1_async.models.entities import *  # noqa: F403
from gu1_async.models.events import *  # noqa: F403
from gu1_async.models.intelligence import *  # noqa: F403
from gu1_async.models.kyc import *  # noqa: F403
from gu1_async.models.rules import *  # noqa: F403
from gu1_async.models.transactions import *  # noqa: F403

__all__ = ["ApiResult", "Gu1Model", "RulesExecutionSummary"]
__all__ += bulk_imports.__all__
__all__ += custom_schemas.__all__
__all__ += data_lists.__all__
__all__ += enrichment.__all__
__all__ += entities.__all__
__all__ += events.__all__
__all__ += intelligence.__all__
__all__ += kyc.__all__
__all__ += rules.__all__
__all__ += transactions.__all__
