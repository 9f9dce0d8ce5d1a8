"""The supervisor station's Prometheus metrics (docs/metrics.md): the port as the
border database sees it, read at each scrape.

Open referrals and kiosks online are what an officer's overview shows; the chain
and log alerts are the border's (issue 19); the border server the station is
connected to, and whether it is a standby, tell a failover. Labels: port, kiosk
id and alert codes only; never a traveller's data, and no watchlist flag.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.models import KioskAlert, KioskChainHead, KioskLog
from kiosk.border.station_tables import kiosk_status, referrals
from kiosk.clock import Clock, as_utc
from kiosk.config import Config
from kiosk.runtime.metrics import MetricsServer, serve
from kiosk.supervisor.reasons import border_alert_code
from kiosk.supervisor.settings import StationSettings
from kiosk.supervisor.station import OPEN

log = logging.getLogger(__name__)

ServerIdentity = Callable[[Connection], tuple[str, bool] | None]


def postgres_identity(c: Connection) -> tuple[str, bool] | None:
    """(address:port of the server this connection reached, whether it is a standby);
    None on a database that is not PostgreSQL (the SQLite stand-in has no failover)."""
    if c.dialect.name != "postgresql":
        return None
    row = c.execute(
        text(
            "SELECT coalesce(host(inet_server_addr()), 'local') || ':' || "
            "coalesce(inet_server_port()::text, current_setting('port')), pg_is_in_recovery()"
        )
    ).one()
    return str(row[0]), bool(row[1])


class StationMetrics(Collector):
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settings: StationSettings | None = None,
        identity: ServerIdentity = postgres_identity,
        ports: tuple[str, ...] = (),
    ) -> None:
        self.engine = engine
        # Shown at 0 when nothing is there (a dashboard says 0, not "no data").
        self.ports = ports
        self.clock = clock
        self.settings = settings or StationSettings()
        self.identity = identity
        self._server: str | None = None
        self._lock = threading.Lock()
        self.failovers = Counter(
            "egate_border_failovers",
            "Times the station found the border primary on another server than before",
            registry=None,
        )

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            try:
                with self.engine.connect() as c:
                    families = list(self._read(c))
                up = 1.0
            except SQLAlchemyError as exc:  # the scrape still answers, and says so
                log.warning("station metrics: border database unreachable: %s", exc)
                families, up = [], 0.0
        yield GaugeMetricFamily(
            "egate_station_border_up", "The border database answered the station", value=up
        )
        yield from families
        yield from self.failovers.collect()

    def _read(self, c: Connection) -> Iterable[Metric]:
        now = as_utc(self.clock.now())
        open_by_port = GaugeMetricFamily(
            "egate_station_open_referrals", "Referrals waiting for an officer", labels=["port"]
        )
        waiting = dict.fromkeys(self.ports, 0)
        for port, count in c.execute(
            select(referrals.c.port, func.count())
            .where(referrals.c.status.in_(OPEN))
            .group_by(referrals.c.port)
        ):
            waiting[port] = int(count)
        for port, count in sorted(waiting.items()):
            open_by_port.add_metric([port], float(count))
        yield open_by_port

        online = GaugeMetricFamily(
            "egate_station_kiosk_online",
            "1 while the kiosk's agent reported within offline_after_s",
            labels=["kiosk_id", "port"],
        )
        pending = GaugeMetricFamily(
            "egate_station_kiosk_pending_events",
            "Events the kiosk last reported waiting in its outbox", labels=["kiosk_id", "port"],
        )  # fmt: skip
        totals: dict[str, list[int]] = {port: [0, 0] for port in self.ports}
        for r in c.execute(
            select(
                kiosk_status.c.kiosk_id, kiosk_status.c.port,
                kiosk_status.c.heartbeat_at, kiosk_status.c.pending_events,
            ).order_by(kiosk_status.c.kiosk_id)
        ):  # fmt: skip
            silent = (now - as_utc(r.heartbeat_at)).total_seconds()
            up = silent <= self.settings.offline_after_s
            online.add_metric([r.kiosk_id, r.port], 1.0 if up else 0.0)
            pending.add_metric([r.kiosk_id, r.port], float(r.pending_events))
            counts = totals.setdefault(r.port, [0, 0])
            counts[0 if up else 1] += 1
        kiosks = GaugeMetricFamily(
            "egate_station_kiosks", "Kiosks known to the border, online or offline",
            labels=["port", "state"],
        )  # fmt: skip
        for port, (up_count, down_count) in sorted(totals.items()):
            kiosks.add_metric([port, "online"], float(up_count))
            kiosks.add_metric([port, "offline"], float(down_count))
        yield online
        yield pending
        yield kiosks

        stopped = GaugeMetricFamily(
            "egate_station_chain_stopped",
            "1 while the border holds a kiosk's chain stopped (an event did not continue it)",
            labels=["kiosk_id"],
        )
        for (kiosk_id,) in c.execute(
            select(KioskChainHead.kiosk_id).where(KioskChainHead.stopped_at.is_not(None))
        ):
            stopped.add_metric([kiosk_id], 1.0)
        yield stopped
        held = GaugeMetricFamily(
            "egate_station_kiosk_held",
            "1 while the border holds a kiosk's log (it takes no events until released)",
            labels=["kiosk_id"],
        )
        for (kiosk_id,) in c.execute(
            select(KioskLog.kiosk_id).where(KioskLog.held_reason.is_not(None))
        ):
            held.add_metric([kiosk_id], 1.0)
        yield held
        alerts = GaugeMetricFamily(
            "egate_station_kiosk_alerts",
            "The border's unacknowledged alerts about kiosk logs, by kiosk and alert code",
            labels=["kiosk_id", "alert"],
        )
        counted: dict[tuple[str, str], int] = {}
        for kiosk_id, kind in c.execute(
            select(KioskAlert.kiosk_id, KioskAlert.kind).where(KioskAlert.acknowledged_at.is_(None))
        ):
            key = (kiosk_id, border_alert_code(kind))
            counted[key] = counted.get(key, 0) + 1
        for (kiosk_id, code), count in sorted(counted.items()):
            alerts.add_metric([kiosk_id, code], float(count))
        yield alerts

        seen = self.identity(c)
        if seen is not None:
            server, standby = seen
            if self._server is not None and server != self._server:
                self.failovers.inc()
                log.warning("border database now on %s (was %s)", server, self._server)
            self._server = server
            info = GaugeMetricFamily(
                "egate_border_server", "The border server the station reached", labels=["server"]
            )
            info.add_metric([server], 1.0)
            yield info
            yield GaugeMetricFamily(
                "egate_border_in_recovery",
                "1 when the station reached a standby (read-only: officers cannot act)",
                value=1.0 if standby else 0.0,
            )


def start_station_metrics(
    config: Config, engine: Engine, clock: Clock, settings: StationSettings | None = None
) -> MetricsServer | None:
    """`egate supervisor`'s endpoint when metrics.station_port is set; None when off."""
    if config.metrics.station_port == 0:
        return None
    collector = StationMetrics(engine, clock, settings, ports=(config.kiosk.port,))
    return serve(collector, config.metrics.bind, config.metrics.station_port, "station")
