"""A stock FastAPI + slowapi app answering a gu1-like `GET /entities`, keyed per Authorization.

`bench_dialects.py` (through `_thirdparty.py`) runs it under uvicorn, one process per
server, as `uvicorn --factory _slowapi_app:create_app`, configured by environment variables:

- `BENCH_SLOWAPI_LIMIT`: a `limits` string, e.g. `40/2 seconds`;
- `BENCH_SLOWAPI_STRATEGY`: `fixed-window` or `moving-window` (slowapi's `strategy=`);
- `BENCH_SLOWAPI_HEADERS`: `1` for `headers_enabled=True` (X-RateLimit-*, Retry-After),
  `0` for bare 429s.

Nothing here changes how slowapi limits: the limiter, its in-memory storage and its 429
handler are the library's own. The app only counts, per key, when it admitted a request
(the endpoint ran) and when it refused one (slowapi raised `RateLimitExceeded`), and
shows those times at `GET /stats` (not rate-limited), so that the figures come from the
server's side.
"""

from __future__ import annotations

import os
import time
from typing import Any

from _thirdparty import ENTITIES_BODY  # uvicorn's --app-dir puts benchmarks/ on sys.path
from fastapi import FastAPI, Request, Response
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded

__all__ = ["create_app"]


def authorization(request: Request) -> str:
    """slowapi's key: the whole Authorization header (one budget per API key)."""
    return request.headers.get("authorization", "")


class ServerLog:
    """Per key, the wall-clock times of admitted and refused requests."""

    def __init__(self) -> None:
        self.admitted: dict[str, list[float]] = {}
        self.refused: dict[str, list[float]] = {}

    def admit(self, key: str) -> None:
        self.admitted.setdefault(key, []).append(time.time())

    def refuse(self, key: str) -> None:
        self.refused.setdefault(key, []).append(time.time())

    def of(self, key: str) -> dict[str, list[float]]:
        return {"admitted": self.admitted.get(key, []), "refused": self.refused.get(key, [])}


def create_app() -> FastAPI:
    """The app, configured from the `BENCH_SLOWAPI_*` variables."""
    limit = os.environ.get("BENCH_SLOWAPI_LIMIT", "40/2 seconds")
    strategy = os.environ.get("BENCH_SLOWAPI_STRATEGY", "fixed-window")
    headers = os.environ.get("BENCH_SLOWAPI_HEADERS", "1") == "1"

    limiter = Limiter(key_func=authorization, strategy=strategy, headers_enabled=headers)
    log = ServerLog()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.limiter = limiter

    async def refused(request: Request, exc: Exception) -> Response:
        log.refuse(authorization(request))
        assert isinstance(exc, RateLimitExceeded)
        return _rate_limit_exceeded_handler(request, exc)

    app.add_exception_handler(RateLimitExceeded, refused)

    @app.get("/entities")
    @limiter.limit(limit)
    async def list_entities(request: Request, response: Response) -> dict[str, Any]:
        # `response` is where slowapi writes its headers when they are enabled.
        log.admit(authorization(request))
        return ENTITIES_BODY

    @app.get("/stats")
    async def stats(key: str) -> dict[str, list[float]]:
        return log.of(key)

    return app
