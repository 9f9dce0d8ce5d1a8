"""LISTEN/NOTIFY wake-ups on PostgreSQL; plain polling on the SQLite stand-in."""

from __future__ import annotations

from pathlib import Path

from kiosk.clock import FakeClock
from kiosk.supervisor.notify import COMMAND_CHANNEL, STATION_CHANNEL, ChangeWaiter
from kiosk.supervisor.station import Station
from tests.supervisor.conftest import Lane, StationBorder


def test_changes_wake_the_station_and_commands_wake_the_kiosk(
    sborder: StationBorder, station: Station, clock: FakeClock, tmp_path: Path
) -> None:
    station_waiter = ChangeWaiter(sborder.station, STATION_CHANNEL)
    kiosk_waiter = ChangeWaiter(sborder.kiosk, COMMAND_CHANNEL)
    try:
        assert not station_waiter.wait(0.05) and not kiosk_waiter.wait(0.05)
        postgres = sborder.backend == "postgres"
        assert station_waiter.listening is postgres and kiosk_waiter.listening is postgres
        patience = 5.0 if postgres else 0.05  # SQLite: nothing ever wakes a waiter
        lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
        lane.agent.run_once()  # the kiosk's first status row
        assert station_waiter.wait(patience) is postgres
        station.sign_in("S1", "sam-secret-3")
        station.lane_command("K1", "reset", "traveller_stuck")
        assert kiosk_waiter.wait(patience) is postgres
    finally:
        station_waiter.close()
        kiosk_waiter.close()
