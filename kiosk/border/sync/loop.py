"""BorderSync: one kiosk's cycle with the border database, push then pull, on
demand (run_once) or on a daemon thread (start). It owns a Pusher (push.py) and
a Puller (pull.py); both share the border probe read at the start of a cycle."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from kiosk.border.errors import BorderError
from kiosk.border.sync.common import SyncResult, short
from kiosk.border.sync.pull import Puller
from kiosk.border.sync.push import DEFAULT_BATCH, MAX_BATCH, Pusher
from kiosk.store.seal import LogSealer

log = logging.getLogger(__name__)


class BorderSync:
    """Moves events up and reference data down between one kiosk and the border."""

    def __init__(
        self,
        local_engine: Engine,
        border_engine: Engine,
        kiosk_id: str,
        *,
        batch_size: int = DEFAULT_BATCH,
        interval_s: float = 10.0,
        sealer: LogSealer | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}")
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.local_engine = local_engine
        self.border_engine = border_engine
        self.kiosk_id = kiosk_id
        self.interval_s = interval_s
        self.pusher = Pusher(
            local_engine, border_engine, kiosk_id, batch_size=batch_size, sealer=sealer
        )
        self.puller = Puller(local_engine, border_engine)
        self.references = self.puller.references
        self.last_result: SyncResult | None = None
        self._lock = threading.Lock()  # one cycle at a time per instance

    def pending(self) -> int:
        """Events still in the outbox."""
        return self.pusher.pending()

    def push(self) -> SyncResult:
        """Send what verifies of the kiosk's chain (Pusher.push)."""
        return self.pusher.push(self.pusher.probe())

    def pull(self, top: int | None = None) -> SyncResult:
        """`top`: the border's newest change_seq when the caller just read it."""
        result = SyncResult()
        try:
            result.pulled, result.withdrawn = self.puller.pull(top)
        except (SQLAlchemyError, BorderError) as exc:
            result.error = f"pull: {short(exc)}"
            log.warning("border pull failed, local reference data unchanged: %s", result.error)
        try:
            result.pending = self.pending()
        except SQLAlchemyError as exc:
            result.pending = -1
            result.error = result.error or f"local: {short(exc)}"
        return result

    def run_once(self) -> SyncResult:
        """push then pull; the result carries the first error of either. A fault
        of the local database is reported too (error "local: ..."), not raised:
        the outbox is only written after the border commit, so nothing is lost."""
        with self._lock:
            probe = self.pusher.probe()
            try:
                pushed = self.pusher.push(probe)
            except SQLAlchemyError as exc:
                pushed = SyncResult(error=f"local: {short(exc)}")
                log.error("sync push stopped by the local database: %s", pushed.error)
            pulled = self.pull(probe.top)
        result = SyncResult(
            pushed=pushed.pushed,
            duplicates=pushed.duplicates,
            rejected=pushed.rejected,
            pending=pulled.pending,
            pulled=pulled.pulled,
            withdrawn=pulled.withdrawn,
            error=pushed.error or pulled.error,
        )
        self.last_result = result
        return result

    def run_forever(self, stop: threading.Event) -> None:
        """Sync every interval_s until `stop` is set (call on a worker thread).
        A failing cycle is logged and retried next interval; nothing is lost."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a local database fault must not kill the worker
                log.exception("sync cycle failed")
            # Beyond TIMEOUT_MAX the wait itself raises OverflowError, outside the try.
            stop.wait(min(self.interval_s, threading.TIMEOUT_MAX))

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="border-sync", daemon=True
        )
        thread.start()
        return thread
