"""REST + websocket API (FastAPI, served by uvicorn inside the daemon's loop). Thin: services do the work.

core/api/app.py builds the app; core/api/routes/ has a router a feature, core/api/schemas.py the request
bodies, core/api/deps.py what the routes are given."""

from core.api.app import create_app
from core.api.deps import DaemonView
from core.api.limits import MAX_PROMPT_BYTES

__all__ = ["MAX_PROMPT_BYTES", "DaemonView", "create_app"]
