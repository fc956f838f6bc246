"""On PostgreSQL with people's own logins, the database itself holds the roles.

``statusflow db roles`` makes the group roles; ``statusflow user add`` then gives each
person a login in them. Connected with that login, raw SQL meets the same rules as
the services: a designer cannot publish, a publisher cannot approve their own version,
nobody decides someone else's task, and the audit log names the real login. Before,
anyone with the database URL could change any row.

Real server, real roles: each test makes its own database and logins and drops them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import cli
from engine import graphs
from engine.clock import ManualClock
from engine.errors import DatabaseError
from engine.governance import users
from engine.runtime import tasks as task_store
from engine.secrets import SecretStore
from engine.services import database, review
from engine.services.database import Database
from tests.conftest import _pg_admin, fresh_postgres_url
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import shop

pytestmark = pytest.mark.postgres


@dataclass
class Team:
    owner: Database
    url: str
    names: dict[str, str]  # ana -> ana_1a2b3c
    opened: list[Database]

    def login(self, who: str) -> Database:
        """A connection with ``who``'s own login (the test server trusts local logins;
        a real one checks their password)."""
        url = make_url(self.url).set(username=self.names[who])
        db = Database(url.render_as_string(hide_password=False))
        self.opened.append(db)
        return db


@pytest.fixture
def team(pg_template: str) -> Iterator[Team]:
    tag = uuid.uuid4().hex[:6]
    names = {who: f"{who}_{tag}" for who in ("root", "ana", "ben", "pat", "olga")}
    for url in fresh_postgres_url(pg_template):
        owner = Database(url)
        clock = ManualClock()
        shop(owner, clock)  # the demo shop, before any account exists
        database.install_roles(owner)
        roles = {"root": ["admin"], "ana": ["designer"], "ben": ["publisher"],
                 "pat": ["designer", "publisher"], "olga": ["operator"]}  # fmt: skip
        for who, held in roles.items():
            users.add_user(owner, names[who], display_name=who, roles=held, actor=names["root"])
        team = Team(owner, url, names, [])
        try:
            yield team
        finally:
            for db in [*team.opened, owner]:
                db.dispose()
    with _pg_admin() as admin:
        for login in names.values():
            admin.execute(f'DROP ROLE IF EXISTS "{login}"')


def refused(db: Database, sql: str, **params: object) -> str:
    """The database's refusal of ``sql`` run with ``db``'s login: one sentence."""
    with pytest.raises(DatabaseError) as caught, db.write() as conn:
        conn.execute(text(sql), params)
    assert isinstance(caught.value.__cause__, DBAPIError)
    assert isinstance(caught.value.__cause__.orig, psycopg.errors.InsufficientPrivilege)
    return str(caught.value)


def a_version_in_review(team: Team, author: str) -> str:
    g = Builder(f"Note for {author}", "orders")
    g.line(g.node("trigger.status_entered", codes=["DEL"]), g.node("action.add_note", note="x"))
    as_author = team.login(author)
    name = team.names[author]
    graphs.create_graph(as_author, g.graph.to_document(), actor=name)
    return review.submit(as_author, g.graph.name, actor=name).id


def test_a_designer_running_raw_sql_cannot_publish_or_approve(team: Team) -> None:
    version = a_version_in_review(team, "ana")
    ana = team.login("ana")

    said = refused(ana, "UPDATE sf_graph_versions SET state = 'approved' WHERE id = :v", v=version)
    assert said == f"{team.names['ana']} may not review versions: that needs the publisher role."
    said = refused(ana, "UPDATE sf_graphs SET enabled = false")
    assert "needs the publisher role" in said
    with team.owner.read() as conn:
        assert review.get_version(conn, version).state == "in_review"


def test_four_eyes_is_checked_against_the_login_not_a_name_typed(team: Team) -> None:
    version = a_version_in_review(team, "pat")
    pat = team.login("pat")

    said = refused(
        pat,
        "UPDATE sf_graph_versions SET state = 'approved', reviewer = 'ben' WHERE id = :v",
        v=version,
    )
    assert said == (
        f"{team.names['pat']} wrote this version, so someone else must approve it (four-eyes rule)."
    )

    with team.login("ben").write() as conn:  # ben may, and is recorded whatever he types
        conn.execute(
            text("UPDATE sf_graph_versions SET state = 'approved', reviewer = 'pat' WHERE id = :v"),
            {"v": version},
        )
    with team.owner.read() as conn:
        approved = review.get_version(conn, version)
    assert (approved.state, approved.reviewer) == ("approved", team.names["ben"])


def test_the_author_of_a_version_is_the_login_that_submitted_it(team: Team) -> None:
    version = a_version_in_review(team, "ana")
    with team.owner.read() as conn:
        assert review.get_version(conn, version).author == team.names["ana"]
    ana = team.login("ana")
    assert "frozen" in refused(
        ana, "UPDATE sf_graph_versions SET author = 'pat' WHERE id = :v", v=version
    )


def test_nobody_decides_someone_elses_task_and_the_decider_is_the_login(team: Team) -> None:
    with team.owner.write() as conn:
        task_id = task_store.create_task(
            conn, kind="approval", title="Price approval", assignee_role="publisher",
            clock=ManualClock(),
        )  # fmt: skip
    decide = "UPDATE sf_tasks SET state = 'approved', decided_by = 'ben' WHERE id = :t"

    said = refused(team.login("olga"), decide, t=task_id)
    assert (
        said
        == f"Task {task_id} is not {team.names['olga']}'s to work: it is for the publisher role."
    )
    with team.login("ben").write() as conn:
        conn.execute(text(decide.replace("'ben'", "'olga'")), {"t": task_id})

    with team.owner.read() as conn:
        task = task_store.get_task(conn, task_id)
    assert (task.state, task.decided_by) == ("approved", team.names["ben"])
    assert "already approved" in refused(team.login("ben"), decide, t=task_id)


def test_the_audit_log_names_the_login_and_cannot_be_changed(team: Team) -> None:
    ana = team.login("ana")
    with ana.write() as conn:
        conn.execute(
            text(
                "INSERT INTO sf_audit_entries (at, actor, action, object_type, object_id, summary)"
                " VALUES (now(), 'ben', 'graph.publish', 'graph', 'x', 'Published it')"
            )
        )
    with team.owner.read() as conn:
        actors = conn.execute(
            text("SELECT actor FROM sf_audit_entries WHERE object_id = 'x'")
        ).scalars()
        assert list(actors) == [team.names["ana"]]
    for sql in ("UPDATE sf_audit_entries SET actor = 'ben'", "DELETE FROM sf_audit_entries",
                "TRUNCATE sf_audit_entries"):  # fmt: skip
        assert "permission denied" in refused(ana, sql)


def test_accounts_and_settings_are_for_admins(team: Team) -> None:
    ana = team.login("ana")
    assert "needs the admin role" in refused(ana, "UPDATE sf_users SET is_active = true")
    assert "permission denied for table sf_user_roles" in refused(ana, "DELETE FROM sf_user_roles")
    assert "needs the admin role" in refused(
        ana, "INSERT INTO sf_user_roles (user_id, role) SELECT id, 'admin' FROM sf_users"
    )
    said = refused(
        ana,
        "INSERT INTO sf_settings (key, value, updated_at) "
        "VALUES ('engine.four_eyes_relaxed', 'true', now())",
    )
    assert said == f"{team.names['ana']} may not change settings: that needs the admin role."
    with team.login("root").write() as conn:  # an admin may
        conn.execute(text("UPDATE sf_users SET email = 'root@example.com' WHERE username = :u"),
                     {"u": team.names["root"]})  # fmt: skip


def test_the_command_line_acts_as_the_login_without_a_statusflow_password(
    team: Team, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    statusflow_home,
) -> None:  # fmt: skip
    monkeypatch.delenv("STATUSFLOW_PASSWORD", raising=False)
    ana = make_url(team.url).set(username=team.names["ana"]).render_as_string(False)

    code = cli.main(["--database", ana, "task", "list", "--mine"])
    assert (code, capsys.readouterr().out) == (0, "No tasks are waiting.\n")

    code = cli.main(["--database", ana, "--as", team.names["ben"], "task", "list", "--mine"])
    assert code == 2
    assert capsys.readouterr().err == (
        f"statusflow: This database connection is {team.names['ana']}'s own login, so you "
        f"act as {team.names['ana']}; to act as {team.names['ben']}, connect with "
        f"{team.names['ben']}'s login.\n"
    )


def test_a_deactivated_person_cannot_connect_at_all(team: Team) -> None:
    users.deactivate(team.owner, team.names["olga"], actor=team.names["root"])
    with pytest.raises(DatabaseError, match="is not permitted to log in"):
        team.login("olga").check_reachable()


def test_accounts_made_before_the_roles_get_logins_and_keep_everything(
    pg_template: str,
) -> None:
    tag = uuid.uuid4().hex[:6]
    ann, bob = f"ann_{tag}", f"bob_{tag}"
    for url in fresh_postgres_url(pg_template):
        owner = Database(url)
        try:
            users.add_user(owner, ann, display_name="Ann", roles=["admin"], actor=ann)
            users.add_user(owner, bob, display_name="Bob", roles=["designer"], actor=ann)
            users.deactivate(owner, bob, actor=ann)

            database.install_roles(owner)  # the one admin step after 'db upgrade'
            users.set_password(owner, ann, "a-new-password", actor=ann)

            with _pg_admin() as admin:
                rows = admin.execute(
                    "SELECT rolname, rolcanlogin, rolpassword IS NOT NULL, "
                    "ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g "
                    "ON g.oid = m.roleid WHERE m.member = a.oid ORDER BY 1) "
                    "FROM pg_authid a WHERE rolname IN (%s, %s) ORDER BY 1",
                    (ann, bob),
                ).fetchall()
            assert rows == [
                (ann, True, True, ["statusflow_admin"]),
                (bob, False, False, ["statusflow_designer"]),
            ]
            with owner.read() as conn:
                accounts = users.list_users(conn)
            assert [(u.username, u.is_active) for u in accounts] == [(ann, True), (bob, False)]
        finally:
            owner.dispose()
    with _pg_admin() as admin:
        for login in (ann, bob):
            admin.execute(f'DROP ROLE IF EXISTS "{login}"')


def test_the_designer_opens_as_the_login_without_asking(team: Team) -> None:
    from designer.sign_in import sign_in  # Qt only for this test

    assert sign_in(team.login("ben"), None, SecretStore()) == team.names["ben"]
