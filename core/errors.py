"""Domain errors. Each message is shown to the user as is, so it says what to do."""


class DomainError(Exception):
    """Base of errors a user can act on."""


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule."""


class NotFound(DomainError):
    """The thing named does not exist."""


class Conflict(DomainError):
    """The thing already exists or is in use."""


class PermissionDenied(DomainError):
    """The actor may not do this."""
