"""The ARI adapter: the only place that speaks to Asterisk (and the only importer of asyncari)."""

from core.ari.client import AriClient, AriError, ChannelGone
from core.ari.supervisor import AriSupervisor

__all__ = ["AriClient", "AriError", "AriSupervisor", "ChannelGone"]
