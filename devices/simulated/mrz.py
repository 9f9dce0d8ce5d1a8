"""MRZ source for the simulator: the OCR result of whatever passport lies on the reader."""

from __future__ import annotations

from collections.abc import Callable

from devices.errors import DeviceFault
from devices.protocols import MrzKey


class SimulatedMrzSource:
    def __init__(self, current: Callable[[], MrzKey | None]) -> None:
        self._current = current

    def read_mrz(self) -> MrzKey:
        key = self._current()
        if key is None:
            raise DeviceFault("no machine-readable zone in view")
        return key
