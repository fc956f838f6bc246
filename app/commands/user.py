"""``statusflow user``: accounts and roles, as an admin manages them.

The services check that the acting user may manage users; this module only reads
arguments (and passwords, never from the command line where others could see them)
and prints the result.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.context import Context
from engine.errors import StatusFlowError
from engine.services import people as users
from engine.services.people import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("user", help="user accounts and their roles")
    user_sub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    add = user_sub.add_parser("add", help="create a user account")
    add.add_argument("username", help="e.g. ann.smith")
    add.add_argument("--name", required=True, help='full name, e.g. "Ann Smith"')
    add.add_argument("--email")
    add.add_argument("--role", action="append", required=True, choices=ROLES, dest="roles")
    _password_option(add)
    add.set_defaults(func=add_user)

    user_sub.add_parser("list", help="list user accounts").set_defaults(func=list_users)

    role = user_sub.add_parser("role", help="replace a user's roles")
    role.add_argument("username")
    role.add_argument("--set", nargs="+", required=True, choices=ROLES, dest="roles")
    role.set_defaults(func=set_roles)

    passwd = user_sub.add_parser("passwd", help="set a user's password")
    passwd.add_argument("username")
    _password_option(passwd)
    passwd.set_defaults(func=set_password)

    for name, func, words in (
        ("deactivate", deactivate, "take a user's access away (history keeps their name)"),
        ("reactivate", reactivate, "give a deactivated user their access back"),
    ):
        change = user_sub.add_parser(name, help=words)
        change.add_argument("username")
        change.set_defaults(func=func)


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )


def _read_password(args: argparse.Namespace, *, piped: bool = False) -> str | None:
    """From stdin when asked (or ``piped`` and stdin is not a terminal), else typed
    twice at a terminal; None without either."""
    if args.password_stdin or (piped and not sys.stdin.isatty()):
        return sys.stdin.readline().rstrip("\r\n") or None
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(f"New password for {args.username}: ")
    if getpass.getpass("Type it again: ") != first:
        raise StatusFlowError("The two passwords were not the same; nothing was changed.")
    return first


def add_user(ctx: Context, args: argparse.Namespace) -> int:
    user = users.add_user(
        ctx.database(),
        args.username,
        display_name=args.name,
        email=args.email,
        password=_read_password(args),
        roles=args.roles,
        actor=ctx.actor,
    )
    login = "" if user.has_password else " They have no password yet (statusflow user passwd)."
    print(f"Added {user.username} ({user.display_name}) as {', '.join(user.roles)}.{login}")
    return 0


def list_users(ctx: Context, _args: argparse.Namespace) -> int:
    with ctx.database().read() as conn:
        accounts = users.list_users(conn)
    if not accounts:
        print(
            "No user accounts yet: everyone may do everything. Add an admin first with "
            "'statusflow user add NAME --name \"Full Name\" --role admin'."
        )
    for user in accounts:
        state = "" if user.is_active else "  (deactivated)"
        password = "" if user.has_password else "  no password"
        email = f" <{user.email}>" if user.email else ""
        print(
            f"{user.username:<16} {user.display_name}{email}  "
            f"[{', '.join(user.roles)}]{password}{state}"
        )
    return 0


def set_roles(ctx: Context, args: argparse.Namespace) -> int:
    user = users.set_roles(ctx.database(), args.username, args.roles, actor=ctx.actor)
    print(f"{user.username} is now {', '.join(user.roles)}.")
    return 0


def set_password(ctx: Context, args: argparse.Namespace) -> int:
    password = _read_password(args, piped=True)
    if password is None:
        raise StatusFlowError("Type the new password in a terminal, or pass it on standard input.")
    user = users.set_password(ctx.database(), args.username, password, actor=ctx.actor)
    print(f"Set a new password for {user.username}.")
    return 0


def deactivate(ctx: Context, args: argparse.Namespace) -> int:
    user = users.deactivate(ctx.database(), args.username, actor=ctx.actor)
    print(f"{user.username} is deactivated and can no longer do anything in StatusFlow.")
    return 0


def reactivate(ctx: Context, args: argparse.Namespace) -> int:
    user = users.reactivate(ctx.database(), args.username, actor=ctx.actor)
    print(f"{user.username} is active again as {', '.join(user.roles)}.")
    return 0
