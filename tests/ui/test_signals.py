"""ui.signals.emit: a Python-side emit keeps the reference count of True (PySide6
6.12.0's SignalInstance.emit drops one each time; about 2000 abort the interpreter)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from ui.signals import emit


class Source(QObject):
    fired = Signal(str)


def test_emit_keeps_true_alive(qapp: QApplication) -> None:
    source = Source()
    received: list[str] = []
    source.fired.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(500):  # fewer than would abort an unfixed interpreter
        emit(source.fired, "x")
    assert len(received) == 500
    assert sys.getrefcount(True) >= before - 5  # unfixed: 500 fewer
