"""`egate officers`, `egate referrals` and `egate report`: the supervisor
station's data for administrators, scripts and QA (the station itself is
`egate supervisor`, in ui.commands.supervisor).

Secrets never come from the command line (it shows in `ps` and shell history):
a PIN is read from an environment variable, else from the first line of stdin.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.database import create_border_engine, redact
from kiosk.border.errors import BorderError
from kiosk.cli.common import (
    EX_IOERR,
    CommandError,
    add_common_options,
    config_from_args,
    print_json,
)
from kiosk.clock import SystemClock, as_utc
from kiosk.config import Config, border_url
from kiosk.safe_files import UnsafeFileError

PIN_ENV = "EGATE_OFFICER_PIN"
SECOND_PIN_ENV = "EGATE_SECOND_OFFICER_PIN"
NEW_PIN_ENV = "EGATE_NEW_OFFICER_PIN"


def register(sub: Any) -> None:
    officers = sub.add_parser("officers", help="manage supervisor-station officer accounts")
    osub = officers.add_subparsers(dest="officers_command", metavar="ACTION", required=True)
    add = osub.add_parser(
        "add", help=f"add an officer (PIN from ${NEW_PIN_ENV} or the first line of stdin)"
    )
    _url(add)
    add.add_argument("officer_id")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--role", choices=("officer", "supervisor", "maintenance"), default="officer")
    add.add_argument(
        "--port", default=None, help="IATA port the officer serves (default: all; "
        "required for maintenance)",
    )  # fmt: skip
    add.add_argument(
        "--replace", action="store_true",
        help="new secret, role and port for an existing id (enabled, unlocked)",
    )  # fmt: skip
    add.set_defaults(func=run_officers_add)
    disable = osub.add_parser("disable", help="disable an officer account")
    _url(disable)
    disable.add_argument("officer_id")
    disable.set_defaults(func=run_officers_disable)
    listing = osub.add_parser("list", help="list officer accounts (never their secrets)")
    _url(listing)
    listing.set_defaults(func=run_officers_list)
    audit = osub.add_parser("log", help="the keyed officer log (every officer action)")
    _url(audit)
    audit.add_argument("--referral", default=None, metavar="ID", help="only this case")
    audit.add_argument(
        "--verify", action="store_true",
        help="recompute the keyed chain in the border; exit 65 when it does not verify",
    )  # fmt: skip
    audit.set_defaults(func=run_officers_log)
    key = osub.add_parser(
        "kiosk-key",
        help="issue a kiosk's command key (border owner; at enrolment; replaces any earlier)",
    )
    _url(key)
    key.add_argument("kiosk_id")
    key.add_argument(
        "--out", type=Path, default=None,
        help="where the kiosk reads it (default: command.key beside the log key)",
    )  # fmt: skip
    key.set_defaults(func=run_officers_kiosk_key)

    referrals = sub.add_parser("referrals", help="open referrals of the supervisor station")
    rsub = referrals.add_subparsers(dest="referrals_command", metavar="ACTION", required=True)
    rlist = rsub.add_parser("list", help="open referrals, oldest first")
    _url(rlist)
    rlist.set_defaults(func=run_referrals_list)
    resolve = rsub.add_parser(
        "resolve",
        help=f"admit, refuse or send to the manual desk (PIN from ${PIN_ENV} or stdin)",
    )
    _url(resolve)
    resolve.add_argument("referral_id")
    resolve.add_argument("--action", choices=("admit", "refuse", "manual"), required=True)
    resolve.add_argument("--reason", required=True, metavar="CODE", help="reason code")
    resolve.add_argument(
        "--text",
        default="",
        help="free text (needed for reason 'other', and 10+ characters for an admit "
        "after face_mismatch, chip_not_genuine or watchlist_hit)",
    )
    resolve.add_argument("--officer", required=True, metavar="ID")
    resolve.add_argument(
        "--second-officer",
        default=None,
        metavar="ID",
        help=f"confirms a watchlist admit (PIN from ${SECOND_PIN_ENV} or stdin's 2nd line)",
    )
    resolve.set_defaults(func=run_referrals_resolve)

    report = sub.add_parser("report", help="clearance statistics as CSV, PNG or PDF")
    _url(report)
    report.add_argument("--from", dest="start", required=True, metavar="DATE")
    report.add_argument(
        "--to", dest="end", required=True, metavar="DATE", help="a date means the whole day"
    )
    report.add_argument("--format", choices=("csv", "png", "pdf"), required=True)
    report.add_argument("--out", required=True, type=Path, metavar="FILE")
    report.add_argument("--group-by", choices=("port", "lane", "kiosk", "all"), default="port")
    report.add_argument("--port", default=None, help="only this IATA port")
    report.add_argument(
        "--tz", default=REPORT_TZ, metavar="ZONE",
        help=f"the port's time zone (IANA name) for hours, days and dates (default {REPORT_TZ})",
    )
    report.set_defaults(func=run_report)


def _url(parser: argparse.ArgumentParser) -> None:
    add_common_options(parser)
    parser.add_argument(
        "--url", default=None, help="border database URL (default: storage.border_url)"
    )


def open_station_border(args: argparse.Namespace, config: Config) -> Engine:
    """The border engine for --url or the config; the SQLite stand-in gets its
    schema on first use, PostgreSQL must have been set up (`egate border init`)."""
    from kiosk.border.database import migrate_border

    url = args.url or border_url(config)
    try:
        engine = create_border_engine(url)
        if engine.dialect.name == "sqlite":
            migrate_border(engine)
    except BorderError as exc:
        raise CommandError("border_unavailable", str(exc), status=69) from exc
    return engine


def _db_error(exc: SQLAlchemyError, engine: Engine) -> CommandError:
    detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
    return CommandError("border_error", f"{redact(engine.url)}: {detail}", status=69)


def read_secret(env: str, prompt: str, line: int = 0) -> str:
    """The secret from $env, else line `line` of stdin (a prompt on a terminal)."""
    value = os.environ.get(env)
    if value:
        return value
    if sys.stdin is None:
        raise CommandError("no_pin", f"set ${env} or pipe the PIN on stdin", status=2)
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    lines = _stdin_lines()
    if len(lines) <= line or not lines[line]:
        raise CommandError("no_pin", f"set ${env} or pipe the PIN on stdin", status=2)
    return lines[line]


_STDIN: list[str] | None = None


def _stdin_lines() -> list[str]:
    global _STDIN
    if _STDIN is None:
        _STDIN = [ln.rstrip("\r\n") for ln in sys.stdin.read().splitlines()[:4]]
    return _STDIN


# -- officers --------------------------------------------------------------------------
def _directory(engine: Engine) -> Any:
    from kiosk.supervisor.officers import OfficerDirectory

    return OfficerDirectory(engine, SystemClock())


def run_officers_add(args: argparse.Namespace) -> int:
    from kiosk.supervisor.officers import OfficerError

    engine = open_station_border(args, config_from_args(args))
    secret = read_secret(NEW_PIN_ENV, f"PIN for {args.officer_id}: ")
    try:
        officer = _directory(engine).add(
            args.officer_id, args.name, args.role, secret, args.port, replace=args.replace
        )
    except OfficerError as exc:
        raise CommandError(exc.code, exc.message) from exc
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    return _show_officers([officer], args.json)


def run_officers_disable(args: argparse.Namespace) -> int:
    from kiosk.supervisor.officers import OfficerError

    engine = open_station_border(args, config_from_args(args))
    try:
        officer = _directory(engine).disable(args.officer_id)
    except OfficerError as exc:
        raise CommandError(exc.code, exc.message, status=1) from exc
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    return _show_officers([officer], args.json)


def run_officers_list(args: argparse.Namespace) -> int:
    engine = open_station_border(args, config_from_args(args))
    try:
        officers = _directory(engine).list()
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    return _show_officers(officers, args.json)


def run_officers_log(args: argparse.Namespace) -> int:
    """The officer log, oldest first; --verify recomputes its keyed chain in the border
    (border_officer_log_verify on PostgreSQL) and fails with 65 when it breaks."""
    import uuid

    from kiosk.supervisor.audit import actions, verify_actions

    engine = open_station_border(args, config_from_args(args))
    try:
        rid = uuid.UUID(args.referral) if args.referral else None
    except ValueError as exc:
        raise CommandError("bad_argument", f"{args.referral!r} is not a referral id") from exc
    try:
        entries = [a.as_json() for a in actions(engine, rid)]
        verdict = verify_actions(engine) if args.verify else None
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    if verdict is not None:
        verdict = {k: (str(v) if k == "action_id" else v) for k, v in verdict.items()}
    if args.json:
        print_json({"entries": entries, "verification": verdict})
    else:
        for e in entries:
            second = f"+{e['second_officer_id']}" if e["second_officer_id"] else ""
            print(f"{e['at']}  {e['kind']:<16} {e['officer_id']}{second:<8} {e['kiosk_id']:<8} "
                  f"{e['reason_code']}  {e['referral_id'] or ''}")  # fmt: skip
        if verdict is not None:
            state = "verifies" if verdict["valid"] else f"BROKEN at seq {verdict['first_bad_seq']}"
            print(f"officer log: {verdict['entries']} entries, {state}")
    return 65 if verdict is not None and not verdict["valid"] else 0


def run_officers_kiosk_key(args: argparse.Namespace) -> int:
    """A new random command key for the kiosk, in the border (table only the officer
    functions' owner reads) and in a file for the kiosk (0600). Never printed."""
    from kiosk.safe_files import check_output
    from kiosk.supervisor.agent import command_key_path
    from kiosk.supervisor.command_mac import write_key
    from kiosk.supervisor.officer_ops import provision_command_key

    config = config_from_args(args)
    engine = open_station_border(args, config)
    out = args.out or command_key_path(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_output(out)  # before the border's key changes: a refused path loses nothing
    try:
        key = provision_command_key(engine, args.kiosk_id, SystemClock())
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    write_key(out, key)
    result = {"kiosk_id": args.kiosk_id, "key_file": str(out)}
    if args.json:
        print_json(result)
    else:
        print(f"command key for {args.kiosk_id} written to {out} (install it on the kiosk)")
    return 0


def _show_officers(officers: list[Any], as_json: bool) -> int:
    if as_json:
        print_json([o.as_json() for o in officers])
        return 0
    for o in officers:
        state = "disabled" if o.disabled else ("locked" if o.locked_until else "active")
        print(f"{o.officer_id:<12} {o.role:<12} {o.port or 'all':<4} {state:<9} {o.name}")
    return 0


# -- referrals ---------------------------------------------------------------------------
def run_referrals_list(args: argparse.Namespace) -> int:
    from kiosk.supervisor.station import open_referrals

    engine = open_station_border(args, config_from_args(args))
    try:
        # The station's queue reads the same function: the two never disagree.
        items = [s.as_json() for s in open_referrals(engine)]
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    if args.json:
        print_json(items)
        return 0
    for item in items:
        print(
            f"{item['referral_id']}  {item['referred_at']}  {item['kiosk_id']} lane "
            f"{item['lane']}  {item['shown_status']}"
            f"{'' if item['at_lane'] else '  traveller left the lane'}  "
            f"{', '.join(item['reasons'])}"
        )
    return 0


def run_referrals_resolve(args: argparse.Namespace) -> int:
    from kiosk.supervisor.station import Station, StationError

    config = config_from_args(args)
    engine = open_station_border(args, config)
    pin = read_secret(PIN_ENV, f"PIN for {args.officer}: ", 0)
    station = Station(engine, SystemClock(), image_retention_h=_retention(config))
    try:
        station.sign_in(args.officer, pin)
        result = station.resolve(args.referral_id, args.action, args.reason, args.text)
        if result.status == "awaiting_second" and args.second_officer:
            second = read_secret(SECOND_PIN_ENV, f"PIN for {args.second_officer}: ", 1)
            result = station.confirm(args.referral_id, args.second_officer, second)
        station.sign_out()
    except StationError as exc:
        status = 77 if exc.code in ("invalid_credentials", "locked", "disabled") else 1
        raise CommandError(exc.code, exc.message, status=status) from exc
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    out = {
        "referral_id": args.referral_id,
        "action": args.action,
        "reason": args.reason,
        "officer": args.officer,
        **result.as_json(),
    }
    if args.json:
        print_json(out)
    else:
        print(f"{args.referral_id}: {args.action} {result.status}")
    return 0 if result.status == "issued" else 3


def _retention(config: Config) -> float:
    return config.privacy.referral_image_retention_h


# -- report --------------------------------------------------------------------------------
REPORT_TZ = "Asia/Shanghai"  # the shipped ports' zone (China Standard Time, UTC+8)


def report_zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return UTC if name.upper() == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CommandError("invalid_time_zone", f"{name!r} is not an IANA time zone") from exc


def parse_when(text: str, end: bool, tz: tzinfo = UTC) -> datetime:
    """An ISO date (a whole local day: its start, or for `end` the next midnight)
    or an ISO date-time (local time in `tz` when it has no offset)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=tz)
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError("invalid_date", f"{text!r} is not an ISO date or date-time") from exc
    return as_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=tz))


def run_report(args: argparse.Namespace) -> int:
    from kiosk.supervisor.report import write_report
    from kiosk.supervisor.station import load_statistics

    tz = report_zone(args.tz)
    start, end = parse_when(args.start, False, tz), parse_when(args.end, True, tz)
    if end <= start:
        raise CommandError("invalid_period", "--to must be after --from")
    if end - start > timedelta(days=366):
        raise CommandError("invalid_period", "a report covers at most 366 days")
    engine = open_station_border(args, config_from_args(args))
    try:
        stats = load_statistics(
            engine, start, end, args.group_by, args.port.upper() if args.port else None,
            tz=tz, tz_name=args.tz,
        )
    except SQLAlchemyError as exc:
        raise _db_error(exc, engine) from exc
    out: Path = args.out
    try:  # atomic, a regular file only (never /dev/full, a FIFO or a link), no .part left
        write_report(stats, args.format, out)
    except UnsafeFileError as exc:
        raise CommandError("invalid_output", str(exc), EX_IOERR) from exc
    except OSError as exc:
        raise CommandError("invalid_output", f"cannot write {out}: {exc.strerror}",
                           EX_IOERR) from exc
    summary = {"out": str(out), "format": args.format, **stats.as_json()}
    if args.json:
        print_json(summary)
    else:
        o = stats.overall
        print(f"{out}: {o.travellers} travellers, {o.admitted} admitted, {o.referred} referred")
    return 0
