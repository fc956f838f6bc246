"""``statusflow settings``: the email server, the SMS gateway, testing them, and the
organisation's time zone."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from app.context import Context
from engine import settings
from engine.actions.email import SECURITY_WORDS, check_smtp
from engine.actions.sms import check_sms_gateway
from engine.time_zone import TIME_ZONE, moment_text, zone_named


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("settings", help="email, SMS, time zone and engine limits")
    settings_sub = parser.add_subparsers(dest="settings_command", metavar="ACTION", required=True)

    smtp = settings_sub.add_parser("smtp", help="set up an email (SMTP) server")
    smtp.add_argument("--name", default="default", help="profile name (default: default)")
    smtp.add_argument("--host", required=True, help="e.g. mail.example.com")
    smtp.add_argument("--port", type=int, default=587)
    smtp.add_argument("--security", choices=settings.SECURITY_MODES, default="starttls")
    smtp.add_argument("--user", help="login name; its password goes in the keyring")
    smtp.add_argument("--from", dest="from_address", required=True, metavar="ADDRESS")
    smtp.add_argument("--from-name", default="", metavar="NAME", help="e.g. ACME Orders")
    smtp.add_argument("--ca-file", help="a certificate file to trust (company certificates)")
    smtp.set_defaults(func=set_smtp)

    sms = settings_sub.add_parser("sms", help="set up an SMS gateway (HTTP)")
    sms.add_argument("--name", default="default", help="gateway name (default: default)")
    sms.add_argument("--url", required=True, help="the gateway's send address, https://…")
    sms.add_argument("--sender", default="", help="sender name or number shown on phones")
    sms.set_defaults(func=set_sms)

    zone = settings_sub.add_parser(
        "time-zone", help="the time zone schedules, waits and timelines are in"
    )
    zone.add_argument("zone", metavar="NAME", help="a place name, e.g. Europe/Stockholm or UTC")
    zone.set_defaults(func=set_time_zone)

    settings_sub.add_parser("show", help="show every setting").set_defaults(func=show)

    test = settings_sub.add_parser("test", help="check an email server or SMS gateway")
    test_sub = test.add_subparsers(dest="kind", metavar="smtp|sms", required=True)
    checks = (
        ("smtp", check_email_server, "connect and log in to the email server; send nothing"),
        ("sms", check_sms, "reach the SMS gateway with its token; send nothing"),
    )
    for kind, func, words in checks:
        checker = test_sub.add_parser(kind, help=words)
        checker.add_argument("--name", default="default")
        checker.set_defaults(func=func)


def set_smtp(ctx: Context, args: argparse.Namespace) -> int:
    profile = settings.SmtpProfile(
        name=args.name,
        host=args.host,
        port=args.port,
        security=args.security,
        username=args.user,
        from_address=args.from_address,
        from_name=args.from_name,
        ca_file=args.ca_file,
    )
    settings.save_smtp_profile(ctx.database(), profile, ctx.actor)
    print(
        f"Saved the email server '{profile.name}' ({profile.address}, "
        f"{SECURITY_WORDS[profile.security]}), sending as {profile.from_address}."
    )
    _remind_secret(ctx, profile.password_secret)
    return 0


def set_sms(ctx: Context, args: argparse.Namespace) -> int:
    gateway = settings.SmsGateway(name=args.name, url=args.url, sender=args.sender)
    settings.save_sms_gateway(ctx.database(), gateway, ctx.actor)
    print(f"Saved the SMS gateway '{gateway.name}' ({gateway.url}).")
    _remind_secret(ctx, gateway.token_secret)
    return 0


def set_time_zone(ctx: Context, args: argparse.Namespace) -> int:
    settings.set_setting(ctx.database(), TIME_ZONE, args.zone, actor=ctx.actor)
    zone = zone_named(args.zone)
    print(
        f"Saved: schedules, waits and timelines use {zone.key} "
        f"(it is now {moment_text(datetime.now(UTC), zone)} there)."
    )
    return 0


def _remind_secret(ctx: Context, name: str | None) -> None:
    if name and ctx.secrets.available() and ctx.secrets.get(name) is None:
        print(f"Store its password or token with 'statusflow secret set {name}'.")


def show(ctx: Context, _args: argparse.Namespace) -> int:
    with ctx.database().read() as conn:
        stored = settings.all_settings(conn)
        limits = settings.engine_limits(conn)
    if TIME_ZONE not in stored:
        print(f'{TIME_ZONE:<36} "UTC"  (default)')
    for key, value in stored.items():
        if key not in settings.LIMIT_KEYS:
            print(f"{key:<36} {json.dumps(value, ensure_ascii=False)}")
    for key, field in settings.LIMIT_KEYS.items():
        origin = "" if key in stored else "  (default)"
        print(f"{key:<36} {json.dumps(getattr(limits, field.name))}{origin}")
    return 0


def check_email_server(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.database().read() as conn:
        profile = settings.smtp_profile(conn, args.name)
    print(check_smtp(profile, ctx.secrets))
    return 0


def check_sms(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.database().read() as conn:
        gateway = settings.sms_gateway(conn, args.name)
    print(check_sms_gateway(gateway, ctx.secrets))
    return 0
