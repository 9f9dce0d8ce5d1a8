"""Supervisor-station fixtures: a border database (the SQLite stand-in, or the
real PostgreSQL of tests/border/conftest.py), a FakeClock station with cheap
argon2id parameters, and a fake-device lane with its kiosk agent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, text

from devices.icao9303.lds.dg2 import DataGroup2, image_dimensions
from devices.simulated.factory import default_face_jpeg
from kiosk.border.database import create_border_engine, migrate_border
from kiosk.clock import FakeClock
from kiosk.supervisor.agent import KioskAgent
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.settings import AgentSettings, StationSettings
from kiosk.supervisor.station import Station
from kiosk.workflow.states import LaneState
from tests.border.conftest import (  # noqa: F401  (fixtures)
    KIOSK1_ROLE,
    KIOSK2_ROLE,
    ROLES,
    PgBorder,
    pg_border,
    pg_database,
    pg_server,
)
from tests.workflow.fakes import Rig

# Real argon2id, with parameters cheap enough for many sign-ins per test.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
STATION_TABLES = "officers, kiosk_status, referrals, referral_images, officer_actions, commands"


@dataclass
class StationBorder:
    backend: str
    owner: Engine  # creates officers (admin work)
    station: Engine  # the supervisor role on PostgreSQL
    kiosk: Engine  # kiosk K1
    kiosk2: Engine  # kiosk K2


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sborder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StationBorder]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/border.sqlite"
        owner = create_border_engine(url)
        migrate_border(owner)
        b = StationBorder("sqlite", owner, owner, owner, owner)
        yield b
        owner.dispose()
        return
    pg: PgBorder = request.getfixturevalue("pg_border")
    b = StationBorder(
        "postgres",
        pg.engine_as(None),
        pg.engine_as(ROLES.supervisor),
        pg.engine_as(KIOSK1_ROLE),
        pg.engine_as(KIOSK2_ROLE),
    )
    yield b
    with b.owner.begin() as c:
        c.execute(text(f"TRUNCATE {STATION_TABLES} RESTART IDENTITY"))
    for e in (b.owner, b.station, b.kiosk, b.kiosk2):
        e.dispose()


def dg2_bytes() -> bytes:
    jpeg = default_face_jpeg()
    size = image_dimensions(jpeg)
    assert size is not None
    return DataGroup2.build(jpeg, "jpeg", size[0], size[1]).encode()


class Lane:
    """A fake-device lane (tests.workflow.fakes.Rig) with its kiosk agent, on the
    station's FakeClock."""

    def __init__(self, tmp_path: Path, border: Engine, kiosk_id: str, clock: FakeClock) -> None:
        (tmp_path / kiosk_id).mkdir()
        self.rig = Rig(
            tmp_path / kiosk_id,
            kiosk={"id": kiosk_id, "lane": int(kiosk_id[-1])},
            timeouts={"result_display_s": 600.0},
        )
        self.rig.clock = clock
        self.rig.lane.clock = clock
        self.rig.face.clock = clock
        self.rig.reader.clock = clock
        chip = dg2_bytes()
        real_read = self.rig.reader.read

        def read(key: object) -> object:
            result = real_read(key)  # type: ignore[arg-type]
            result.files["DG2"] = chip
            return result

        self.rig.reader.read = read  # type: ignore[method-assign,assignment]
        self.agent = KioskAgent(self.rig.lane, border, clock, AgentSettings(image_retention_h=1))

    def traveller(self, face_match: bool = True, watchlist: bool = False) -> str:
        """One traveller through the lane; returns the transaction id."""
        self.rig.face.match = face_match
        self.rig.watch = watchlist
        self.rig.reader.place()
        self.rig.lane.run_pending()
        tx = self.rig.lane.last_snapshot.transaction_id
        assert tx is not None
        if self.rig.lane.state is LaneState.RETURNING_DOCUMENT:
            self.rig.reader.remove()  # "take your passport": then the gate opens
            self.rig.lane.run_pending()
        return tx

    def cycle(self) -> None:
        """Agent publishes, lane runs what it pulled, agent acknowledges."""
        self.agent.run_once()
        self.rig.lane.run_pending()
        self.agent.run_once()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def station(sborder: StationBorder, clock: FakeClock) -> Station:
    settings = StationSettings(
        max_failed_sign_ins=3, lockout_s=600, idle_sign_out_s=120, offline_after_s=15
    )
    admin = OfficerDirectory(sborder.owner, clock, settings, CHEAP)
    admin.add("A1", "Ada Officer", "officer", "1111")
    admin.add("B2", "Ben Officer", "officer", "2222")
    admin.add("S1", "Sam Supervisor", "supervisor", "3333")
    admin.add("M1", "Max Maintenance", "maintenance", "4444")
    directory = OfficerDirectory(sborder.station, clock, settings, CHEAP)
    return Station(sborder.station, clock, settings, directory, image_retention_h=1)


@pytest.fixture(autouse=True)
def _collect_qt_garbage() -> Iterator[None]:
    """Collect each test's Qt wrappers at its own end, while their C++ objects still
    exist: left to a later collection, PySide6 6.12 crashed in the middle of the next
    test module (a segmentation fault during garbage collection)."""
    yield
    import gc

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.processEvents()
    gc.collect()
