"""``statusflow engine``: run the engine in the foreground (or once, with ``--once``)."""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta

from app.context import Context
from engine.services.database import describe
from engine.services.engines import Engine, EngineRunner


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("engine", help="run the engine that executes published graphs")
    parser.add_argument("--once", action="store_true", help="process everything due now, then exit")
    parser.add_argument(
        "--poll", type=float, default=1.0, metavar="SECONDS", help="how often to look for work"
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long a claimed step is this engine's before another may take it over",
    )
    parser.add_argument("--batch", type=int, default=100, help="work items claimed at once")
    parser.add_argument("--verbose", action="store_true", help="log every tick")
    parser.set_defaults(func=run_engine)


def run_engine(ctx: Context, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    for chatty in ("alembic", "apscheduler"):  # a line per tick would flood the journal
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    db = ctx.database()
    engine = Engine(db, secrets=ctx.secrets, lease=timedelta(seconds=args.lease), batch=args.batch)
    if args.once:
        engine.start()
        try:
            steps = engine.run_until_idle()
        finally:
            engine.stop()
        print(f"Done: {steps} step{'s' * (steps != 1)} executed on {describe(db.url)}.")
        return 0
    print(f"Engine {engine.id[:8]} running on {describe(db.url)}; Ctrl-C stops it.")
    EngineRunner(engine, poll_seconds=args.poll).run_forever()
    print("Engine stopped.")
    return 0
