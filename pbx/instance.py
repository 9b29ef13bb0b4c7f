"""The local Asterisk instance as the settings describe it (used by the CLI and the lab PBX)."""

from __future__ import annotations

from pathlib import Path

from asterisk.installer import AsteriskDist
from asterisk.instance import AsteriskInstance
from core.config import Settings


def asterisk_instance(dist: AsteriskDist, state_dir: Path, settings: Settings) -> AsteriskInstance:
    """An Asterisk instance in `state_dir` listening where `settings.asterisk` says."""
    a = settings.asterisk
    return AsteriskInstance(
        dist,
        state_dir,
        bind=a.bind,
        sip_port=a.sip_port,
        http_port=a.http_port,
        rtp_start=a.rtp_start,
        rtp_end=a.rtp_end,
        ari_user=a.ari_user,
        ari_password=a.ari_password,
        app=a.app,
    )
