"""The one error every action raises, telling the runtime whether a retry may help.

The runtime's retry policy reads ``retryable``; the failure report groups by the
stable ``error_class``; people read ``str(error)``.
"""

from __future__ import annotations

from engine.errors import SecretStoreError, StatusFlowError
from engine.secrets import SecretStore

ERROR_CLASSES = (
    "smtp_connect",
    "smtp_auth",
    "smtp_refused",
    "smtp_timeout",
    "http_connect",
    "http_timeout",
    "http_5xx",
    "http_429",
    "http_4xx",
    "config",
    "secret_missing",
    "template",  # raised by the runtime when a template cannot be rendered
)


class ActionError(StatusFlowError):
    """An email, SMS or webhook that could not be delivered; ``str()`` is the sentence."""

    def __init__(
        self,
        message: str,
        *,
        error_class: str,
        retryable: bool,
        detail: str = "",
        status: int | None = None,
    ) -> None:
        if error_class not in ERROR_CLASSES:
            raise ValueError(f"unknown action error class {error_class!r}")
        super().__init__(message)
        self.error_class = error_class
        self.retryable = retryable
        self.detail = detail
        self.status = status  # the HTTP status, when a server answered

    def __repr__(self) -> str:
        return f"ActionError({self.error_class}, retryable={self.retryable}: {self})"


def config_error(message: str) -> ActionError:
    """A setting or an input that no retry can fix."""
    return ActionError(message, error_class="config", retryable=False)


def read_secret(secrets: SecretStore, name: str) -> str:
    """A password or token from the keyring; a missing one is not worth retrying."""
    try:
        return secrets.require(name)
    except SecretStoreError as exc:
        raise ActionError(str(exc), error_class="secret_missing", retryable=False) from None
