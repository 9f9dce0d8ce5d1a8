"""The border's side of a kiosk's hash chain: its head, its copy, its alerts.

The events trigger (migration b0002) keeps kiosk_chain_heads; a kiosk reads
its own head through border_chain_head() on PostgreSQL (the table directly on
the SQLite stand-in) and reports faults it finds in its own log through
border_kiosk_alert(), which files them under the caller's kiosk id only.

Every sync cycle also attests the kiosk's local head and log key through
border_log_attest() (b0005i): the border keeps the newest head each kiosk
reported and the SHA-256 of its key proof, raises a kiosk alert and holds the
kiosk when the head goes back or forks or the key is missing or another, and
refuses an enrolled kiosk's events without a good attestation in the same
transaction. The SQLite stand-in has no roles and checks none of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.models import BorderEvent, KioskAlert, KioskChainHead, KioskLog
from kiosk.border.types import UtcDateTime
from kiosk.store.verify import BorderCopy

log = logging.getLogger(__name__)

# Faults a kiosk reports about itself (border_kiosk_alert accepts these only).
KIOSK_ALERT_KINDS = ("local_log", "outbox", "diverged", "refused")


# What border_log_attest() answers; anything but "ok" means: do not push now.
ATTEST_OK = "ok"


def attest(c: Connection, proof: str | None, seq: int, chain_hash: str | None) -> str:
    """Report this kiosk's local head and key proof on `c` (in the caller's
    transaction: the events guard accepts this transaction's events only after
    "ok"). Other answers: key_missing, key_mismatch, rollback, fork, held."""
    if c.dialect.name != "postgresql":
        return ATTEST_OK
    return str(
        c.execute(
            text("SELECT border_log_attest(:p, :s, :h)"), {"p": proof, "s": seq, "h": chain_hash}
        ).scalar_one()
    )


def key_state(engine: Engine, proof: str | None) -> str | None:
    """The border's view of this kiosk's log key: "none" (never enrolled),
    "match", "mismatch", "missing" (no proof given); None on the stand-in."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as c:
        row = c.execute(text("SELECT key_state FROM border_log_status(:p)"), {"p": proof}).first()
    return str(row[0]) if row is not None else None


@dataclass(frozen=True)
class BorderHead:
    seq: int
    chain_hash: str | None
    stopped_at: datetime | None
    stop_reason: str | None


def read_head(c: Connection, kiosk_id: str) -> BorderHead | None:
    """The border's head of `kiosk_id`'s chain (None: nothing chained yet)."""
    if c.dialect.name == "postgresql":
        stmt = text(
            "SELECT log_seq, chain_hash, stopped_at, stop_reason FROM border_chain_head(:k)"
        ).columns(stopped_at=UtcDateTime())
        row = c.execute(stmt, {"k": kiosk_id}).first()
    else:
        h = KioskChainHead.__table__.c
        row = c.execute(
            select(h.log_seq, h.chain_hash, h.stopped_at, h.stop_reason).where(
                h.kiosk_id == kiosk_id
            )
        ).first()
    if row is None:
        return None
    return BorderHead(int(row[0]), row[1], row[2], row[3])


def border_copy(engine: Engine, kiosk_id: str) -> BorderCopy:
    """The head and every chained event hash the border holds for `kiosk_id`
    (a kiosk role sees its own rows only)."""
    e = BorderEvent.__table__.c
    with engine.connect() as c:
        head = read_head(c, kiosk_id)
        rows = c.execute(
            select(e.log_seq, e.chain_hash).where(
                and_(e.kiosk_id == kiosk_id, e.log_seq.is_not(None))
            )
        )
        hashes = {int(r[0]): str(r[1]) for r in rows}
    if head is None or head.chain_hash is None:
        return BorderCopy(None, None, hashes)
    return BorderCopy(head.seq, head.chain_hash, hashes)


def raise_alert(engine: Engine, kiosk_id: str, kind: str, detail: str, seq: int | None) -> bool:
    """File an alert for the supervisor station; False when the border did not
    take it (logged: the push stops either way)."""
    if kind not in KIOSK_ALERT_KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    try:
        with engine.begin() as c:
            if c.dialect.name == "postgresql":
                c.execute(
                    text("SELECT border_kiosk_alert(:k, :d, :s)"),
                    {"k": kind, "d": detail, "s": seq},
                )
                return True
            a = KioskAlert.__table__.c
            already = c.execute(
                select(a.id).where(
                    a.kiosk_id == kiosk_id,
                    a.kind == kind,
                    a.log_seq.is_(None) if seq is None else a.log_seq == seq,
                    a.acknowledged_at.is_(None),
                )
            ).first()
            if already is None:
                c.execute(
                    insert(KioskAlert).values(
                        kiosk_id=kiosk_id, kind=kind, detail=detail[:500], log_seq=seq
                    )
                )
        return True
    except SQLAlchemyError as exc:
        log.error("could not file a %s alert at the border: %s", kind, exc)
        return False


def resume_chain(engine: Engine, kiosk_id: str) -> dict[str, object] | None:
    """Clear the stop of `kiosk_id`'s chain and its log hold (the table owner's
    act, after the cause was dealt with); the head stays where it was, and the
    alerts stay for the supervisor. None when the border holds neither a chain
    nor a log record of that kiosk."""
    h = KioskChainHead.__table__
    g = KioskLog.__table__
    with engine.begin() as c:
        row = c.execute(
            select(h.c.log_seq, h.c.stopped_at, h.c.stop_reason).where(h.c.kiosk_id == kiosk_id)
        ).first()
        held = c.execute(select(g.c.held_reason).where(g.c.kiosk_id == kiosk_id)).first()
        if row is None and held is None:
            return None
        c.execute(
            update(KioskChainHead)
            .where(KioskChainHead.kiosk_id == kiosk_id)
            .values(stopped_at=None, stop_reason=None)
        )
        # A hold for a head that went back or forked ends too; the head the
        # kiosk reports next is taken as it is (the alert stays).
        c.execute(
            update(KioskLog)
            .where(KioskLog.kiosk_id == kiosk_id)
            .values(held_reason=None, reported_seq=None, reported_hash=None)
        )
    return {
        "kiosk_id": kiosk_id,
        "log_seq": int(row[0]) if row is not None else None,
        "was_stopped": (row is not None and row[1] is not None)
        or (held is not None and held[0] is not None),
        "stop_reason": (row[2] if row is not None else None)
        or (held[0] if held is not None else None),
    }
