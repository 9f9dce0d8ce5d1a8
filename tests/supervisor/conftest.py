"""Supervisor-station fixtures: a border database (the SQLite stand-in, or the
real PostgreSQL of tests/border/conftest.py), a FakeClock station with cheap
argon2id parameters, and a fake-device lane with its kiosk agent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from devices.icao9303.lds.dg2 import DataGroup2, image_dimensions
from devices.simulated.factory import default_face_jpeg
from kiosk.border.database import create_border_engine, migrate_border
from kiosk.clock import FakeClock
from kiosk.lane.states import LaneState
from kiosk.supervisor.agent import KioskAgent
from kiosk.supervisor.officer_ops import provision_command_key
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.secrets import CHEAP_PARAMS
from kiosk.supervisor.settings import AgentSettings, StationSettings
from kiosk.supervisor.station import Station
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
CHEAP = CHEAP_PARAMS
STATION_TABLES = (
    "officers, kiosk_status, referrals, referral_images, officer_actions, commands, "
    "officer_sessions, kiosk_command_keys"
)
# Command keys the border issued to the test kiosks: border database -> kiosk -> key.
_BY_URL: dict[str, dict[str, bytes]] = {}


def enrol(owner: Engine, kiosk_id: str) -> bytes:
    """Provision `kiosk_id`'s command key with the border's owner (egate officers
    kiosk-key) and remember it for the test lanes on any engine of that border."""
    key = provision_command_key(owner, kiosk_id, FakeClock())
    _BY_URL.setdefault(_url_key(owner), {})[kiosk_id] = key
    return key


def _url_key(engine: Engine) -> str:
    return f"{engine.url.host}:{engine.url.port}/{engine.url.database}"


def kiosk_key(engine: Engine, kiosk_id: str) -> bytes | None:
    return _BY_URL.get(_url_key(engine), {}).get(kiosk_id)


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
        enrol(owner, "K1")
        enrol(owner, "K2")
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
    enrol(b.owner, "K1")
    enrol(b.owner, "K2")
    with b.owner.begin() as c:  # the limits these tests expect (StationSettings below)
        c.execute(text("UPDATE officer_policy SET max_failed = 3, lockout_s = 600, "
                       "session_idle_s = 120"))  # fmt: skip
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
        key = kiosk_key(border, kiosk_id)
        if key is None and border.dialect.name == "sqlite":
            key = enrol(border, kiosk_id)
        self.agent = KioskAgent(
            self.rig.lane, border, clock, AgentSettings(image_retention_h=1), command_key=key
        )

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
    # Starts at the real time: on PostgreSQL the border's functions stamp officer
    # actions with the server's clock, and a case history mixes both.
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def station(sborder: StationBorder, clock: FakeClock) -> Station:
    settings = StationSettings(
        max_failed_sign_ins=3, lockout_s=600, idle_sign_out_s=120, offline_after_s=15
    )
    admin = OfficerDirectory(sborder.owner, clock, settings, CHEAP)
    admin.add("A1", "Ada Officer", "officer", "ada-secret-1")
    admin.add("B2", "Ben Officer", "officer", "ben-secret-2")
    admin.add("S1", "Sam Supervisor", "supervisor", "sam-secret-3")
    admin.add("M1", "Max Maintenance", "maintenance", "max-secret-4", "CSX")
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


@pytest.fixture(autouse=True)
def english_station() -> Iterator[None]:
    """The station in English unless a test says otherwise: the translator is
    application-wide, and a traveller window earlier in the same process (its idle
    language is zh_CN) leaves Chinese installed for every context."""
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is not None:
        from ui.i18n import Translations

        Translations().use("en")
    yield
