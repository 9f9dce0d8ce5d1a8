"""Verification of the local event log: chain, seals, outbox, and the border's copy.

One pass in log order recomputes every chain hash from the stored row and its
predecessor's stored hash, so each fault is reported where it is:

- altered: a row whose content no longer hashes to its chain hash, or whose
  seal does not match (the chain was recomputed without the key);
- deleted: a gap in the sequence, a seal or outbox row left without its event,
  or an event the border holds that the local log lacks;
- inserted: an event without a seal (written without the kiosk's key);
- outbox: an event without its outbox row;
- truncated: the border holds events past the local head (the newest rows were
  deleted, which leaves the remaining chain valid);
- diverged: an event whose chain hash differs from the border's copy;
- key: the log was sealed (it holds seals, or the border enrolled this kiosk's
  key) but no key was given, or the key is not the one the border enrolled.
  Deleting the key does not make a sealed log an unsealed one that verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, select

from kiosk.store.event_log import (
    GENESIS,
    canonical_of,
    chain_of,
    readable_values,
    text_columns,
)
from kiosk.store.models import LogSeal, OutboxEntry, TransactionEvent
from kiosk.store.seal import LogSealer


@dataclass(frozen=True)
class Fault:
    kind: str
    seq: int | None
    event_id: str | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "event_id": self.event_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class BorderCopy:
    """What the border holds of this kiosk's chain: its head and the chain hash
    of every event it received, by the kiosk's sequence number."""

    head_seq: int | None
    head_hash: str | None
    hashes: Mapping[int, str]
    # The border's record of this kiosk's log key (kiosk.border.chain.key_state):
    # "none" (never enrolled), "match", "mismatch", "missing" (we showed none).
    key_state: str | None = None

    def head_json(self) -> dict[str, Any] | None:
        if self.head_seq is None:
            return None
        return {"seq": self.head_seq, "hash": self.head_hash}


@dataclass
class LogReport:
    events: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    sealed: bool = False
    faults: list[Fault] = field(default_factory=list)
    border: BorderCopy | None = None

    @property
    def valid(self) -> bool:
        return not self.faults

    @property
    def first_broken(self) -> Fault | None:
        if not self.faults:
            return None
        return min(self.faults, key=lambda f: (f.seq is None, f.seq or 0))

    def as_json(self) -> dict[str, Any]:
        first = self.first_broken
        return {
            "valid": self.valid,
            "events": self.events,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "first_broken": first.as_json() if first else None,
            "border_head": self.border.head_json() if self.border else None,
            "sealed": self.sealed,
            "faults": [f.as_json() for f in self.faults],
        }


def _events_query() -> Any:
    e, o, s = TransactionEvent.__table__, OutboxEntry.__table__, LogSeal.__table__
    # JSON and time columns as text, decoded by readable_values: a column that
    # does not decode is an altered event, not an exception out of the row fetch.
    cols = text_columns(e)
    return (
        select(e.c.seq, e.c.chain_hash, o.c.event_id.label("outbox_id"), s.c.mac, *cols)
        .select_from(e.outerjoin(o, o.c.event_id == e.c.event_id).outerjoin(s, s.c.seq == e.c.seq))
        .order_by(e.c.seq)
    )


def verify_log(
    engine: Engine, sealer: LogSealer | None = None, border: BorderCopy | None = None
) -> LogReport:
    """Check the whole local log; with `sealer` also every seal, with `border`
    also the border's copy of this kiosk's events."""
    report = LogReport(sealed=sealer is not None, border=border)
    faults = report.faults
    previous, expected_seq = GENESIS, 1
    local_hashes: dict[int, str] = {}
    with engine.connect() as c:
        for row in c.execute(_events_query()):
            seq, stored = int(row.seq), str(row.chain_hash)
            if seq > expected_seq:
                span = (
                    f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
                )
                faults.append(Fault("deleted", expected_seq, None, f"event(s) {span} missing"))
            else:
                values = readable_values(row)
                if values is None:
                    faults.append(Fault("altered", seq, row.event_id, "content is not readable"))
                elif chain_of(previous, canonical_of(values)) != stored:
                    faults.append(
                        Fault("altered", seq, row.event_id, "content does not match its chain hash")
                    )
            if sealer is not None:
                if row.mac is None:
                    faults.append(
                        Fault(
                            "inserted",
                            seq,
                            row.event_id,
                            "no seal: not written with this kiosk's key",
                        )
                    )
                elif not sealer.check(row.kiosk_id, seq, stored, row.mac):
                    faults.append(
                        Fault(
                            "altered",
                            seq,
                            row.event_id,
                            "seal does not match: the chain was rewritten",
                        )
                    )
            if row.outbox_id is None:
                faults.append(Fault("outbox", seq, row.event_id, "event has no outbox row"))
            previous, expected_seq = stored, seq + 1
            local_hashes[seq] = stored
            report.events += 1
            report.head_seq, report.head_hash = seq, stored
        faults.extend(_orphans(c))
        if sealer is None and c.execute(select(LogSeal.seq).limit(1)).first() is not None:
            faults.append(Fault("key", None, None, "the log is sealed but its key is missing"))
    if border is not None and border.key_state in ("mismatch", "missing"):
        detail = (
            "the border enrolled a log key for this kiosk; none is present"
            if border.key_state == "missing"
            else "the log key is not the one the border enrolled for this kiosk"
        )
        faults.append(Fault("key", None, None, detail))
    if border is not None:
        faults.extend(_against(border, local_hashes, report.head_seq or 0))
    return report


def _orphans(c: Any) -> list[Fault]:
    """Outbox rows and seals whose event is gone: the event was deleted."""
    e = TransactionEvent.__table__
    o = OutboxEntry.__table__
    s: Table = LogSeal.__table__  # type: ignore[assignment]
    found: list[Fault] = []
    gone = c.execute(
        select(o.c.event_id, o.c.sent_at)
        .select_from(o.outerjoin(e, e.c.event_id == o.c.event_id))
        .where(e.c.seq.is_(None))
    )
    for event_id, sent_at in gone:
        state = "sent" if sent_at is not None else "unsent"
        found.append(Fault("deleted", None, event_id, f"outbox row ({state}) without its event"))
    for (seq,) in c.execute(
        select(s.c.seq).select_from(s.outerjoin(e, e.c.seq == s.c.seq)).where(e.c.seq.is_(None))
    ):
        found.append(Fault("deleted", int(seq), None, "a seal remains of a deleted event"))
    return found


def _against(border: BorderCopy, local: Mapping[int, str], head: int) -> list[Fault]:
    found: list[Fault] = []
    for seq in sorted(border.hashes):
        theirs = border.hashes[seq]
        mine = local.get(seq)
        if mine is None:
            kind = "truncated" if seq > head else "deleted"
            found.append(Fault(kind, seq, None, "the border holds this event, the log does not"))
        elif mine != theirs:
            found.append(Fault("diverged", seq, None, "chain hash differs from the border's copy"))
    if (
        border.head_seq is not None
        and border.head_seq > head
        and border.head_seq not in border.hashes
    ):
        found.append(Fault("truncated", border.head_seq, None, "the border's head is past the log"))
    return found
