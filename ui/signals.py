"""`emit(signal, *args)`: SignalInstance.emit without PySide6 6.12.0's reference leak.

PySide6 6.12.0 (CPython 3.11) returns the bool of `SignalInstance.emit()` without
taking a reference to it: every emit from Python drops one reference to True. After a
few thousand emits True's count reaches zero and the interpreter aborts ("Fatal Python
error: bool_dealloc: deallocating True or False"); seen in this project's tests after
about 500 emits in a small process. Signals emitted by Qt itself (timers, clicks) are
not affected; `SignalInstance.disconnect()` leaks the same way (do not call it: let a
slot ignore what it no longer wants), and so does connecting `other.emit` as a slot
(connect the signal itself: `a.connect(b)`). Where the leak is detected (once, at
import) `emit` gives the reference back; on a fixed PySide6 it is a plain emit.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    fired = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    drops = 0
    for _ in range(5):
        before = sys.getrefcount(True)
        held = probe.fired.emit()  # type: ignore[func-returns-value]  # a bool, in fact
        after = sys.getrefcount(True)
        if held is True and after == before:
            drops += 1
            _incref(held)  # give back what this probe took
        del held
    return drops >= 3


LEAKS = _emit_drops_a_reference()


def emit(signal: SignalInstance, *args: Any) -> None:
    """signal.emit(*args), giving back the reference PySide6 6.12.0 drops."""
    result = signal.emit(*args)  # type: ignore[func-returns-value]
    if LEAKS:
        _incref(result)
