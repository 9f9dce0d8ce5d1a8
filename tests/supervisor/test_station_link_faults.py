"""Issue 23 item 3: the station tells the truth about a kiosk whose link to the border
is cut (the tests' own fault proxy on loopback between the kiosk and PostgreSQL).

While the link is up the kiosk is online; once it has been silent longer than
offline_after_s the station shows it offline, whatever the kiosk's last status row
said; the lane keeps working meanwhile (a referral made during the cut); when the
link returns the kiosk's next cycle reconnects on its own, the station shows the
lane's real state again and the referral made offline reaches the queue once.
Every agent cycle on the cut link ends within its bounds. Time is the shared
FakeClock (the agent stamps heartbeats with it, the station judges silence by it):
no verdict depends on how busy the machine is.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.border.database import BorderTimeouts, create_border_engine
from kiosk.clock import FakeClock
from kiosk.supervisor.agent import KioskAgent
from kiosk.supervisor.officers import OfficerDirectory
from kiosk.supervisor.settings import StationSettings
from kiosk.supervisor.station import LaneView, Station
from tests.border.conftest import KIOSK1_ROLE, ROLES, PgBorder
from tests.border.fault_proxy import fault_proxy
from tests.supervisor.conftest import CHEAP, STATION_TABLES, Lane, enrol

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FAST = BorderTimeouts(connect_s=2, deadline_s=3, keepalive_idle_s=2, keepalive_interval_s=1,
                      keepalive_count=2, tcp_user_timeout_ms=3000)  # fmt: skip
CYCLE_BOUND_S = 2 * FAST.deadline_s + FAST.connect_s + 10
OFFLINE_AFTER_S = 15.0


def bounded(agent: KioskAgent) -> str | None:
    """One agent cycle on a thread: a hang fails here, not at the suite's timeout.
    Returns the cycle's link error (the agent logs it and retries next cycle)."""
    worker = threading.Thread(target=agent.run_once, daemon=True)
    worker.start()
    worker.join(CYCLE_BOUND_S)
    assert not worker.is_alive(), f"an agent cycle blocked for more than {CYCLE_BOUND_S} s"
    return agent.last_error


def k1(station: Station) -> LaneView:
    [view] = [v for v in station.lanes() if v.kiosk_id == "K1"]
    return view


def test_a_cut_off_kiosk_shows_offline_then_its_true_state_when_the_link_returns(
    pg_border: PgBorder, tmp_path: Path
) -> None:
    clock = FakeClock()
    owner = pg_border.engine_as(None)
    enrol(owner, "K1")
    settings = StationSettings(offline_after_s=OFFLINE_AFTER_S)
    OfficerDirectory(owner, clock, settings, CHEAP).add("A1", "Ada Officer", "officer",
                                                        "ada-secret-1")  # fmt: skip
    station_engine = pg_border.engine_as(ROLES.supervisor)
    station = Station(station_engine, clock, settings,
                      OfficerDirectory(station_engine, clock, settings, CHEAP),
                      image_retention_h=1)  # fmt: skip
    station.sign_in("A1", "ada-secret-1")
    host, port = pg_border.url.host or "127.0.0.1", pg_border.url.port or 5432
    with fault_proxy(host, port) as proxy:
        kiosk = create_border_engine(
            f"postgresql://{KIOSK1_ROLE}@127.0.0.1:{proxy.port}/{pg_border.name}", FAST
        )
        lane = Lane(tmp_path, kiosk, "K1", clock)
        try:
            assert bounded(lane.agent) is None
            view = k1(station)
            assert view.state != "offline" and view.step == "idle"

            proxy.set("cut")
            # The traveller does not notice: the lane refers on its own.
            tx = lane.traveller(face_match=False)
            assert lane.rig.lane.last_snapshot.state.value == "referred"
            clock.advance(OFFLINE_AFTER_S / 2)
            assert bounded(lane.agent) is not None  # the cut reached the agent
            assert k1(station).state != "offline"  # silent for less than the limit: not yet
            clock.advance(OFFLINE_AFTER_S)
            assert bounded(lane.agent) is not None
            assert k1(station).state == "offline"
            assert tx not in {str(r.referral_id) for r in station.queue()}

            proxy.set("pass")
            assert bounded(lane.agent) is None  # reconnects on its own
            view = k1(station)
            assert view.state != "offline" and view.step == "referred"
            assert view.silent_s == 0.0
            queued = [str(r.referral_id) for r in station.queue()]
            assert queued.count(tx) == 1
            assert bounded(lane.agent) is None  # published once, not again
            assert [str(r.referral_id) for r in station.queue()].count(tx) == 1
        finally:
            kiosk.dispose()
            station_engine.dispose()
            with owner.begin() as c:  # the session's border database serves the next tests
                c.execute(text(f"TRUNCATE {STATION_TABLES} RESTART IDENTITY"))
            owner.dispose()
