"""``statusflow login`` / ``logout``: keep a person's password in this computer's keyring.

Scripts and shells then act as that person (``--as NAME``) without a prompt; the
password is checked at login, and again by every command that signs in with it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.context import Context
from engine.errors import StatusFlowError
from engine.services import session


def register(sub: argparse._SubParsersAction) -> None:
    login = sub.add_parser("login", help="keep your password in this computer's keyring")
    login.set_defaults(func=login_cmd)
    logout = sub.add_parser("logout", help="forget the password 'login' kept")
    logout.set_defaults(func=logout_cmd)


def _who(ctx: Context) -> str:
    return session.login_name(ctx.claimed or getpass.getuser())


def login_cmd(ctx: Context, _args: argparse.Namespace) -> int:
    login = _who(ctx)
    if sys.stdin.isatty():
        password = getpass.getpass(f"StatusFlow password for {login}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise StatusFlowError("Type your password (or pass it on standard input) to log in.")
    ctx.signed_in = session.sign_in(ctx.database(), login, password)
    ctx.secrets.set(ctx.login_key(login), password)
    print(f"Logged in as {login}; commands with --as {login} use the keyring from now on.")
    return 0


def logout_cmd(ctx: Context, _args: argparse.Namespace) -> int:
    login = _who(ctx)
    forgot = ctx.secrets.delete(ctx.login_key(login))
    print(f"Forgot {login}'s password." if forgot else f"No password was kept for {login}.")
    return 0
