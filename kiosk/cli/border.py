"""`egate border ...` (admin: schema, roles, reference data, API rows) and
`egate sync` (the kiosk's push/pull with the border database). docs/border.md."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.chain import resume_chain
from kiosk.border.database import create_border_engine, migrate_border, open_border, redact
from kiosk.border.errors import BorderError, BorderSchemaError, PublishError, RoleError
from kiosk.border.lookups import BorderApiSource
from kiosk.border.maintain import image_max_h, purge_images, rekey, set_image_max_h
from kiosk.border.partitions import DEFAULT_MONTHS_AHEAD, configure, maintain_partitions
from kiosk.border.publish import KINDS, ApiRecord, add_api, prepare, publish, withdraw
from kiosk.border.roles import KioskGrant, RoleNames, provision_roles
from kiosk.border.sync import BorderSync
from kiosk.border.sync.push import DEFAULT_BATCH, MAX_BATCH
from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.config import Config, border_url, expand_url, log_key_path
from kiosk.safe_files import UnsafeFileError, read_input
from kiosk.store.database import StorageError, open_local
from kiosk.store.seal import LogKeyError, optional_key

# sysexits.h: the caller can tell "try again later" from "fix your input".
EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_SOFTWARE, EX_TEMPFAIL, EX_NOPERM = 65, 66, 69, 70, 75, 77


def register(sub: Any) -> None:
    group = sub.add_parser("border", help="border database: schema, roles, reference data, API")
    gsub = group.add_subparsers(dest="border_command", metavar="ACTION", required=True)
    _register_init(gsub)
    _register_reference(gsub)
    _register_api(gsub)
    _register_owner(gsub)

    entry = gsub.add_parser("entry-record", help="latest admitted entry of a document (exit)")
    _document_options(entry)
    _url_option(entry, "default: the configured border database")
    add_common_options(entry)
    entry.set_defaults(func=run_entry_record)

    sync = sub.add_parser("sync", help="push the event outbox, pull reference data")
    sync.add_argument("--once", action="store_true", help="one cycle, then exit")
    sync.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, metavar="N")
    _url_option(sync, "border URL (kiosk role); default: storage.border_url")
    add_common_options(sync)
    sync.set_defaults(func=run_sync)


def _register_init(gsub: Any) -> None:
    init = gsub.add_parser("init", help="create or upgrade the schema and the database roles")
    _url_option(init, "admin URL (PostgreSQL owner/superuser); default: the configured border")
    init.add_argument(
        "--role-prefix",
        default="egate",
        help="group roles PREFIX_admin, PREFIX_supervisor, PREFIX_kiosk",
    )
    init.add_argument(
        "--kiosk-role",
        action="append",
        default=[],
        metavar="NAME",
        help="a kiosk login role (repeat, paired in order with --kiosk-id)",
    )
    init.add_argument(
        "--kiosk-id",
        action="append",
        default=[],
        metavar="ID",
        help="the kiosk id the matching --kiosk-role may write events for",
    )
    init.add_argument(
        "--kiosk-lane",
        action="append",
        default=[],
        metavar="PORT/LANE",
        help="the port and lane the matching --kiosk-role may write events for (e.g. CSX/1)",
    )
    init.add_argument(
        "--remap",
        action="store_true",
        help="allow moving a kiosk id to another role (that role gets the kiosk's events)",
    )
    init.add_argument("--no-roles", action="store_true", help="schema only, no roles")
    add_common_options(init)
    init.set_defaults(func=run_init)


def _register_reference(gsub: Any) -> None:
    pub = gsub.add_parser("publish", help="publish a reference item for every kiosk")
    pub.add_argument("kind", choices=KINDS)
    pub.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="payload file ('-' for stdin); none for a watchlist entry",
    )
    pub.add_argument("--key", help="item key (default: SHA-256 for PKI files, id for packs)")
    pub.add_argument("--provenance", help="where the item came from (default: the file name)")
    _url_option(pub, "admin URL; default: the configured border database")
    add_common_options(pub)
    pub.set_defaults(func=run_publish)

    wd = gsub.add_parser("withdraw", help="withdraw a reference item (kiosks delete it)")
    wd.add_argument("kind", choices=KINDS)
    wd.add_argument("--key", required=True)
    _url_option(wd, "admin URL; default: the configured border database")
    add_common_options(wd)
    wd.set_defaults(func=run_withdraw)


def _register_api(gsub: Any) -> None:
    api = gsub.add_parser("api", help="advance passenger information (QA and admin)")
    asub = api.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    add = asub.add_parser("add", help="add an advance passenger information row")
    _document_options(add)
    add.add_argument(
        "--flight-date",
        required=True,
        type=_date,
        help="arrival date at the port, YYYY-MM-DD (local date)",
    )
    add.add_argument("--flight", help="arriving flight, e.g. CA922")
    add.add_argument("--arrived-from", help="ICAO/ISO 3166 alpha-3 state or region of origin")
    add.add_argument("--destination", help="onward state or region (alpha-3)")
    add.add_argument(
        "--departure-time",
        type=_datetime,
        help="onward departure, ISO 8601 with offset (2026-03-05T20:00:00+08:00)",
    )
    add.add_argument("--departure-port", help="IATA code of the onward departure airport")
    add.add_argument("--onward-flight", help="onward flight, e.g. KE806")
    add.add_argument(
        "--confirmed", action="store_true", help="the onward ticket has a confirmed date and seat"
    )
    _url_option(add, "admin URL; default: the configured border database")
    add_common_options(add)
    add.set_defaults(func=run_api_add)

    look = asub.add_parser("lookup", help="the journey a lane would get for a document")
    _document_options(look)
    look.add_argument("--date", required=True, type=_date, help="arrival date, YYYY-MM-DD")
    _url_option(look, "default: the configured border database")
    add_common_options(look)
    look.set_defaults(func=run_api_lookup)


def _register_owner(gsub: Any) -> None:
    """Commands that need the owner URL."""
    resume = gsub.add_parser(
        "chain-resume", help="let a kiosk the border stopped push again (owner URL)"
    )
    resume.add_argument("--kiosk-id", required=True)
    _url_option(resume, "owner URL; default: the configured border database")
    add_common_options(resume)
    resume.set_defaults(func=run_chain_resume)

    purge = gsub.add_parser(
        "purge", help="delete referral images past their expiry or the maximum (owner URL)"
    )
    purge.add_argument(
        "--max-retention-h",
        type=int,
        default=None,
        metavar="HOURS",
        help="first set the border's maximum image retention (applies to stored images too)",
    )
    _url_option(purge, "owner URL; default: the configured border database")
    add_common_options(purge)
    purge.set_defaults(func=run_purge)

    maintain = gsub.add_parser(
        "maintain",
        help="create month partitions ahead, retire those past the retention (owner URL)",
    )
    maintain.add_argument(
        "--months-ahead",
        type=int,
        default=None,
        metavar="N",
        help=f"first set how many months ahead to create (default {DEFAULT_MONTHS_AHEAD})",
    )
    maintain.add_argument(
        "--retention-months",
        action="append",
        default=[],
        type=_retention,
        metavar="TABLE=N",
        help="first set a table's retention in months (events, referrals, officer_actions; "
        "N or 'none' to keep everything); repeatable",
    )
    _url_option(maintain, "owner URL; default: the configured border database")
    add_common_options(maintain)
    maintain.set_defaults(func=run_maintain)

    rekey = gsub.add_parser(
        "key-rotate", help="clear a kiosk's log key enrolment so a new key enrols (owner URL)"
    )
    rekey.add_argument("--kiosk-id", required=True)
    rekey.add_argument("--reason", required=True, help="why (recorded in the kiosk alerts)")
    _url_option(rekey, "owner URL; default: the configured border database")
    add_common_options(rekey)
    rekey.set_defaults(func=run_key_rotate)


def _url_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--url", default=None, help=f"SQLAlchemy URL; {help_text}")


def _document_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--document-number", required=True)
    parser.add_argument("--issuing-state", required=True, help="alpha-3 code, e.g. USA")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. +08:00")
    return value


def _engine(args: argparse.Namespace, config: Config, *, standin_schema: bool = True) -> Engine:
    """The border engine for --url, else the configured border database."""
    url = args.url or border_url(config)
    try:
        return open_border(url) if standin_schema else create_border_engine(url)
    except BorderError as exc:
        raise CommandError("border_unavailable", str(exc), status=EX_UNAVAILABLE) from exc


@contextmanager
def _border(
    args: argparse.Namespace,
    config: Config,
    *,
    standin_schema: bool = True,
    invalid_arguments: bool = False,
) -> Iterator[Engine]:
    """The border engine for one command, disposed after it; border and database
    faults become their CommandError (_fail), and with `invalid_arguments` a
    ValueError (a value the border functions refuse) becomes invalid_arguments."""
    engine = _engine(args, config, standin_schema=standin_schema)
    try:
        yield engine
    except ValueError as exc:
        if not invalid_arguments:
            raise
        raise CommandError("invalid_arguments", str(exc), status=EX_DATAERR) from exc
    except (BorderError, SQLAlchemyError) as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()


def _fail(exc: Exception) -> CommandError:
    if isinstance(exc, PublishError):
        return CommandError("invalid_input", str(exc), status=EX_DATAERR)
    if isinstance(exc, RoleError):
        return CommandError("roles_refused", str(exc), status=EX_NOPERM)
    if isinstance(exc, BorderSchemaError):
        return CommandError("schema_error", str(exc), status=EX_SOFTWARE)
    message = " ".join(str(getattr(exc, "orig", None) or exc).split())[:400]
    return CommandError("border_unavailable", message, status=EX_UNAVAILABLE)


# -- border init ------------------------------------------------------------------
def run_init(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if len(args.kiosk_role) != len(args.kiosk_id):
        raise CommandError(
            "invalid_arguments",
            "--kiosk-role and --kiosk-id come in pairs "
            f"(got {len(args.kiosk_role)} roles and {len(args.kiosk_id)} ids)",
        )
    if args.kiosk_lane and len(args.kiosk_lane) != len(args.kiosk_id):
        raise CommandError(
            "invalid_arguments", "--kiosk-lane, when given, pairs with every --kiosk-id"
        )
    with _border(args, config, standin_schema=False) as engine:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite and args.kiosk_role:
            raise CommandError(
                "roles_unsupported", "the SQLite stand-in has no database roles", status=EX_DATAERR
            )
        revision = migrate_border(engine)
        roles: dict[str, object] | None = None
        if not sqlite and not args.no_roles:
            lanes: list[tuple[str | None, int | None]] = [
                _port_lane(v) for v in args.kiosk_lane
            ] or [(None, None)] * len(args.kiosk_id)
            grants = [
                KioskGrant(r, k, p, n)
                for r, k, (p, n) in zip(args.kiosk_role, args.kiosk_id, lanes, strict=True)
            ]
            roles = provision_roles(
                engine, RoleNames.from_prefix(args.role_prefix), grants, remap=args.remap
            )
    out = {
        "url": redact(engine.url),
        "backend": engine.dialect.name,
        "revision": revision,
        "roles": roles,
    }
    if args.json:
        print_json(out)
    else:
        print(f"border schema at revision {revision} on {out['url']}")
        if roles:
            print(f"roles: {roles}")
    return 0


def _port_lane(value: str) -> tuple[str, int]:
    port, _, lane = value.partition("/")
    if len(port) != 3 or not port.isalpha() or not port.isupper() or not lane.isdigit():
        raise CommandError(
            "invalid_arguments", f"--kiosk-lane {value!r}: expected PORT/LANE, e.g. CSX/1"
        )
    return port, int(lane)


def run_purge(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config, invalid_arguments=True) as engine:
        if args.max_retention_h is not None:
            set_image_max_h(engine, args.max_retention_h)
        deleted = purge_images(engine)
        maximum = image_max_h(engine)
    if args.json:
        print_json({"deleted": deleted, "max_retention_h": maximum})
    else:
        print(f"{deleted} referral image(s) deleted; maximum retention {maximum} h")
    return 0


def _retention(value: str) -> tuple[str, int | None]:
    table, sep, months = value.partition("=")
    if not sep or not (months.isdigit() or months == "none"):
        raise argparse.ArgumentTypeError(f"{value!r}: expected TABLE=MONTHS or TABLE=none")
    return table, None if months == "none" else int(months)


def run_maintain(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config, invalid_arguments=True) as engine:
        if args.months_ahead is not None or args.retention_months:
            if engine.dialect.name != "postgresql":
                raise ValueError("partitions are PostgreSQL only: nothing to configure")
            with engine.begin() as c:
                configure(c, args.months_ahead, dict(args.retention_months))
        report = maintain_partitions(engine)
    if args.json:
        print_json(report)
    elif "skipped" in report:
        print(f"nothing to do on {report['backend']}: {report['skipped']}")
    else:
        for t in report["tables"]:
            kept = f"months from {t['oldest_kept']} kept" if t["oldest_kept"] else "all kept"
            created = " ".join(t["created"]) or "none"
            dropped = " ".join(t["dropped"]) or "none"
            print(
                f"{t['table']}: created {created}; dropped {dropped}; "
                f"{t['moved_from_default']} row(s) moved out of the default partition, "
                f"{t['deleted_from_default']} old row(s) deleted from it; {kept}"
            )
    return 0


def run_key_rotate(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config, invalid_arguments=True) as engine:
        done = rekey(engine, args.kiosk_id, args.reason)
    if not done:
        raise CommandError(
            "not_found", f"kiosk {args.kiosk_id!r} has no log at the border", status=EX_DATAERR
        )
    if args.json:
        print_json({"kiosk_id": args.kiosk_id, "key_enrolment": "cleared"})
    else:
        print(f"kiosk {args.kiosk_id}: its next log key enrols at the next sync")
    return 0


def run_chain_resume(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config) as engine:
        resumed = resume_chain(engine, args.kiosk_id)
    if resumed is None:
        raise CommandError(
            "not_found", f"kiosk {args.kiosk_id!r} has no chain at the border", status=EX_DATAERR
        )
    if args.json:
        print_json({"resumed": resumed})
    else:
        print(f"kiosk {args.kiosk_id} may push again after seq {resumed['log_seq']}")
    return 0


# -- publish / withdraw -------------------------------------------------------------
def run_publish(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.kind == "watchlist":
        payload = b""
        if args.file is not None:
            raise CommandError("invalid_arguments", "a watchlist entry takes no FILE, only --key")
        origin = "watchlist"
    else:
        if args.file is None:
            raise CommandError("invalid_arguments", f"publishing {args.kind} needs a FILE")
        try:
            payload = sys.stdin.buffer.read() if args.file == "-" else read_input(args.file)
        except UnsafeFileError as exc:
            raise CommandError("cannot_read", str(exc), status=EX_NOINPUT) from exc
        origin = "stdin" if args.file == "-" else Path(args.file).name
    try:
        items = prepare(args.kind, payload, args.key)
    except PublishError as exc:
        raise _fail(exc) from exc
    provenance = args.provenance or f"published from {origin}"
    with _border(args, config) as engine:
        published = publish(engine, items, provenance)
    if args.json:
        print_json({"published": published})
    else:
        for p in published:
            state = "published" if p["changed"] else "unchanged"
            print(f"{state}: {p['kind']} {p['key']} sha256 {p['sha256']}")
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config) as engine:
        done = withdraw(engine, args.kind, args.key)
    if not done:
        raise CommandError(
            "not_found", f"no published {args.kind} item with key {args.key!r}", status=EX_DATAERR
        )
    if args.json:
        print_json({"withdrawn": {"kind": args.kind, "key": args.key}})
    else:
        print(f"withdrawn: {args.kind} {args.key}")
    return 0


# -- advance passenger information -------------------------------------------------
def run_api_add(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    record = ApiRecord(
        document_number=args.document_number,
        issuing_state=args.issuing_state,
        flight_date=args.flight_date,
        arrived_from=args.arrived_from,
        flight=args.flight,
        destination=args.destination,
        departure_time=args.departure_time,
        departure_port=args.departure_port,
        onward_flight=args.onward_flight,
        confirmed=args.confirmed,
    )
    try:
        record = record.validated()
    except PublishError as exc:
        raise _fail(exc) from exc
    with _border(args, config) as engine:
        row = add_api(engine, record)
    if args.json:
        print_json({"api": row})
    else:
        print(
            f"API row {row['id']}: {row['issuing_state']} {row['document_number']} "
            f"arriving {row['flight_date']} from {row['arrived_from']}"
        )
    return 0


def _status_json(source: BorderApiSource) -> dict[str, Any]:
    s = source.status
    return {"state": s.state, "detail": s.detail}


def run_api_lookup(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config) as engine:
        source = BorderApiSource(engine)
        journey = source.lookup(args.document_number, args.issuing_state, args.date)
    _lookup_output(args, {"journey": journey, "status": _status_json(source)})
    return EX_TEMPFAIL if source.status.state in ("unreachable", "error") else 0


def run_entry_record(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with _border(args, config) as engine:
        source = BorderApiSource(engine)
        record = source.entry_record(args.document_number, args.issuing_state)
    _lookup_output(args, {"entry_record": record, "status": _status_json(source)})
    return EX_TEMPFAIL if source.status.state in ("unreachable", "error") else 0


def _lookup_output(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key}: {value}")


# -- sync -------------------------------------------------------------------------
def run_sync(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if not 1 <= args.batch_size <= MAX_BATCH:
        raise CommandError("invalid_arguments", f"--batch-size must be 1 to {MAX_BATCH}")
    try:
        sealer = optional_key(log_key_path(config))
    except LogKeyError as exc:
        raise CommandError("log_key", str(exc), status=EX_DATAERR) from exc
    try:
        local = open_local(expand_url(config.storage.local_url))
    except StorageError as exc:
        raise CommandError("local_storage", str(exc), status=EX_SOFTWARE) from exc
    border = _engine(args, config)
    sync = BorderSync(
        local,
        border,
        config.kiosk.id,
        batch_size=args.batch_size,
        interval_s=config.storage.sync_interval_s,
        sealer=sealer,
    )
    if args.once:
        result = sync.run_once()
        _print_result(args, result.as_json())
        return 0 if result.error is None else EX_TEMPFAIL
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop.is_set():
        _print_result(args, sync.run_once().as_json())
        stop.wait(sync.interval_s)
    return 0


def _print_result(args: argparse.Namespace, data: dict[str, Any]) -> None:
    if args.json:
        print_json(data)
    else:
        error = f", error: {data['error']}" if data["error"] else ""
        print(
            f"pushed {data['pushed']}, pending {data['pending']}, pulled {data['pulled']}{error}",
            flush=True,
        )
