"""Carries routing decisions out over ARI: one task per call, never blocking the ARI event stream."""

from core.calls.manager import CallManager, LiveCall

__all__ = ["CallManager", "LiveCall"]
