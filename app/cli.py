"""The ``statusflow`` command: one entry point, one clear line on any error.

With no sub-command it opens the designer on the configured (by default embedded)
database. Every sub-command lives in ``app/commands``; this module only builds the
parser and turns exceptions into messages and exit codes, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from app.commands import (
    audit,
    demo,
    engine_cmd,
    graph,
    login,
    runs,
    secret,
    settings,
    source,
    start,
    stats,
    task,
    user,
)
from app.commands import db as db_commands
from app.config import ENV_URL, log_dir
from app.context import Context
from engine.errors import StatusFlowError

EXIT_USER_ERROR = 2
EXIT_BUG = 1

COMMANDS = (
    db_commands,
    source,
    graph,
    demo,
    engine_cmd,
    runs,
    task,
    user,
    login,
    audit,
    stats,
    settings,
    secret,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statusflow",
        description="Draw status-driven automations and run them. Without a command, "
        "opens the designer on the embedded database (or the one configured).",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help=f"database URL (else {ENV_URL}, the config file, or the embedded SQLite file)",
    )
    parser.add_argument("--as", dest="actor", metavar="USER", help="act as this user")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in COMMANDS:
        module.register(sub)
    _accept_database_everywhere(parser)
    return parser


def _accept_database_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--database`` also follow the command (``statusflow demo --database URL``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument(
                    "--database", metavar="URL", default=argparse.SUPPRESS, help=argparse.SUPPRESS
                )
                _accept_database_everywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = start.start
    ctx = None
    try:
        ctx = Context.from_cli(args.database)
        ctx.claimed = args.actor
        return int(args.func(ctx, args) or 0)
    except StatusFlowError as exc:
        return _fail(str(exc))
    except OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return _fail(f"The database stopped answering ({detail}). Check it and try again.")
    except SQLAlchemyError as exc:
        return _bug(exc)
    except BrokenPipeError:  # output piped into head, less...: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return _fail("Interrupted.", code=130)
    except Exception as exc:  # the last line of defence: a bug, reported, not a traceback
        return _bug(exc)
    finally:
        if ctx is not None:
            ctx.close()


def _fail(message: str, code: int = EXIT_USER_ERROR) -> int:
    print(f"statusflow: {message}", file=sys.stderr)
    return code


def _bug(exc: BaseException) -> int:
    path = log_dir() / "statusflow.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=path, level=logging.ERROR)
        logging.getLogger("statusflow").error("".join(traceback.format_exception(exc)))
        where = f"Details were written to {path}."
    except OSError:
        where = "".join(traceback.format_exception(exc))
    return _fail(
        f"Something went wrong that StatusFlow did not expect ({type(exc).__name__}: {exc}). "
        f"{where} Please report it.",
        code=EXIT_BUG,
    )


if __name__ == "__main__":
    sys.exit(main())
