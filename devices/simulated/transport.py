"""The in-process transport: the terminal's `Transport` straight into a card object
(the chip emulator) in the same process, with no reader or pcscd between them."""

from __future__ import annotations

import threading
from typing import Protocol

from devices.errors import CardRemovedError


class Card(Protocol):
    """What the in-process transport drives: the emulator's APDU entry point."""

    def power_on(self) -> bytes:
        """Cold reset; returns the ATR."""
        ...

    def process(self, apdu: bytes) -> bytes: ...


class InProcessTransport:
    """Transport to an in-process card; `pull()` makes the next transmit fail."""

    def __init__(self, card: Card, *, extended_length: bool = True) -> None:
        self._card = card
        self._extended = extended_length
        self._lock = threading.Lock()
        self._present = True
        self.atr = card.power_on()

    @property
    def extended_length(self) -> bool:
        return self._extended

    def pull(self) -> None:
        # No lock: removal must work while a command is in progress (even from inside it).
        self._present = False

    def transmit(self, apdu: bytes) -> bytes:
        with self._lock:
            if not self._present:
                raise CardRemovedError("the document was removed from the reader")
            return self._card.process(apdu)

    def close(self) -> None:
        self._present = False
