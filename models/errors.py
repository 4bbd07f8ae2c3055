"""Domain errors: each carries a message a clerk can act on (in Chinese)."""


class SrdiError(Exception):
    """Base of every refusal srdi explains to its user; the CLI prints it as one line."""


class NotFound(SrdiError):
    pass


class Forbidden(SrdiError):
    """The actor may not do this (role, jurisdiction, or someone else's application)."""


class Conflict(SrdiError):
    """The state changed under the caller (another reviewer decided first)."""


class RuleViolation(SrdiError):
    """The request breaks a programme rule (closed level, past the window, missing reason…)."""


class IllegalMove(Conflict):
    """A status change the workflow table (models/workflow.py) does not allow from the rows' current status,
    or rows that changed under the caller; nothing was written."""
