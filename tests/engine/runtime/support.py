"""Helpers for runtime tests: a shop with published graphs and an engine on a manual clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from engine import demo, graphs
from engine.clock import ManualClock
from engine.governance import versions
from engine.runtime.engine import Engine
from engine.settings import SmsGateway, SmtpProfile, save_sms_gateway, save_smtp_profile
from engine.storage.database import Database
from engine.storage.tables import run_steps, runs, tasks
from tests.host import as_host

AUTHOR, REVIEWER = "ana", "ben"


def shop(db: Database, clock: ManualClock) -> None:
    """The demo shop: orders (with labels) and customers, registered as sources."""
    demo.install(db, actor=AUTHOR, clock=clock)


def publish(
    db: Database,
    graph_name_or_document: str | dict[str, Any],
    clock: ManualClock,
    override_loop: str | None = None,
) -> str:
    """Submit, approve (by a second person) and publish; returns the version id."""
    name = graph_name_or_document
    if isinstance(graph_name_or_document, dict):
        name = graphs.create_graph(db, graph_name_or_document, actor=AUTHOR, clock=clock).name
    version = versions.submit(db, name, actor=AUTHOR, clock=clock)
    versions.approve(db, version.id, actor=REVIEWER, clock=clock)
    return versions.publish(
        db, version.id, actor=REVIEWER, clock=clock, override_loop=override_loop
    ).id


def engine(db: Database, clock: ManualClock, **kwargs: Any) -> Engine:
    worker = Engine(db, clock=clock, lease=timedelta(seconds=30), **kwargs)
    worker.start()
    return worker


def set_status(db: Database, table: str, key: int, status: str) -> None:
    with as_host(db) as conn:
        conn.execute(text(f"UPDATE {table} SET status = :s WHERE id = :k"), {"s": status, "k": key})


def timeline(db: Database, record_key: str) -> list[str]:
    with db.read() as conn:
        rows = conn.execute(
            select(run_steps.c.summary)
            .join(runs, runs.c.id == run_steps.c.run_id)
            .where(runs.c.record_key == record_key)
            .order_by(run_steps.c.id)
        ).scalars()
        return list(rows)


def run_states(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        return [
            (r.record_key, r.state) for r in conn.execute(select(runs).order_by(runs.c.started_at))
        ]


def open_tasks(db: Database) -> list[Any]:
    with db.read() as conn:
        return conn.execute(select(tasks).where(tasks.c.state == "open").order_by(tasks.c.id)).all()


def mail_settings(
    db: Database, smtp: SmtpProfile | None = None, sms_url: str | None = None
) -> None:
    if smtp is not None:
        save_smtp_profile(db, smtp, AUTHOR)
    if sms_url is not None:
        save_sms_gateway(db, SmsGateway(name="default", url=sms_url), AUTHOR)
