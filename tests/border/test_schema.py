"""The border schema: migrations match the models on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import MetaData, inspect, select
from sqlalchemy.exc import StatementError

from kiosk.border import station_tables
from kiosk.border.database import VERSION_TABLE, current_revision, head_revision, migrate_border
from kiosk.border.models import AdvancePassengerInfo, BorderBase, BorderReferenceItem
from tests.border.conftest import Border
from tests.schema_diff import schema_diff


def _border_metadata() -> MetaData:
    """Every table the border migrations build: the ORM models and the station's tables."""
    combined = MetaData()
    for metadata in (BorderBase.metadata, station_tables.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def test_migrations_match_the_models(border: Border) -> None:
    assert schema_diff(border.owner, _border_metadata(), VERSION_TABLE) == []
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
