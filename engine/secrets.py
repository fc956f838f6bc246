"""Secrets (database, SMTP and gateway passwords) kept in the OS keyring.

Configuration files hold only the *name* of a secret. The engine reads SMTP and
gateway passwords through :class:`SecretStore` at send time, the CLI stores them with
``statusflow secret set NAME``, and a machine with no keyring backend gets a message
that says what to install instead of a traceback.
"""

from __future__ import annotations

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import fail

from engine.errors import SecretStoreError

SERVICE = "statusflow"

NO_BACKEND = (
    "No keyring backend is available to keep passwords safely. On a desktop, start "
    "your login keyring (GNOME Keyring, KWallet, macOS Keychain or Windows Credential "
    "Manager). On a server without one, install 'keyrings.alt' (pip install keyrings.alt) "
    "and set PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring, or choose "
    "another backend as the keyring documentation describes."
)


class SecretStore:
    """Named secrets under the 'statusflow' service of a keyring backend."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def available(self) -> bool:
        """False when keyring found no usable backend (the 'fail' backend)."""
        return not isinstance(self.backend, fail.Keyring)

    def _require(self) -> KeyringBackend:
        if not self.available():
            raise SecretStoreError(NO_BACKEND)
        return self.backend

    def get(self, name: str) -> str | None:
        """The secret, or None when none is stored under ``name``."""
        try:
            return self._require().get_password(SERVICE, name)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"The keyring refused to read '{name}': {exc}") from None

    def require(self, name: str) -> str:
        """The secret, or a clear error saying how to store it."""
        value = self.get(name)
        if value is None:
            raise SecretStoreError(
                f"No secret named '{name}' is stored. Store it with "
                f"'statusflow secret set {name}' (or in Settings → Secrets)."
            )
        return value

    def set(self, name: str, value: str) -> None:
        if not name.strip():
            raise SecretStoreError("A secret needs a name, for example 'smtp/default'.")
        if not value:
            raise SecretStoreError(f"The secret for '{name}' is empty; nothing was stored.")
        try:
            self._require().set_password(SERVICE, name, value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"The keyring refused to store '{name}': {exc}") from None

    def delete(self, name: str) -> bool:
        """Remove a secret; False when there was none."""
        try:
            self._require().delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            return False
        return True
