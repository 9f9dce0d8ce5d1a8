"""ui: the PySide6 views (traveller window, supervisor station, demo panel).

The PySide6 work-around below lives here, in the package every Qt module of egate
imports, so it is in force before any Qt call (the supervisor station and the demo
make Qt calls without importing ui.traveller).
"""

from __future__ import annotations

import ctypes
import sys


def _pin_singletons() -> None:
    """Work around PySide6 6.12 on CPython 3.11, which drops references it never
    took: one to None on every call of a Qt method that returns void, one to True on
    every `SignalInstance.emit()` and `disconnect()` called from Python (pytest-qt's
    waitSignal disconnects too). At zero the interpreter aborts ("none_dealloc",
    "bool_dealloc"): a bare process dies after about 500 emits, a kiosk after a few
    hundred travellers. None, True and False get the practically endless reference
    count that CPython 3.12 gives them anyway (immortal objects), so every Qt call in
    the project is covered, not only those routed through a wrapper."""
    if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
        for singleton in (None, True, False):
            refcount = ctypes.c_ssize_t.from_address(id(singleton))
            if refcount.value < 1 << 40:
                refcount.value += 1 << 40


_pin_singletons()
