"""A gate that records what it was told and lets a simulated traveller walk through."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from devices.errors import DeviceFault
from devices.protocols import GateListener, GateState


class SimulatedGate:
    def __init__(self, auto_pass: bool = False) -> None:
        self._state: GateState = "closed"
        self._listener: GateListener | None = None
        self._lock = threading.Lock()
        self.commands: list[Literal["open", "close"]] = []
        self.opened_count = 0
        self.auto_pass = auto_pass  # a traveller who walks through as soon as it opens
        self.fail_next_open = False

    def set_listener(self, listener: GateListener | None) -> None:
        self._listener = listener

    @property
    def state(self) -> GateState:
        return self._state

    def open(self) -> None:
        with self._lock:
            self.commands.append("open")
            if self.fail_next_open:
                self.fail_next_open = False
                self._state = "fault"
                raise DeviceFault("gate motor did not confirm opening")
            self._state = "open"
            self.opened_count += 1
        if self.auto_pass:
            self.walk_through()

    def close(self) -> None:
        with self._lock:
            self.commands.append("close")
            self._state = "closed"

    def walk_through(self) -> bool:
        """The traveller passes; False when the gate was not open (nobody can pass)."""
        if self._state != "open":
            return False
        notify: Callable[[Literal["passed", "closed", "fault"]], None] | None = self._listener
        if notify is not None:
            notify("passed")
        return True
