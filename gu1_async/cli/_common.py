"""What every subcommand that talks to gu1 shares: options, the key, the client, errors.

The API key comes from `GU1_API_KEY` or a `.env` file in the working directory — never
from a command-line option. An argument is visible to every user of the machine in the
process list (`ps`), is saved in shell history files and CI logs, and is easily pasted into
a bug report; an environment variable or a `.env` file kept out of version control is none
of those.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import (
    ApiKey,
    EnvironmentMismatchError,
    Gu1Client,
    Gu1Error,
    MissingApiKeyError,
    Plan,
    RetryPolicy,
)

__all__ = [
    "API_KEY_ENV_VAR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "KeySource",
    "async_command",
    "closing_store",
    "gu1_options",
    "load_key",
    "make_client",
    "redis_store",
    "resolve_plan",
    "route_signals",
]

F = TypeVar("F", bound=Callable[..., Any])

API_KEY_ENV_VAR = "GU1_API_KEY"

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by SIGINT"
PLAN_NAMES = ("free", "starter", "professional")


def gu1_options(fn: F) -> F:
    """Add `--base-url` (GU1_BASE_URL), `--plan` (GU1_PLAN), `--allow-environment-mismatch`
    and the hidden `--time-scale`."""
    fn = click.option(
        "--allow-environment-mismatch",
        envvar="GU1_ALLOW_ENVIRONMENT_MISMATCH",
        is_flag=True,
        default=False,
        help="Let a production key talk to a loopback or sandbox-named host (or the reverse).",
    )(fn)
    fn = click.option(
        "--time-scale",
        envvar="GU1_TIME_SCALE",
        type=click.FloatRange(min=0, min_open=True),
        hidden=True,
        help="Divide the plan's periods by this (for a fake server running on scaled time).",
    )(fn)
    fn = click.option(
        "--plan",
        envvar="GU1_PLAN",
        type=click.Choice(PLAN_NAMES, case_sensitive=False),
        default="free",
        show_envvar=True,
        help="The key's plan: seeds the rate-limit governor (response headers correct it).",
    )(fn)
    fn = click.option(
        "--base-url",
        envvar="GU1_BASE_URL",
        show_envvar=True,
        help="API root (default https://api.gu1.ai).",
    )(fn)
    return fn


class KeySource:
    """Where the key was found: the environment or the .env file (for `key check`)."""

    ENVIRONMENT = "environment variable GU1_API_KEY"
    DOTENV = ".env file"


def load_key() -> tuple[ApiKey, str]:
    """The API key and where it came from (the environment wins over `.env`).

    Raises:
        click.ClickException: no key anywhere, or a malformed one (never echoing it).
    """
    source = KeySource.ENVIRONMENT
    if not os.environ.get(API_KEY_ENV_VAR):
        source = KeySource.DOTENV
        _load_dotenv()
    try:
        return ApiKey.from_env(), source
    except MissingApiKeyError:
        # The library's advice is for code (Gu1Client(api_key=...)); a CLI user sets a variable.
        raise click.ClickException(
            f"MissingApiKeyError: no gu1 API key. Set {API_KEY_ENV_VAR} in the environment "
            f"(export {API_KEY_ENV_VAR}=gk_...) or in a .env file in this directory "
            f"({API_KEY_ENV_VAR}=gk_...); keys are created at app.gu1.ai, Settings -> API "
            "Keys. The key is never taken from an argument (shell history, process lists)."
        ) from None
    except Gu1Error as exc:
        raise click.ClickException(
            f"{type(exc).__name__}: {exc} (the key in the {source})\n"
            f"Fix {API_KEY_ENV_VAR} in the environment or in the .env file here; the key is "
            "never taken from an argument (shell history, process lists)."
        ) from None


def _load_dotenv() -> None:
    from dotenv import load_dotenv

    dotenv = Path.cwd() / ".env"
    if dotenv.is_file():
        load_dotenv(dotenv, override=False)


def resolve_plan(plan: str, time_scale: float | None) -> Plan:
    base = Plan.from_name(plan)
    return base.scaled(time_scale) if time_scale else base


def make_client(
    base_url: str | None,
    plan: str,
    time_scale: float | None,
    *,
    retry: RetryPolicy | None = None,
    max_connections: int = 100,
    allow_environment_mismatch: bool = False,
    store: Any = None,
) -> Gu1Client:
    """A client for the key in the environment (or `.env`), on `store` if given.

    Raises:
        click.ClickException: no usable key, or a bad base URL.
    """
    key, _ = load_key()
    try:
        return Gu1Client(
            key,
            base_url=base_url,
            plan=resolve_plan(plan, time_scale),
            retry=retry,
            max_connections=max_connections,
            allow_environment_mismatch=allow_environment_mismatch,
            store=store,
        )
    except EnvironmentMismatchError as exc:
        message = exc.message.replace(
            "pass allow_environment_mismatch=True", "pass --allow-environment-mismatch"
        )
        raise click.ClickException(f"{type(exc).__name__}: {message}") from None
    except Gu1Error as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


@contextlib.contextmanager
def route_signals(handler: Callable[[], None]) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `handler` while the run lasts (where the loop can)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            continue
        installed.append(sig)
    try:
        yield
    finally:
        # Not restored to the default: a Ctrl-C during the last writes must not raise
        # KeyboardInterrupt halfway through them. asyncio.run removes it at the end.
        for sig in installed:
            loop.add_signal_handler(sig, handler)


def async_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Let a click command be written as a coroutine function."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def redis_store(url: str | None, lease: float | None = None) -> Any:
    """A `RedisStore` on `url` (`--redis`), or None; `lease` None keeps the store's."""
    if url is None:
        return None
    from ..governor.redis import RedisStore

    try:
        return RedisStore.from_url(url) if lease is None else RedisStore.from_url(url, lease=lease)
    except Gu1Error as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


@contextlib.asynccontextmanager
async def closing_store(store: Any) -> AsyncIterator[None]:
    """Close `store` (if any) when the block ends."""
    try:
        yield
    finally:
        if store is not None:
            await store.aclose()  # after the client: hands back what is in flight first
