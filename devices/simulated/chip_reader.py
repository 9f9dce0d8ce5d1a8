"""A simulated ePassport reader: the real protocol code against the chip emulator.

`place(passport)` puts a VirtualPassport (or any object with the same fields) on the
reader; `remove()` takes it away, failing a read in progress with CardRemovedError
exactly as a pulled card does. Every read runs BAC/PACE, secure messaging, CA and
AA through `devices.icao9303.reader` over the in-process transport. With a
`profile` (devices.simulated.contactless) every exchange takes as long as on a
real contactless chip; without one the chip answers at once.
"""

from __future__ import annotations

import threading
from typing import Any

from devices.errors import CardRemovedError
from devices.icao9303.reader import ReaderOptions, read_chip
from devices.icao9303.transport import PresenceListener, Transport
from devices.protocols import ChipReadResult, DocumentListener, FileListener, MrzKey
from devices.simulated.contactless import ContactlessProfile, TimedTransport
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.transport import InProcessTransport


class SimulatedDocumentReader:
    """devices.protocols.DocumentReader backed by ChipEmulator."""

    def __init__(
        self,
        *,
        reader_extended_length: bool = True,
        options: ReaderOptions | None = None,
        profile: ContactlessProfile | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._listener: PresenceListener | None = None
        self._emulator: ChipEmulator | None = None
        self._transports: list[InProcessTransport] = []
        self._reader_extended = reader_extended_length
        self.options = options or ReaderOptions()
        self.profile = profile
        self.last_modelled_s = 0.0  # what the profile charged the last read
        self._on_file: FileListener | None = None

    # --- the traveller's side ---------------------------------------------------

    def place(self, passport: Any, misbehaviour: Misbehaviour | None = None) -> ChipEmulator:
        """Put a document on the reader (replacing any present) and report "placed"."""
        emulator = ChipEmulator.from_passport(passport, misbehaviour)
        self.remove()
        with self._lock:
            self._emulator = emulator
            listener = self._listener
        if listener is not None:
            listener("placed")
        return emulator

    def place_emulator(self, emulator: ChipEmulator) -> None:
        """Put an already configured emulator on the reader."""
        self.remove()
        with self._lock:
            self._emulator = emulator
            listener = self._listener
        if listener is not None:
            listener("placed")

    def remove(self) -> None:
        """Take the document away; reads in progress fail with CardRemovedError."""
        with self._lock:
            had = self._emulator is not None
            self._emulator = None
            for transport in self._transports:
                transport.pull()
            self._transports.clear()
            listener = self._listener
        if had and listener is not None:
            listener("removed")

    @property
    def emulator(self) -> ChipEmulator | None:
        return self._emulator

    # --- DocumentReader ---------------------------------------------------------

    def set_listener(self, listener: DocumentListener | None) -> None:
        with self._lock:
            self._listener = listener

    def document_present(self) -> bool:
        return self._emulator is not None

    def set_file_listener(self, listener: FileListener | None) -> None:
        """Hear each file as it is read (devices.protocols.EarlyFileReader)."""
        self._on_file = listener

    def read(self, key: MrzKey) -> ChipReadResult:
        with self._lock:
            emulator = self._emulator
            if emulator is None:
                raise CardRemovedError("no document on the reader")
            transport = InProcessTransport(emulator, extended_length=self._reader_extended)
            self._transports.append(transport)
        link: Transport = transport
        if self.profile is not None:
            link = timed = TimedTransport(transport, self.profile)
        try:
            return read_chip(link, key, self.options, self._on_file)
        finally:
            if self.profile is not None:
                self.last_modelled_s = timed.modelled_s
            with self._lock:
                if transport in self._transports:
                    self._transports.remove(transport)
