"""The push encodes with one reused C encoder (issue 11): the canonical form must
stay byte for byte what the log hashed at append, and the PostgreSQL JSON row
must carry the same values as the row dict the SQLite stand-in takes."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kiosk.border.sync.mapping import EventRejected, border_json, border_row
from kiosk.store.event_log import RECORD_FIELDS, EventRecord, utc_iso
from tests.border.conftest import make_record


def reference_canonical(record: EventRecord) -> bytes:
    """The canonical form as first specified: one json.dumps of the record."""
    body: dict[str, Any] = {name: getattr(record, name) for name in RECORD_FIELDS}
    body["started_at"] = utc_iso(record.started_at)
    body["finished_at"] = utc_iso(record.finished_at)
    body["reasons"] = list(record.reasons)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def varied_records(count: int) -> list[EventRecord]:
    rnd = random.Random(11)
    out = []
    for i in range(count):
        zone = timezone(timedelta(minutes=15 * rnd.randint(-48, 56)))
        at = datetime(2026, 3, 1, tzinfo=zone) + timedelta(microseconds=rnd.randint(0, 10**11))
        stages: Any = {"z": at.isoformat(), "a": [1, 2.5, None, True], "\u00fc": {"b": -0.0}}
        out.append(
            replace(
                make_record(),
                lane=rnd.randint(0, 40),
                started_at=at.replace(tzinfo=None) if i % 3 == 0 else at,  # naive = UTC
                finished_at=at,
                stages=stages,
                decision=None if i % 2 else "admit",
                reasons=("x", 'quote"d', "line\nbreak") if i % 4 else (),
                document={"document_number": f"D{i}<<", "surname": "M\u00dcLLER \u2603",
                          "when": datetime(2026, 1, 1)},  # default=str
                checks={"score": rnd.random(), "big": 1e300, "n": -(2**63),
                        **({"permitted_until": at.isoformat()} if i % 2 else {})},
                transaction_ms=None if i % 5 == 0 else rnd.random() * 1e4,
                error="err\u0000" if i % 7 == 0 else None,
            )
        )  # fmt: skip
    return out


def test_the_canonical_form_is_unchanged() -> None:
    for record in varied_records(500):
        assert record.canonical() == reference_canonical(record)


def _values(record: EventRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in RECORD_FIELDS}
    values["chain_hash"] = "c" * 64
    return values


def test_the_json_row_carries_the_values_of_the_row_dict() -> None:
    for record in varied_records(200):
        values = _values(record)
        uid, text = border_json(values, "K1", 7, "p" * 64)
        row = border_row(values, "K1")
        expected = json.loads(json.dumps(row, default=str))
        expected.update(
            event_id=str(row["event_id"]),
            started_at=row["started_at"].isoformat(),
            finished_at=row["finished_at"].isoformat(),
            permitted_until=row["permitted_until"] and row["permitted_until"].isoformat(),
            log_seq=7,
            prev_hash="p" * 64,
        )
        assert uid == row["event_id"]
        assert json.loads(text) == expected


def test_the_json_row_refuses_what_the_row_dict_refuses() -> None:
    for bad in (make_record("K2"), make_record(event_id="not-a-uuid")):
        values = _values(bad)
        with pytest.raises(EventRejected):
            border_row(values, "K1")
        with pytest.raises(EventRejected):
            border_json(values, "K1", 1, "0" * 64)
    assert str(uuid.UUID(make_record().event_id))  # a good one passes
    values = _values(make_record())
    assert border_json(values, "K1", 1, "0" * 64)[0]
