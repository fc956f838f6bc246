"""``statusflow`` with no command: the designer, ready to use.

On the embedded default the first start creates the SQLite database with the demo
shop and a local admin account, and the engine runs inside the designer's process, so
a new user sees the product work without configuring anything.
"""

from __future__ import annotations

import argparse
import os
import sys

from app.config import data_dir
from app.context import Context
from engine import demo
from engine.errors import StatusFlowError
from engine.services.database import describe
from engine.services.people import ensure_local_admin
from engine.settings import set_setting
from engine.sources import registry
from engine.time_zone import TIME_ZONE, machine_zone_name


def _display_available() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def start(ctx: Context, _args: argparse.Namespace) -> int:
    db = ctx.database()
    if ctx.choice.embedded:
        ensure_local_admin(db, ctx.actor)
        if not registry.list_sources(db):
            report = demo.install(db, actor=ctx.actor)
            where = describe(db.url)
            print(f"First start: created the demo shop ({report.orders} orders) in {where}.")
            demo.publish_for_one_person(db, report.graphs, actor=ctx.actor)
            print(
                f"Published {len(report.graphs)} demo automations; change an order's status "
                "in the Records panel and watch them run. One person works here, so you may "
                "approve your own changes (the four-eyes rule is off)."
            )
            zone = machine_zone_name()
            set_setting(db, TIME_ZONE, zone, actor=ctx.actor)
            print(
                f"Times are read and shown in {zone}, this computer's time zone "
                "(Settings → Time zone changes it)."
            )
    if not _display_available():
        raise StatusFlowError(
            "There is no screen to show the designer on (no DISPLAY). On a server, run "
            "'statusflow engine' and use the other commands; see 'statusflow --help'."
        )
    from designer.app import run  # Qt loads only when the designer opens

    if not ctx.choice.embedded:  # a shared database: the designer's own sign-in asks
        return run(db, "", secrets=ctx.secrets, outbox_path=None)
    return run(db, ctx.actor, secrets=ctx.secrets, outbox_path=data_dir() / "outbox.jsonl")
