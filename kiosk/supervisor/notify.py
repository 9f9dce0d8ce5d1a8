"""Wake-ups from the border database: LISTEN/NOTIFY on PostgreSQL (the b0003
triggers), plain polling on the SQLite stand-in."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

from kiosk.border.database import libpq_connect_args

log = logging.getLogger(__name__)

STATION_CHANNEL = "egate_station"
COMMAND_CHANNEL = "egate_commands"


class ChangeWaiter:
    """wait(timeout) returns True as soon as a notification arrives on `channel`
    (PostgreSQL), else after `timeout` seconds with False. Any failure of the
    listening connection falls back to polling; the caller re-reads the tables
    either way, so a lost notification only costs one poll interval."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.channel = channel
        self._conn: Any = None
        self._stop = threading.Event()

    @property
    def listening(self) -> bool:
        return self._conn is not None

    def _listen(self) -> None:
        if self._conn is not None or self.engine.dialect.name != "postgresql":
            return
        try:
            import psycopg

            # Every server of a multi-host URL, read-write only (LISTEN is refused
            # on a standby), with the engine's timeouts and keepalives: a dead
            # link ends the wait with an error instead of silence.
            conn = psycopg.connect(autocommit=True, **libpq_connect_args(self.engine))
            conn.execute(f"LISTEN {self.channel}")
            self._conn = conn
        except Exception as exc:  # unreachable server: poll until it is back
            log.warning("LISTEN %s failed, polling: %s", self.channel, exc)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        self._listen()
        conn = self._conn
        if conn is None:
            (stop or self._stop).wait(timeout)
            return False
        try:
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except Exception as exc:
            log.warning("notification connection lost: %s", exc)
            self.close()
            return False

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing the LISTEN connection failed", exc_info=True)
