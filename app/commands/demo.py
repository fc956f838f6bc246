"""``statusflow demo``: a small shop to watch, with the three seed scenarios."""

from __future__ import annotations

import argparse

from app.context import Context
from engine import demo
from engine.services.database import describe


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "demo", help="create demo orders, customers, status codes and three draft graphs"
    ).set_defaults(func=install)


def install(ctx: Context, _args: argparse.Namespace) -> int:
    db = ctx.database()
    report = demo.install(db, actor=ctx.actor)
    if not report.created:
        print(f"The demo is already in {describe(db.url)} ({report.orders} orders).")
        return 0
    print(f"Demo installed in {describe(db.url)}:")
    print(
        f"  {report.orders} orders (source 'orders', with labels) and {report.customers} customers"
    )
    for name in report.graphs:
        print(f"  draft graph: {name}")
    print("Try: statusflow graph list, statusflow graph validate 'Delivered → confirmation email'")
    return 0
