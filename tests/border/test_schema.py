"""The border schema: migrations match the models on both backends."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    inspect,
    select,
)
from sqlalchemy.exc import StatementError

from kiosk.border import station_tables
from kiosk.border.database import VERSION_TABLE, current_revision, head_revision, migrate_border
from kiosk.border.models import AdvancePassengerInfo, BorderBase, BorderReferenceItem
from kiosk.border.types import UtcDateTime
from tests.border.conftest import Border
from tests.schema_diff import schema_diff


def _border_metadata() -> MetaData:
    """Every table the border migrations build: the ORM models and the station's tables."""
    combined = MetaData()
    for metadata in (BorderBase.metadata, station_tables.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def _partitioned_metadata() -> MetaData:
    """The PostgreSQL border after b0008p: its partitioned tables cannot hold a
    unique index without the partition key, so ids are unique by trigger and
    indexed plainly; officer_log_anchor keeps the last retired officer link."""
    combined = _border_metadata()
    events, actions = combined.tables["events"], combined.tables["officer_actions"]
    for index in list(events.indexes):
        if index.name == "ix_events_kiosk_seq":
            events.indexes.remove(index)
    Index("ix_events_kiosk_seq", events.c.kiosk_id, events.c.log_seq)
    actions.c.action_id.unique = False
    for constraint in list(actions.constraints):
        if isinstance(constraint, UniqueConstraint):
            actions.constraints.remove(constraint)
    Index("ix_officer_actions_action", actions.c.action_id)
    Index("ix_referrals_id", combined.tables["referrals"].c.referral_id)
    Table(
        "officer_log_anchor",
        combined,
        Column("id", Integer, primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("chain_hash", String(64), nullable=False),
        Column("retired_at", UtcDateTime, nullable=False),
    )
    return combined


def _is_partition(op: object) -> bool:
    """A diff entry about one partition (the parent table is compared instead)."""
    items = op if isinstance(op, tuple) else (op,)
    for item in items:
        table = getattr(item, "table", item)
        name = getattr(table, "name", None)
        if isinstance(name, str) and (PARTITION.search(name) or name.endswith("_default")):
            return True
    return False


PARTITION = re.compile(r"_p\d{4}_\d{2}$")


def test_migrations_match_the_models(border: Border) -> None:
    if border.backend == "sqlite":
        assert schema_diff(border.owner, _border_metadata(), VERSION_TABLE) == []
    else:
        diff = schema_diff(border.owner, _partitioned_metadata(), VERSION_TABLE)
        assert [op for op in diff if not _is_partition(op)] == []
    assert "entry_records" in inspect(border.owner).get_view_names()
    assert current_revision(border.owner) == head_revision()
    assert migrate_border(border.owner) == head_revision()  # idempotent


def test_times_are_instants_on_every_backend(border: Border) -> None:
    beijing = timezone(timedelta(hours=8))
    departure = datetime(2026, 3, 5, 20, 0, tzinfo=beijing)
    with border.owner.begin() as c:
        c.execute(
            AdvancePassengerInfo.__table__.insert(),
            {"document_number": "X1", "issuing_state": "USA", "flight_date": date(2026, 3, 1),
             "departure_time": departure, "confirmed": True},
        )  # fmt: skip
        stored = c.execute(select(AdvancePassengerInfo.departure_time)).scalar_one()
    assert stored == departure and stored.tzinfo == UTC


def test_naive_times_are_refused(border: Border) -> None:
    with pytest.raises(StatementError, match="no UTC offset"), border.owner.begin() as c:
        c.execute(
            BorderReferenceItem.__table__.insert(),
            {"kind": "x", "key": "y", "payload": b"", "sha256": "0", "provenance": "t",
             "published_at": datetime(2026, 3, 1)},
        )  # fmt: skip
