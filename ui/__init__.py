"""ui: the PySide6 views (traveller window, supervisor station, demo panel).

The PySide6 work-around below lives here, in the package every Qt module of egate
imports, so it is in force before any Qt call (the supervisor station and the demo
make Qt calls without importing ui.traveller).
"""

from __future__ import annotations

import ctypes
import sys


def _pin_none() -> None:
    """Work around PySide6 6.12 on CPython 3.11: every call of a Qt method that
    returns void drops one reference to None (sys.getrefcount(None) falls by one
    per call; at zero the interpreter aborts with "none_dealloc"). A kiosk makes
    thousands of such calls a minute, so None gets the practically endless
    reference count that CPython 3.12 gives it anyway (immortal objects)."""
    if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
        refcount = ctypes.c_ssize_t.from_address(id(None))
        if refcount.value < 1 << 40:
            refcount.value += 1 << 40


_pin_none()
