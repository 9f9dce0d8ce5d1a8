"""`egate log ...`: the local event log's tamper evidence (docs/border.md).

- `log enrol`: provision the kiosk's log key (a file outside the database,
  mode 0600) and seal the events already logged, after checking their chain;
- `log verify [--against-border]`: recompute the chain, the seals and the
  outbox, and compare with the border's copy; exit 65 on any fault.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.border.chain import border_copy
from kiosk.border.database import open_border
from kiosk.border.errors import BorderError
from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.config import Config, border_url, expand_url, log_key_path
from kiosk.store.database import StorageError, open_local
from kiosk.store.models import LogSeal, TransactionEvent
from kiosk.store.seal import LogKeyError, LogSealer, create_key, optional_key
from kiosk.store.verify import BorderCopy, verify_log

EX_DATAERR, EX_UNAVAILABLE, EX_SOFTWARE, EX_CANTCREAT = 65, 69, 70, 73


def register(sub: Any) -> None:
    group = sub.add_parser("log", help="the local event log: verify, enrol its key")
    gsub = group.add_subparsers(dest="log_command", metavar="ACTION", required=True)

    verify = gsub.add_parser("verify", help="check chain, seals, outbox (exit 65 on a fault)")
    verify.add_argument(
        "--against-border",
        action="store_true",
        help="also compare with the border's copy (finds a truncated log)",
    )
    verify.add_argument("--url", default=None, help="border URL; default: storage.border_url")
    add_common_options(verify)
    verify.set_defaults(func=run_verify)

    enrol = gsub.add_parser("enrol", help="create the kiosk's log key and seal the log")
    add_common_options(enrol)
    enrol.set_defaults(func=run_enrol)


def _local(config: Config) -> Any:
    try:
        return open_local(expand_url(config.storage.local_url))
    except StorageError as exc:
        raise CommandError("local_storage", str(exc), status=EX_SOFTWARE) from exc


def _sealer(config: Config) -> LogSealer | None:
    try:
        return optional_key(log_key_path(config))
    except LogKeyError as exc:
        raise CommandError("log_key", str(exc), status=EX_DATAERR) from exc


def run_verify(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    local = _local(config)
    sealer = _sealer(config)
    border: BorderCopy | None = None
    if args.against_border:
        try:
            engine = open_border(args.url or border_url(config))
            try:
                border = border_copy(engine, config.kiosk.id)
            finally:
                engine.dispose()
        except (BorderError, SQLAlchemyError) as exc:
            message = " ".join(str(getattr(exc, "orig", None) or exc).split())[:400]
            raise CommandError("border_unavailable", message, status=EX_UNAVAILABLE) from exc
    try:
        report = verify_log(local, sealer, border)
    except SQLAlchemyError as exc:
        raise CommandError("local_storage", str(exc), status=EX_SOFTWARE) from exc
    finally:
        local.dispose()
    out = report.as_json()
    if args.json:
        print_json(out)
    else:
        state = "valid" if report.valid else "INVALID"
        print(f"{state}: {report.events} events, head {report.head_seq} {report.head_hash}")
        if border is not None:
            print(f"border head: {out['border_head']}")
        for fault in report.faults:
            print(f"  {fault.kind} at seq {fault.seq}: {fault.detail}")
    return 0 if report.valid else EX_DATAERR


def run_enrol(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    local = _local(config)
    path = log_key_path(config)
    try:
        before = verify_log(local)
        if not before.valid:
            first = before.first_broken
            raise CommandError(
                "log_invalid",
                f"the log does not verify ({first.kind if first else '?'} at seq "
                f"{first.seq if first else '?'}); refusing to seal it",
                status=EX_DATAERR,
            )
        try:
            sealer = create_key(path)
        except LogKeyError as exc:
            raise CommandError("log_key", str(exc), status=EX_CANTCREAT) from exc
        sealed = _seal_existing(local, sealer)
    finally:
        local.dispose()
    out = {"key_file": str(path), "sealed": sealed, "events": before.events}
    if args.json:
        print_json(out)
    else:
        print(f"log key written to {path} (mode 0600); {sealed} event(s) sealed")
    return 0


def _seal_existing(local: Any, sealer: LogSealer) -> int:
    """Seal the events logged before enrolment (their chain was just verified)."""
    e, s = TransactionEvent.__table__.c, LogSeal.__table__.c
    with Session(local) as session, session.begin():
        rows = session.execute(
            select(e.seq, e.kiosk_id, e.chain_hash)
            .select_from(TransactionEvent.__table__.outerjoin(LogSeal.__table__, s.seq == e.seq))
            .where(s.seq.is_(None))
        ).all()
        for seq, kiosk_id, chain_hash in rows:
            session.add(LogSeal(seq=seq, mac=sealer.seal(kiosk_id, seq, chain_hash)))
    return len(rows)
