"""What every command needs: the chosen database, opened and schema-checked once, and
the person acting, signed in the first time a command asks who that is."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field
from datetime import tzinfo

from sqlalchemy.engine import make_url

from app.config import DatabaseChoice, choose_database, with_keyring_password
from engine.errors import StatusFlowError
from engine.secrets import SecretStore
from engine.services import session
from engine.services.database import Database, schema
from engine.settings import organisation_zone

PASSWORD_ENV = "STATUSFLOW_PASSWORD"


@dataclass
class Context:
    """Per-invocation state: the database choice, the secrets, and who is acting.

    ``claimed`` is the ``--as`` name (else the computer's user). ``signed_in`` is set
    once that person is known: commands that never ask who acts never prompt.
    """

    choice: DatabaseChoice
    secrets: SecretStore = field(default_factory=SecretStore)
    claimed: str | None = None
    signed_in: str | None = None
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

    @property
    def actor(self) -> str:
        """The signed-in person's login; signs in on first use (see :meth:`_sign_in`)."""
        if self.signed_in is None:
            self.signed_in = self._sign_in()
        return self.signed_in

    def _sign_in(self) -> str:
        """Without a password when the session service says none is needed; else from
        ``STATUSFLOW_PASSWORD``, the keyring entry 'statusflow login' saved, or a prompt."""
        db = self.database()
        login, needed = session.who_acts(db, self.claimed, local_user=getpass.getuser())
        if not needed:
            return login
        password = os.environ.get(PASSWORD_ENV) or self._saved_password(login)
        if not password and sys.stdin.isatty():
            password = getpass.getpass(f"StatusFlow password for {login}: ")
        if not password:
            raise StatusFlowError(
                f"Acting as {login} needs {login}'s StatusFlow password: type it when asked "
                f"(in a terminal), set {PASSWORD_ENV}, or run 'statusflow --as {login} login' "
                "once to keep it in this computer's keyring."
            )
        return session.sign_in(db, login, password)

    def login_key(self, login: str) -> str:
        """The keyring entry that keeps ``login``'s password for this database."""
        where = make_url(self.choice.url).render_as_string(hide_password=True)
        return f"login/{login}@{where}"

    def _saved_password(self, login: str) -> str | None:
        return self.secrets.get(self.login_key(login)) if self.secrets.available() else None

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
