"""Asterisk for the PBX: install it (or find the system's), configure and run private instances."""

from .errors import AsteriskError
from .installer import AsteriskDist, find_system_asterisk, install, load
from .instance import AsteriskInstance

__all__ = ["AsteriskDist", "AsteriskError", "AsteriskInstance", "find_system_asterisk", "install", "load"]
