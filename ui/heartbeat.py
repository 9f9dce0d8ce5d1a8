"""GUI-thread responsiveness: a heartbeat that records the longest gap between
timer ticks, and the heap settling that keeps collector pauses short."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

# Linux per-thread scheduler statistics: "<ns on CPU> <ns waiting on a run queue> <slices>".
_SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _runqueue_wait_s() -> float | None:
    """Seconds the calling thread has spent runnable but not running (waiting for a
    CPU), or None where the kernel does not say (not Linux, schedstats off)."""
    try:
        return int(_SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class Heartbeat(QObject):
    """Ticks every `interval_ms` on the GUI thread. `max_gap_ms` is the longest wall
    time between two ticks; `max_stall_ms` the longest gap less the time the GUI
    thread spent waiting for a CPU meanwhile: what the thread itself was busy or
    blocked for, which is what a defect (slow work or a wait on the GUI thread)
    shows as, and which does not grow when other processes keep the cores busy.
    Where the kernel gives no scheduler statistics, the stall is the whole gap."""

    def __init__(self, interval_ms: int = 10, context: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.max_gap_ms = 0.0
        self.max_stall_ms = 0.0
        self.worst_context = ""  # what `context()` said when the worst stall ended
        self._context = context
        self._last = time.perf_counter()
        self._waited = _runqueue_wait_s()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._waited = _runqueue_wait_s()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        waited = _runqueue_wait_s()
        gap = (now - self._last) * 1000
        queued = 0.0
        if waited is not None and self._waited is not None:
            queued = (waited - self._waited) * 1000
        stall = max(0.0, gap - queued)
        self.max_gap_ms = max(self.max_gap_ms, gap)
        if stall > self.max_stall_ms:
            self.max_stall_ms = stall
            self.worst_context = self._context() if self._context else ""
        self._last, self._waited = now, waited


def settle_heap() -> None:
    """Collect once, then move every surviving object out of the collector's
    view (gc.freeze): the long-lived start-up heap (Qt, dlib, models, passports)
    is never scanned again, so no later collection pauses the GUI thread."""
    gc.collect()
    gc.freeze()
