"""APDU transports: one `transmit(bytes) -> bytes` seam under every protocol.

`devices.icao9303.pcsc.PcscTransport` talks to a real or virtual reader through pcscd;
`devices.simulated.transport.InProcessTransport` talks to the chip emulator in the same
process. Protocol code (BAC, PACE, SM, reading) only sees `Transport`, so both paths run
the same bytes. `CountingTransport` wraps either to count APDUs and bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

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
