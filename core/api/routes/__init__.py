"""The API's routes, one APIRouter a feature; core/api/app.py includes them all. Each route gets what it
works with through core/api/deps.py (`svc: Svc`, `daemon: Daemon`, `who: Who`), never from a global.

No module here has `from __future__ import annotations`: FastAPI must see the real types of the routes."""

from dataclasses import asdict
from typing import Any

from core.errors import NotFound


def named(views: list[Any], name: str, what: str) -> dict[str, Any]:
    """The view called `name` (names are lower case) as JSON, or NotFound."""
    wanted = name.strip().lower()
    for view in views:
        if view.name == wanted:
            return asdict(view)
    raise NotFound(f"{what} {wanted} does not exist")
