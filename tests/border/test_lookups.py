"""BorderApiSource: journeys from advance passenger information and entry
records for exit checks, in the policy case format, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kiosk.border.database import create_border_engine
from kiosk.border.lookups import BorderApiSource
from kiosk.border.publish import ApiRecord, add_api
from kiosk.border.sync import BorderSync
from policy.case import parse_case
from tests.border.conftest import AT, Border, append, make_record

BEIJING = timezone(timedelta(hours=8))
DAY = date(2026, 3, 1)


def case(**extra: Any) -> dict[str, Any]:
    return {
        "now": "2026-03-01T10:30:00+08:00",
        "port": "CSX",
        "direction": "entry",
        "document": {"document_code": "P", "issuing_state": "USA", "nationality": "USA",
                     "document_number": "X1234567", "birth_date": "1990-01-31", "sex": "F",
                     "expiry_date": "2031-01-01"},
        "checks": {"document_authentic": True, "chip_genuine": True, "face_match": True,
                   "liveness": True, "watchlist_hit": False},
        **extra,
    }  # fmt: skip


def api(engine: Engine, **kw: Any) -> None:
    fields: dict[str, Any] = {
        "document_number": "X1234567", "issuing_state": "USA", "flight_date": DAY,
        "arrived_from": "JPN", "flight": "NH921", "destination": "KOR",
        "departure_time": datetime(2026, 3, 5, 20, 0, tzinfo=BEIJING),
        "departure_port": "CSX", "onward_flight": "KE806", "confirmed": True,
    }  # fmt: skip
    fields.update(kw)
    add_api(engine, ApiRecord(**fields))


def test_journey_from_api_is_a_valid_policy_journey(border: Border) -> None:
    api(border.owner)
    source = BorderApiSource(border.kiosk, zone=BEIJING)
    journey = source.lookup("X1234567<<", "usa", DAY)
    assert journey == {
        "arrived_from": "JPN",
        "onward": {"destination": "KOR", "departure_time": "2026-03-05T20:00:00+08:00",
                   "departure_port": "CSX", "confirmed": True, "flight": "KE806",
                   "source": "advance_passenger_info"},
    }  # fmt: skip
    assert source.status.state == "found"
    parsed = parse_case(case(journey=journey))
    assert parsed.journey.onward is not None
    assert parsed.journey.onward.departure_time == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def test_journey_takes_the_latest_row_of_the_day_only(border: Border) -> None:
    api(border.owner, destination="KOR")
    api(border.owner, destination="SGP", confirmed=False)  # a later correction
    api(border.owner, flight_date=DAY + timedelta(days=1), destination="THA")
    source = BorderApiSource(border.kiosk)
    journey = source.lookup("X1234567", "USA", DAY)
    assert journey is not None
    assert (journey["onward"]["destination"], journey["onward"]["confirmed"]) == ("SGP", False)
    assert source.lookup("X1234567", "USA", DAY - timedelta(days=1)) is None
    assert source.status.state == "not_found"
    assert source.lookup("X1234567", "GBR", DAY) is None


def test_arrival_without_onward_journey(border: Border) -> None:
    add_api(border.owner, ApiRecord("X1234567", "USA", DAY, "JPN"))
    journey = BorderApiSource(border.kiosk).lookup("X1234567", "USA", DAY)
    assert journey == {"arrived_from": "JPN", "onward": None}
    assert parse_case(case(journey=journey)).journey.onward is None


def test_lane_callable_uses_the_local_date(border: Border) -> None:
    api(border.owner)

    class Facts:
        document_number = "X1234567"
        issuing_state = "USA"

    source = BorderApiSource(border.kiosk, zone=BEIJING)
    # 2026-02-28 17:00 UTC is already 1 March in Changsha.
    assert source(Facts(), datetime(2026, 2, 28, 17, 0, tzinfo=UTC)) is not None
    assert source(Facts(), datetime(2026, 2, 28, 15, 0, tzinfo=UTC)) is None


def test_entry_record_is_the_latest_admitted_entry(border: Border, local: Engine) -> None:
    append(
        local,
        make_record(finished_at=AT, permitted_until="2026-03-04T23:59:59+08:00",
                    basis="transit_72h"),
        # The traveller left in between (a second entry without an exit
        # between is an entry conflict, tests/border/test_integrity.py).
        make_record(finished_at=AT + timedelta(days=2), direction="exit"),
        make_record(finished_at=AT + timedelta(days=20),
                    permitted_until="2026-03-31T23:59:59+08:00"),
        # Neither a later referral nor an exit replaces the admitted entry.
        make_record(finished_at=AT + timedelta(days=21), outcome="referred"),
        make_record(finished_at=AT + timedelta(days=22), direction="exit"),
        make_record(document_number="OTHER1", finished_at=AT + timedelta(days=30)),
    )  # fmt: skip
    assert BorderSync(local, border.kiosk, "K1").push().pushed == 6
    assert border.kiosk2 is not None
    source = BorderApiSource(border.kiosk2, zone=BEIJING)  # another kiosk asks
    record = source.entry_record("X1234567", "USA")
    assert record == {
        "entry_time": "2026-03-21T10:30:00+08:00",
        "port": "CSX",
        "basis": "transit_240h",
        "permitted_until": "2026-03-31T23:59:59+08:00",
    }
    parsed = parse_case(case(direction="exit", entry_record=record))
    assert parsed.entry_record is not None and parsed.entry_record.basis == "transit_240h"
    assert source.entry_record("NEVER1", "USA") is None
    assert source.status.state == "not_found"


def test_entry_without_a_stay_limit(border: Border, local: Engine) -> None:
    append(local, make_record(basis="visa", permitted_until=None))
    BorderSync(local, border.kiosk, "K1").push()
    record = BorderApiSource(border.kiosk).entry_record("X1234567", "USA")
    assert record is not None and record["permitted_until"] is None
    assert record["basis"] == "visa"


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_unreachable_border_gives_none_and_says_so(backend: str, tmp_path: Path) -> None:
    # A closed port; a "database file" that is a directory.
    url = (
        "postgresql+psycopg://nobody@127.0.0.1:1/none"
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}"
    )
    source = BorderApiSource(create_border_engine(url))
    assert source.lookup("X1234567", "USA", DAY) is None
    assert source.status.state == "unreachable" and source.status.detail
    assert source.entry_record("X1234567", "USA") is None
    assert source.status.state == "unreachable"
    assert source.status.what == "entry_record"


def test_outage_mid_session(border: Border) -> None:
    api(border.owner)
    source = BorderApiSource(border.kiosk)
    assert source.lookup("X1234567", "USA", DAY) is not None
    with border.outage():
        assert source.lookup("X1234567", "USA", DAY) is None
        assert source.status.state in ("unreachable", "error")
    assert source.lookup("X1234567", "USA", DAY) is not None


def test_lookup_ids_are_not_confused_by_event_ids(border: Border, local: Engine) -> None:
    event_id = str(uuid.uuid4())
    append(local, make_record(event_id=event_id))
    BorderSync(local, border.kiosk, "K1").push()
    assert BorderApiSource(border.kiosk).entry_record(event_id, "USA") is None
