"""Errors a user can act on.

Every service raises a subclass of :class:`StatusFlowError` with a sentence that says
what is wrong and what to do. The CLI and the designer show that sentence as it is;
anything else is a bug and is logged with its traceback.
"""

from __future__ import annotations


class StatusFlowError(Exception):
    """A problem the user can fix; ``str(error)`` is the message to show."""


class DatabaseError(StatusFlowError):
    """The database cannot be reached, or its schema does not fit this program."""


class SecretStoreError(StatusFlowError):
    """The OS keyring is missing or refused a request."""


class ConfigError(StatusFlowError):
    """The configuration file or a setting is not usable."""


class SourceError(StatusFlowError):
    """A record source (business table) cannot be registered or used."""


class GraphFormatError(StatusFlowError):
    """A graph document cannot be read at all (not JSON, not an object, too new)."""
