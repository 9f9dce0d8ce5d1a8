"""The station's one way to the border database: every Station call runs on a
single worker thread, its result comes back to the GUI thread as a signal.

One thread, not a pool: the Station keeps the officer's session in memory and its
calls must not interleave (a sign-out racing a resolve). A call still queued under
the same `key` is not queued twice (a refresh timer on a slow database would
otherwise pile up refreshes). A database error, or a call still unanswered after
`slow_after_s`, is "connection lost" (the `connection` signal, False) until a call
succeeds again (True): the engine's pool_pre_ping and connect_timeout make every
call a reconnection attempt.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

# What a lost or refused connection looks like from SQLAlchemy and psycopg.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    PoolTimeout,
    ConnectionError,
    OSError,
)


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, CONNECTION_ERRORS):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class _Relay(QObject):
    # (token, ok, value or exception): emitted on the worker, delivered on the GUI thread.
    finished = Signal(int, bool, object)


class _Call(QRunnable):
    def __init__(self, relay: _Relay, token: int, call: Callable[[], Any]) -> None:
        super().__init__()
        self.relay = relay
        self.token = token
        self.call = call
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            value = self.call()
        except Exception as exc:  # handed to the GUI thread, which decides
            self.relay.finished.emit(self.token, False, exc)
            return
        self.relay.finished.emit(self.token, True, value)


class Background(QObject):
    """run(call, done, failed): `call` on the worker thread, then `done(value)` or
    `failed(exc)` on the GUI thread. Connection errors also flip `connection`."""

    connection = Signal(bool)  # False: the border database is unreachable; True: back
    busy = Signal(bool)

    def __init__(self, parent: QObject | None = None, slow_after_s: float = 3.0) -> None:
        super().__init__(parent)
        self.slow_after_s = slow_after_s
        self._queued_at: dict[int, float] = {}
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(250)
        self._watchdog.timeout.connect(self._check_slow)
        self._watchdog.start()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the one thread
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._tokens = itertools.count(1)
        self._pending: dict[
            int, tuple[str | None, Callable[[Any], None], Callable[[Exception], None] | None]
        ] = {}
        self.connected = True
        self.last_error = ""

    def run(
        self,
        call: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None] | None = None,
        key: str | None = None,
    ) -> bool:
        """Queue `call`; False when a call with the same `key` is still waiting."""
        if key is not None and any(k == key for k, _, _ in self._pending.values()):
            return False
        token = next(self._tokens)
        self._pending[token] = (key, done, failed)
        self._queued_at[token] = time.monotonic()
        if len(self._pending) == 1:
            self.busy.emit(True)
        self._pool.start(_Call(self._relay, token, call))
        return True

    def idle(self) -> bool:
        """Nothing queued, running or waiting to be delivered."""
        return not self._pending

    def _finished(self, token: int, ok: bool, value: object) -> None:
        _key, done, failed = self._pending.pop(token, (None, None, None))
        self._queued_at.pop(token, None)
        try:
            if ok:
                self._set_connected(True, "")
                if done is not None:
                    done(value)
                return
            exc = value if isinstance(value, Exception) else RuntimeError(str(value))
            if is_connection_error(exc):
                log.warning("border database call failed: %s", exc)
                self._set_connected(False, " ".join(str(exc).split())[:200])
            if failed is not None:
                failed(exc)
            elif not is_connection_error(exc):
                log.error("station call failed", exc_info=exc)
        finally:
            if not self._pending:
                self.busy.emit(False)

    def _check_slow(self) -> None:
        if not self._queued_at or not self.connected:
            return
        waited = time.monotonic() - min(self._queued_at.values())
        if waited > self.slow_after_s:
            self._set_connected(False, f"no answer for {waited:.0f} s")

    def _set_connected(self, up: bool, why: str) -> None:
        self.last_error = why
        if up != self.connected:
            self.connected = up
            self.connection.emit(up)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Let the queued calls finish (a closing window's sign-out among them), for
        at most `timeout_ms`; a database call is not interruptible. Results that
        arrive later are dropped."""
        self._watchdog.stop()
        if not self._pool.waitForDone(timeout_ms):
            self._pool.clear()
        self._pending.clear()
        self._queued_at.clear()
