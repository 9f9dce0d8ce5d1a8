"""`egate log ...`: the local event log's tamper evidence (docs/border.md).

- `log enrol`: provision the kiosk's log key (a file outside the database,
  mode 0600) and seal the events already logged, after checking their chain;
  refused when the border already holds another key's enrolment for this
  kiosk (a key is replaced through `egate border key-rotate` only), and the
  new key enrols at the border at once when it is reachable;
- `log verify [--against-border]`: recompute the chain, the seals and the
  outbox, and compare with the border's copy; exit 65 on any fault.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.border.chain import ATTEST_OK, attest, border_copy, key_state
from kiosk.border.database import open_border
from kiosk.border.errors import BorderError
from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.config import Config, border_url, expand_url, log_key_path
from kiosk.store.database import StorageError, open_local
from kiosk.store.models import LogSeal, TransactionEvent
from kiosk.store.seal import LogKeyError, LogSealer, create_key, load_key, optional_key
from kiosk.store.verify import BorderCopy, verify_log

# sysexits.h
EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_SOFTWARE = 65, 66, 69, 70
EX_CANTCREAT, EX_NOPERM = 73, 77

log = logging.getLogger(__name__)


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
    enrol.add_argument(
        "--existing-key",
        action="store_true",
        help="use the key file root installed (the package's postinst) instead of creating one;"
        " refused when the log already has seals",
    )
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
                proof = sealer.proof(config.kiosk.id) if sealer is not None else None
                border = replace(border, key_state=key_state(engine, proof))
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
    border, state = _border_or_none(config)
    if border is not None and state not in (None, "none"):
        border.dispose()
        raise CommandError(
            "key_enrolled",
            f"the border holds a log key enrolment for kiosk {config.kiosk.id}; a new key "
            "enrols only after `egate border key-rotate` there (docs/deployment.md)",
            status=EX_NOPERM,
        )
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
            sealer = _existing(local, path) if args.existing_key else create_key(path)
        except LogKeyError as exc:
            # An existing key that is not there is missing input; a new one that cannot be
            # written is a file that cannot be created.
            status = EX_NOINPUT if args.existing_key else EX_CANTCREAT
            raise CommandError("log_key", str(exc), status=status) from exc
        sealed = _seal_existing(local, sealer)
        enrolled = _enrol_at_border(border, sealer, config.kiosk.id, before)
    finally:
        local.dispose()
        if border is not None:
            border.dispose()
    out = {
        "key_file": str(path),
        "sealed": sealed,
        "events": before.events,
        "border_enrolled": enrolled,
    }
    if args.json:
        print_json(out)
    else:
        print(f"log key written to {path} (mode 0600); {sealed} event(s) sealed")
        if not enrolled:
            print("the border was not reached: the key enrols at the first sync")
    return 0


def _existing(local: Any, path: Any) -> LogSealer:
    """The key root installed, for a log nobody sealed yet."""
    with local.connect() as c:
        if c.execute(select(LogSeal.seq).limit(1)).first() is not None:
            raise LogKeyError("the log is sealed already; its key stays the one it has")
    return load_key(path)


def _border_or_none(config: Config) -> tuple[Any, str | None]:
    """The configured PostgreSQL border and its key state for this kiosk, or
    None (unreachable, or the stand-in, which keeps no enrolment): enrolment
    then happens at the first sync, where a different enrolment is refused."""
    try:
        engine = open_border(border_url(config))
    except BorderError as exc:
        log.warning("border unavailable for log enrolment: %s", exc)
        return None, None
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return None, None
    try:
        return engine, key_state(engine, None)
    except SQLAlchemyError as exc:
        log.warning("border unavailable for log enrolment: %s", exc)
        engine.dispose()
        return None, None


def _enrol_at_border(border: Any, sealer: LogSealer, kiosk_id: str, report: Any) -> bool:
    if border is None:
        return False
    try:
        with border.begin() as c:
            answer = attest(c, sealer.proof(kiosk_id), report.head_seq or 0, report.head_hash)
    except SQLAlchemyError as exc:
        log.warning("could not enrol the log key at the border: %s", exc)
        return False
    if answer != ATTEST_OK:
        raise CommandError(
            "key_refused",
            f"the border refused the new key's enrolment ({answer}); see its kiosk alerts",
            status=EX_NOPERM,
        )
    return True


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
