"""An in-memory keyring backend for tests, installed the way a real one would be."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Keeps secrets in a dict; ``PYTHON_KEYRING_BACKEND`` can name it for subprocesses."""

    priority = 1  # type: ignore[assignment]
    _store: dict[tuple[str, str], str] = {}  # noqa: RUF012 - shared across instances on purpose

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
