"""APDU transports: one `transmit(bytes) -> bytes` seam under every protocol.

`InProcessTransport` talks to a card object in the same process (the chip emulator);
`devices.icao9303.pcsc.PcscTransport` talks to a real or virtual reader through pcscd.
Protocol code (BAC, PACE, SM, reading) only sees `Transport`, so both paths run the
same bytes. `CountingTransport` wraps either to count APDUs and bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal, Protocol

from devices.errors import CardRemovedError

PresenceListener = Callable[[Literal["placed", "removed"]], None]


class Transport(Protocol):
    """Sends one command APDU and returns the full response (data + SW1 SW2)."""

    @property
    def extended_length(self) -> bool:
        """Whether the reader path can carry extended-length APDUs."""
        ...

    def transmit(self, apdu: bytes) -> bytes: ...

    def close(self) -> None: ...


class CardTerminal(Protocol):
    """A reader slot: knows whether a card is present and opens a transport to it."""

    def card_present(self) -> bool: ...

    def connect(self) -> Transport:
        """Raises CardRemovedError when no card is present, DeviceFault on reader faults."""
        ...

    def set_listener(self, listener: PresenceListener | None) -> None: ...


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


class CountingTransport:
    """Counts APDUs exchanged and response data bytes received through a transport."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.apdus = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def extended_length(self) -> bool:
        return self.inner.extended_length

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        self.bytes_sent += len(apdu)
        response = self.inner.transmit(apdu)
        self.bytes_received += len(response)
        return response

    def close(self) -> None:
        self.inner.close()
