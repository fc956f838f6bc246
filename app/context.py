"""What every command needs: the chosen database, opened and schema-checked once."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import tzinfo

from app.config import DatabaseChoice, choose_database, with_keyring_password
from engine.secrets import SecretStore
from engine.settings import organisation_zone
from engine.storage import schema
from engine.storage.database import Database


@dataclass
class Context:
    """Per-invocation state: the database choice, the secrets, and who is acting."""

    choice: DatabaseChoice
    secrets: SecretStore = field(default_factory=SecretStore)
    actor: str = field(default_factory=getpass.getuser)
    _db: Database | None = None
    _zone: tzinfo | None = None

    @classmethod
    def from_cli(cls, url: str | None) -> Context:
        return cls(choose_database(url))

    def database(self, *, check_schema: bool = True) -> Database:
        """Open the database once; the embedded default upgrades itself, others must match."""
        if self._db is None:
            db = Database(with_keyring_password(self.choice.url, self.secrets))
            db.check_reachable()
            if check_schema:
                if self.choice.embedded:
                    schema.upgrade(db)
                else:
                    schema.check(db)
            self._db = db
        return self._db

    def zone(self) -> tzinfo:
        """The organisation's time zone, in which commands read and print times."""
        if self._zone is None:
            with self.database().read() as conn:
                self._zone = organisation_zone(conn)
        return self._zone

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None
