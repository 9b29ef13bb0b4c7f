"""What every command of the CLI shares: its settings, its output, and rows as the API returns them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar
from urllib.parse import quote

from rich.console import Console

from core.config import Settings, ensure_secrets, load_settings

T = TypeVar("T")
out = Console(width=None if sys.stdout.isatty() else 200)  # piped: do not squeeze tables to 80


def settings() -> Settings:
    """Settings with secrets generated on first use."""
    return ensure_secrets(load_settings())


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


def as_dict(row: Any) -> dict[str, Any]:
    """One row as the API returns it, whether it came from the API or from a local service."""
    return row if isinstance(row, dict) else asdict(row)


def dicts(rows: Any) -> list[dict[str, Any]]:
    """Rows as the API returns them (dicts), whether they came from the API or from a local service."""
    return [as_dict(row) for row in rows]


def moment(value: Any) -> str:
    """A time as the tables show it, to the second: `2025-01-31 09:00:00` ("" for none)."""
    return str(value or "")[:19].replace("T", " ")


def seg(text: str) -> str:
    """A path segment for the API: IVR keys * and # and the + of remote agents survive the URL."""
    return quote(text, safe="")
