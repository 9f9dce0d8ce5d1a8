"""GUI-thread responsiveness: a heartbeat that records the longest gap between
timer ticks, and the heap settling that keeps collector pauses short."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Heartbeat(QObject):
    def __init__(self, interval_ms: int = 10, context: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.max_gap_ms = 0.0
        self.worst_context = ""  # what `context()` said when the worst gap ended
        self._context = context
        self._last = time.perf_counter()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000
        if gap > self.max_gap_ms:
            self.max_gap_ms = gap
            self.worst_context = self._context() if self._context else ""
        self._last = now


def settle_heap() -> None:
    """Collect once, then move every surviving object out of the collector's
    view (gc.freeze): the long-lived start-up heap (Qt, dlib, models, passports)
    is never scanned again, so no later collection pauses the GUI thread."""
    gc.collect()
    gc.freeze()
