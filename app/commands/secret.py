"""``statusflow secret``: store passwords in the OS keyring, never in files."""

from __future__ import annotations

import argparse
import getpass
import sys

from app.context import Context
from engine.errors import SecretStoreError
from engine.secrets import NO_BACKEND


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("secret", help="store or remove a password in the OS keyring")
    secret_sub = parser.add_subparsers(dest="secret_command", metavar="ACTION", required=True)
    set_parser = secret_sub.add_parser(
        "set", help="store a secret, e.g. smtp/default or db/postgres@dbhost:5432"
    )
    set_parser.add_argument("name")
    set_parser.add_argument(
        "--stdin", action="store_true", help="read the value from standard input (scripts)"
    )
    set_parser.set_defaults(func=set_secret)
    delete_parser = secret_sub.add_parser("delete", help="remove a stored secret")
    delete_parser.add_argument("name")
    delete_parser.set_defaults(func=delete_secret)
    secret_sub.add_parser("check", help="say whether a keyring backend is usable").set_defaults(
        func=check
    )


def set_secret(ctx: Context, args: argparse.Namespace) -> int:
    if args.stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        value = getpass.getpass(f"Value for {args.name}: ")
    else:
        raise SecretStoreError("No terminal to type the secret in; pass --stdin and pipe it.")
    ctx.secrets.set(args.name, value)
    print(f"Stored '{args.name}' in the keyring ({type(ctx.secrets.backend).__name__}).")
    return 0


def delete_secret(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.secrets.delete(args.name):
        print(f"Removed '{args.name}'.")
        return 0
    raise SecretStoreError(f"No secret named '{args.name}' is stored.")


def check(ctx: Context, _args: argparse.Namespace) -> int:
    if not ctx.secrets.available():
        raise SecretStoreError(NO_BACKEND)
    print(f"Keyring backend: {type(ctx.secrets.backend).__name__} — ready.")
    return 0
