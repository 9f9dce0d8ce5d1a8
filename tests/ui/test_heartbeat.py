"""ui.heartbeat: a stall of the GUI thread itself is measured whatever the load; time
spent waiting for a CPU (other processes' load) is not a stall."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from ui.heartbeat import Heartbeat, _runqueue_wait_s


def beat_through(qtbot: QtBot, block: object) -> Heartbeat:
    beat = Heartbeat(interval_ms=10)
    beat.start()
    QTimer.singleShot(50, block)  # type: ignore[call-overload]
    qtbot.wait(400)
    beat.stop()
    return beat


def test_sleeping_on_the_gui_thread_is_a_stall(qtbot: QtBot) -> None:
    beat = beat_through(qtbot, lambda: time.sleep(0.25))
    assert beat.max_stall_ms >= 200 and beat.max_gap_ms >= beat.max_stall_ms


def test_computing_on_the_gui_thread_is_a_stall(qtbot: QtBot) -> None:
    def spin() -> None:
        end = time.thread_time() + 0.25  # 250 ms of this thread's own CPU time
        while time.thread_time() < end:
            pass

    beat = beat_through(qtbot, spin)
    assert beat.max_stall_ms >= 200


def test_the_kernel_reports_run_queue_waits() -> None:
    # Without /proc/thread-self/schedstat the stall would be the whole gap: the tests
    # above still hold, but load would count as stall again.
    first = _runqueue_wait_s()
    assert first is not None and first >= 0.0
