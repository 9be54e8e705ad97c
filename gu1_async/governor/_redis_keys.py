"""How a `RedisStore` names its keys in Redis (the store and `snapshot_redis` share this)."""

from __future__ import annotations

__all__ = ["KEY_PREFIX"]

KEY_PREFIX = "gu1:gov:"
"""Every key the store writes starts with this, then the namespace (in a {hash tag})."""
