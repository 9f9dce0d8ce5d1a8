"""The station's metrics (issue 23, item 5): open referrals, kiosks online, the
border's chain alerts and the server it reached, scraped over HTTP."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, insert

from kiosk.border.models import KioskAlert, KioskChainHead
from kiosk.clock import FakeClock
from kiosk.config import parse_config
from kiosk.runtime.metrics import MetricsServer
from kiosk.runtime.station_metrics import StationMetrics, start_station_metrics
from kiosk.supervisor.station import Station, open_referrals
from tests.kiosk.test_metrics import free_port, scrape, value
from tests.supervisor.conftest import Lane, StationBorder


def test_station_metrics_match_the_queue_and_the_lanes(
    station: Station, sborder: StationBorder, tmp_path: Path, clock: FakeClock
) -> None:
    k1 = Lane(tmp_path, sborder.kiosk, "K1", clock)
    k2 = Lane(tmp_path, sborder.kiosk2, "K2", clock)
    for lane in (k1, k2):
        lane.traveller(face_match=False)  # referred: a case for an officer
        lane.cycle()
    config = parse_config({"metrics": {"station_port": free_port()}})
    server = start_station_metrics(config, sborder.station, clock, station.settings)
    assert server is not None
    try:
        text, both = scrape(server.url)
        clock.advance(station.settings.offline_after_s + 5)
        k1.agent.run_once()  # K1 reports again; K2 has gone silent
        _, one = scrape(server.url)
    finally:
        server.close()
    assert value(both, "egate_station_border_up") == 1
    assert value(both, "egate_station_open_referrals", port="CSX") == 2
    assert len(open_referrals(sborder.owner)) == 2
    assert value(both, "egate_station_kiosks", port="CSX", state="online") == 2
    assert value(one, "egate_station_kiosks", port="CSX", state="online") == 1
    assert value(one, "egate_station_kiosks", port="CSX", state="offline") == 1
    assert value(one, "egate_station_kiosk_online", kiosk_id="K2", port="CSX") == 0
    assert value(one, "egate_station_kiosk_online", kiosk_id="K1", port="CSX") == 1
    # The station reaches the primary, never a standby.
    if sborder.backend == "postgres":
        assert value(both, "egate_border_in_recovery") == 0
        assert any(name == "egate_border_server" for name, _ in both)
    for secret in ("L898902C3", "ERIKSSON", "watchlist"):
        assert secret not in text


def test_chain_stopped_and_log_alerts_are_exposed_by_code(
    station: Station, sborder: StationBorder, tmp_path: Path, clock: FakeClock
) -> None:
    lane = Lane(tmp_path, sborder.kiosk, "K1", clock)
    lane.traveller()
    lane.cycle()
    with sborder.owner.begin() as c:
        c.execute(insert(KioskAlert).values(
            kiosk_id="K1", kind="fork", detail="two heads at seq 3", log_seq=3,
            raised_at=clock.now(),
        ))  # fmt: skip
        c.execute(
            insert(KioskChainHead).values(
                kiosk_id="K9", log_seq=3, updated_at=clock.now(), stopped_at=clock.now()
            )
        )
    server = MetricsServer(StationMetrics(sborder.station, clock, station.settings), "127.0.0.1", 0)
    try:
        _, samples = scrape(server.url)
    finally:
        server.close()
    assert value(samples, "egate_station_kiosk_alerts", kiosk_id="K1", alert="log_forked") == 1
    assert value(samples, "egate_station_chain_stopped", kiosk_id="K9") == 1


def test_a_new_primary_counts_as_a_failover(
    station: Station, sborder: StationBorder, clock: FakeClock
) -> None:
    servers = iter([("db1:5432", False), ("db1:5432", False), ("db2:5432", True)])

    def identity(_c: Connection) -> tuple[str, bool]:
        return next(servers)

    metrics = StationMetrics(sborder.station, clock, station.settings, identity)

    def scraped() -> dict[str, float]:
        return {
            s.name + str(sorted(s.labels.items())): s.value
            for m in metrics.collect()
            for s in m.samples
        }

    assert scraped()["egate_border_failovers_total[]"] == 0
    assert scraped()["egate_border_failovers_total[]"] == 0  # same server: no failover
    last = scraped()
    assert last["egate_border_failovers_total[]"] == 1
    assert last["egate_border_server[('server', 'db2:5432')]"] == 1
    assert last["egate_border_in_recovery[]"] == 1


def test_an_unreachable_border_still_answers_the_scrape(tmp_path: Path, clock: FakeClock) -> None:
    from sqlalchemy import create_engine

    broken = create_engine(f"sqlite:///{tmp_path}/missing/none.sqlite")
    metrics = StationMetrics(broken, clock)
    samples = {s.name: s.value for m in metrics.collect() for s in m.samples}
    assert samples["egate_station_border_up"] == 0
    assert "egate_station_open_referrals" not in samples


def test_an_empty_port_shows_zeros_not_nothing(sborder: StationBorder, clock: FakeClock) -> None:
    metrics = StationMetrics(sborder.station, clock, ports=("CSX",))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for m in metrics.collect() for s in m.samples
    }  # fmt: skip
    assert samples[("egate_station_open_referrals", (("port", "CSX"),))] == 0
    assert samples[("egate_station_kiosks", (("port", "CSX"), ("state", "online")))] == 0
    assert samples[("egate_station_kiosks", (("port", "CSX"), ("state", "offline")))] == 0
