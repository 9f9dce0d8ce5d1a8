"""A client-side deadline for every round trip to the border database.

The server's statement_timeout cannot end a wait for an answer that never
comes back (a stalled link, a middlebox that accepts and never forwards, a
primary frozen mid-failover), and TCP keepalives only notice a peer whose
kernel stopped answering. libpq has no read timeout of its own, so the
watchdog does it: while a pooled connection is in use (a pre-ping, each
statement, the commit or rollback that follows) it carries a deadline, and one
daemon thread shuts the socket down when a deadline passes. The blocked call
then fails at once with a disconnect error, SQLAlchemy invalidates the
connection, and the caller's ordinary error handling runs (the sync cycle is
retried; nothing was marked sent).

The watchdog holds a dup() of each socket, so shutting one down can never hit
an unrelated descriptor that reused the number after the connection closed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class _Guard:
    __slots__ = ("deadline", "fd")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.deadline: float | None = None  # None: idle in the pool


class Watchdog:
    """Shuts down the socket of any guarded connection whose deadline passed."""

    def __init__(self) -> None:
        self._guards: dict[int, _Guard] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.fired = 0  # connections cut so far (tests and logs)

    def watch(self, key: int, sock_fd: int) -> None:
        fd = os.dup(sock_fd)
        with self._cond:
            old = self._guards.pop(key, None)
            self._guards[key] = _Guard(fd)
        if old is not None:
            os.close(old.fd)

    def forget(self, key: int) -> None:
        with self._cond:
            guard = self._guards.pop(key, None)
        if guard is not None:
            os.close(guard.fd)

    def arm(self, key: int, seconds: float) -> None:
        with self._cond:
            guard = self._guards.get(key)
            if guard is None:
                return
            guard.deadline = time.monotonic() + seconds
            self._ensure_thread()
            self._cond.notify()

    def disarm(self, key: int) -> None:
        with self._cond:
            guard = self._guards.get(key)
            if guard is not None:
                guard.deadline = None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="border-deadline", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [g for g in self._guards.values() if g.deadline is not None]
                expired = [g for g in due if g.deadline is not None and g.deadline <= now]
                for g in expired:
                    g.deadline = None
                    self._cut(g.fd)
                pending = [g.deadline for g in due if g.deadline is not None]
                self._cond.wait(min(pending) - now if pending else 60.0)

    def _cut(self, fd: int) -> None:
        self.fired += 1
        log.warning("border database did not answer in time: connection cut")
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the peer
        finally:
            sock.close()


WATCHDOG = Watchdog()


def _key(dbapi_connection: Any) -> int:
    return id(dbapi_connection)


def guard_engine(engine: Engine, seconds: float, watchdog: Watchdog = WATCHDOG) -> None:
    """Give every psycopg connection of `engine` a deadline of `seconds` per
    round trip: from checkout (and pre-ping) to the next statement, from each
    statement to the next one or to checkin."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        key = _key(dbapi_connection)
        watchdog.watch(key, dbapi_connection.fileno())
        weakref.finalize(dbapi_connection, watchdog.forget, key)

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        watchdog.arm(_key(dbapi_connection), seconds)

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            watchdog.disarm(_key(dbapi_connection))

    @event.listens_for(engine, "close")
    def _close(dbapi_connection: Any, _record: Any) -> None:
        watchdog.forget(_key(dbapi_connection))

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn: Any, *_args: Any) -> None:
        watchdog.arm(_key(conn.connection.dbapi_connection), seconds)

    # The pool's pre-ping runs before the checkout event: guard it on its own.
    dialect = engine.dialect
    ping = dialect.do_ping

    def guarded_ping(dbapi_connection: Any) -> bool:
        key = _key(dbapi_connection)
        watchdog.arm(key, seconds)
        try:
            return ping(dbapi_connection)
        finally:
            watchdog.disarm(key)

    setattr(dialect, "do_ping", guarded_ping)  # noqa: B010 (an instance override)
