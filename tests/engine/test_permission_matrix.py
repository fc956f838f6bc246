"""Every cell of the permission matrix, through the engine's front door.

For each action in :data:`engine.permissions.PERMISSIONS` and each role, a person with
only that role does the action through ``engine.services`` (or the engine module the
designer and CLI reach through it) on both databases: the roles the matrix names (and
admin) succeed, every other role is refused with the sentence naming the action. The
table in ``docs/permissions.md`` is generated from the same matrix.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from engine import graphs, settings
from engine.clock import ManualClock
from engine.permissions import ADMIN, DOING, PERMISSIONS, PermissionDenied
from engine.runtime import tasks as task_store
from engine.services import audit, inbox, people, record_edits, review, runs, testing
from engine.sources import status_codes
from engine.storage.database import Database
from engine.time_zone import TIME_ZONE
from tests.conftest import BACKENDS, fresh_postgres_url
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish, shop
from tests.engine.test_loops import status_graph

ROLES = ("designer", "publisher", "operator", ADMIN)
CALL = "Call the customer"
DELIVERED = "Delivered → confirmation email"


@dataclass
class World:
    """What the actions work on, made before any account exists (so nothing is refused)."""

    db: Database
    clock: ManualClock
    in_review: str = ""  # a version someone else wrote
    approved: str = ""
    task: int = 0

    def version_in_review(self) -> None:
        self.in_review = review.submit(self.db, DELIVERED, actor="ana", clock=self.clock).id

    def approved_version(self) -> None:
        self.version_in_review()
        review.approve(self.db, self.in_review, actor="ben", clock=self.clock)
        self.approved = self.in_review

    def published_twice(self) -> None:
        publish(self.db, CALL, self.clock)  # V1.1 supersedes V1.0

    def open_task(self) -> None:
        with self.db.write() as conn:
            self.task = task_store.create_task(
                conn, kind="follow_up", title="Call back", clock=self.clock
            )

    def loop_when_enabled(self) -> None:
        publish(self.db, status_graph("Graph A", "ASN", "DEL").to_document(), self.clock)
        review.set_enabled(self.db, "Graph A", False, actor="ben", clock=self.clock)
        publish(self.db, status_graph("Graph B", "DEL", "ASN").to_document(), self.clock)


Doer = Callable[[World, str], Any]
# action -> (what to prepare, doing it as a person)
CELLS: dict[str, tuple[Callable[[World], None] | None, Doer]] = {
    "graph.edit": (
        None,
        lambda w, who: graphs.create_graph(w.db, Builder("New", "orders").graph.to_document(),
                                           actor=who),
    ),
    "graph.submit": (None, lambda w, who: review.submit(w.db, DELIVERED, actor=who)),
    "graph.approve": (
        World.version_in_review, lambda w, who: review.approve(w.db, w.in_review, actor=who)
    ),
    "graph.reject": (
        World.version_in_review,
        lambda w, who: review.reject(w.db, w.in_review, actor=who, comment="Not yet."),
    ),
    "graph.publish": (
        World.approved_version, lambda w, who: review.publish(w.db, w.approved, actor=who)
    ),
    "graph.rollback": (
        World.published_twice, lambda w, who: review.rollback(w.db, CALL, "V1.0", actor=who)
    ),
    "graph.disable": (None, lambda w, who: review.set_enabled(w.db, CALL, False, actor=who)),
    "graph.enable": (None, lambda w, who: review.set_enabled(w.db, CALL, True, actor=who)),
    "task.decide": (World.open_task, lambda w, who: inbox.decide(w.db, w.task, "done", actor=who)),
    "task.reassign": (
        World.open_task, lambda w, who: inbox.reassign(w.db, w.task, role="operator", actor=who)
    ),
    "runs.read": (None, lambda w, who: runs.find_runs(w.db, who)),
    "runs.start": (None, lambda w, who: runs.start_manual(w.db, CALL, "orders", "1", actor=who)),
    "graph.test": (None, lambda w, who: testing.simulate(w.db, CALL, actor=who, record_key="1")),
    "audit.read": (None, lambda w, who: audit.read_audit(w.db, who)),
    "users.manage": (
        None,
        lambda w, who: people.add_user(w.db, "newbie", display_name="N", roles=["operator"],
                                       actor=who),
    ),
    "sources.manage": (
        None, lambda w, who: status_codes.set_codes(w.db, "orders", [("NEW", "New")], actor=who)
    ),
    "settings.manage": (
        None, lambda w, who: settings.set_setting(w.db, TIME_ZONE, "Europe/Oslo", actor=who)
    ),
    "records.edit": (
        None, lambda w, who: record_edits.change_status(w.db, "orders", "1", "DEL", actor=who)
    ),
    "loop.override": (
        World.loop_when_enabled,
        lambda w, who: review.set_enabled(w.db, "Graph A", True, actor=who, override_loop="ok"),
    ),
    "four_eyes.relax": (
        None, lambda w, who: settings.set_setting(w.db, settings.FOUR_EYES_RELAXED, True,
                                                  actor=who),
    ),
}  # fmt: skip


def test_every_action_in_the_matrix_has_a_cell() -> None:
    assert set(CELLS) == set(PERMISSIONS)


@pytest.fixture(scope="module", params=BACKENDS)
def shop_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The demo shop with a hand-started graph published, made once per database kind
    and copied for each cell (160 cells would otherwise build it 160 times)."""
    clock = ManualClock()
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "shop.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        _build_shop(url, clock)
        yield "sqlite", str(path)
    else:
        for url in fresh_postgres_url(request.getfixturevalue("pg_template")):
            _build_shop(url, clock)
            yield "postgresql", make_url(url).database or ""


def _build_shop(url: str, clock: ManualClock) -> None:
    db = Database(url)
    try:
        shop(db, clock)
        g = Builder(CALL, "orders")
        g.line(g.node("trigger.manual"), g.node("action.add_note", note="Call them."))
        publish(db, g.graph.to_document(), clock)
    finally:
        db.dispose()


@pytest.fixture
def shop_db(shop_template: tuple[str, str], tmp_path: Path) -> Iterator[Database]:
    kind, source = shop_template
    if kind == "sqlite":
        path = tmp_path / "shop.db"
        shutil.copy(source, path)
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = fresh_postgres_url(source)
    for url in urls:
        db = Database(url)
        yield db
        db.dispose()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_each_role_may_do_exactly_what_the_matrix_says(
    shop_db: Database, action: str, role: str
) -> None:
    db, clock = shop_db, ManualClock()
    world = World(db, clock)
    prepare, do = CELLS[action]
    if prepare is not None:
        prepare(world)
    if action == "graph.enable":
        review.set_enabled(db, CALL, False, actor="ben", clock=clock)
    people.add_user(db, "root", display_name="Root", roles=[ADMIN], actor="root")
    if role != ADMIN:
        people.add_user(db, "pat", display_name="Pat", roles=[role], actor="root")
    who = "root" if role == ADMIN else "pat"

    try:
        do(world, who)
        refusal = None
    except PermissionDenied as refused:
        refusal = str(refused)

    may = role == ADMIN or role in PERMISSIONS[action]
    assert (refusal is None) == may, refusal
    # overriding the loop guard is part of enabling: who may not enable is refused first
    first = "graph.enable" if action == "loop.override" and role != "publisher" else action
    assert refusal is None or f"{DOING[first]} needs the" in refusal
