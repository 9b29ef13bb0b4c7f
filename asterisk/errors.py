"""Errors raised by the asterisk package."""

#: The way out when the PBX cannot provide its own Asterisk; appended to installer errors.
FALLBACK_HINT = (
    "install Asterisk >= 20 yourself and put it on PATH, or point the PBX at an existing Asterisk with "
    "PBX_ASTERISK__MODE=external and PBX_ASTERISK__ARI_URL, PBX_ASTERISK__ARI_USER, "
    "PBX_ASTERISK__ARI_PASSWORD"
)


class AsteriskError(Exception):
    """A problem with installing or running Asterisk.

    str() is a single line meant for the user: what went wrong and how to fix it.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))
