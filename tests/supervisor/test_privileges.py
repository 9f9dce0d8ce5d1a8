"""PostgreSQL privileges of the station tables: the supervisor role reads
images and officers; a kiosk role reads no image, no officer record and no
other kiosk's commands, and writes only its own rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from kiosk.border.station_tables import (
    commands,
    officer_actions,
    officers,
    referral_images,
    referrals,
)
from kiosk.clock import FakeClock
from kiosk.supervisor.station import Station
from tests.supervisor.conftest import Lane, StationBorder

# Roles exist only on PostgreSQL: these tests run on that backend alone.
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("sborder", ["postgres"], indirect=True)]
AT = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


@pytest.fixture
def pg(sborder: StationBorder) -> StationBorder:
    assert sborder.backend == "postgres"
    return sborder


def _referral(kiosk: str) -> dict[str, object]:
    return {
        "referral_id": uuid.uuid4(),
        "kiosk_id": kiosk,
        "port": "CSX",
        "lane": 1,
        "direction": "entry",
        "referred_at": AT,
        "reasons": ["face_mismatch"],
        "watchlist": False,
        "details": {},
    }


def test_supervisor_reads_images_kiosks_cannot(
    pg: StationBorder, station: Station, clock: FakeClock, tmp_path: Path
) -> None:
    lane = Lane(tmp_path, pg.kiosk, "K1", clock)
    tx = lane.traveller(face_match=False)
    lane.cycle()
    station.sign_in("A1", "ada-secret-1")
    case = station.case(tx)
    assert case.chip_jpeg and case.live_jpeg  # the supervisor role reads both images
    for engine in (pg.kiosk2, pg.kiosk):  # another kiosk's images, or even its own
        with pytest.raises(ProgrammingError, match="permission denied"), engine.connect() as c:
            c.execute(select(referral_images.c.jpeg))


@pytest.mark.parametrize("table", [officers, officer_actions])
def test_kiosks_never_read_officer_records(pg: StationBorder, station: Station, table) -> None:  # type: ignore[no-untyped-def]
    station.sign_in("A1", "ada-secret-1")
    for engine in (pg.kiosk, pg.kiosk2):
        with pytest.raises(ProgrammingError, match="permission denied"), engine.connect() as c:
            c.execute(select(table))
    with pg.station.connect() as c:
        assert c.execute(select(officers.c.officer_id)).scalars().all()


def test_kiosk_writes_only_its_own_rows_and_reads_only_its_commands(
    pg: StationBorder, station: Station, clock: FakeClock, tmp_path: Path
) -> None:
    with pytest.raises(DBAPIError, match="row-level security"), pg.kiosk.begin() as c:
        c.execute(insert(referrals), _referral("K2"))  # K1 posing as K2
    with pytest.raises(DBAPIError, match="row-level security"), pg.kiosk.begin() as c:
        c.execute(
            insert(referral_images),
            {
                "referral_id": uuid.uuid4(),
                "kind": "live",
                "kiosk_id": "K2",
                "jpeg": b"x",
                "expires_at": AT + timedelta(hours=1),
            },
        )
    with pytest.raises(ProgrammingError, match="permission denied"), pg.kiosk.begin() as c:
        c.execute(
            insert(commands),
            {
                "command_id": uuid.uuid4(),
                "kiosk_id": "K1",
                "kind": "admit",
                "officer_id": "A1",
                "reason_code": "x",
                "reason_text": "",
                "issued_at": AT,
            },
        )
    with pytest.raises(ProgrammingError, match="permission denied"), pg.kiosk.connect() as c:
        c.execute(select(referrals.c.details))  # kiosks cannot read cases back
    for kiosk in ("K1", "K2"):
        Lane(tmp_path, pg.kiosk if kiosk == "K1" else pg.kiosk2, kiosk, clock).cycle()
    station.sign_in("S1", "sam-secret-3")
    station.lane_command("K1", "reset", "traveller_stuck")
    station.lane_command("K2", "reset", "traveller_stuck")
    with pg.kiosk.connect() as c:
        assert c.execute(select(commands.c.kiosk_id)).scalars().all() == ["K1"]
    with pg.kiosk2.connect() as c:
        assert c.execute(select(commands.c.kiosk_id)).scalars().all() == ["K2"]
        c.execute(text("UPDATE commands SET result = 'executed' WHERE kiosk_id = 'K1'"))
        c.commit()
    with pg.station.connect() as c:  # K2's update could not touch K1's command
        rows = dict(c.execute(select(commands.c.kiosk_id, commands.c.result)).all())
    assert rows == {"K1": None, "K2": None}
