"""PC/SC transport through pcscd with pyscard's SCard API (PC/SC part 5).

`PcscTerminal` finds a reader by name substring, reports card insertion and
removal, and opens a `PcscTransport` (T=1 or T=0). The transport completes
61xx answers with GET RESPONSE and repeats a command with the Le of a 6Cxx, and
turns a card pulled mid-command into CardRemovedError. An extended-length APDU
that the reader path cannot carry comes back as an unprotected 6700, the same
answer a chip gives, so the reader's fallback to short APDUs covers both.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from smartcard import scard

from devices.errors import CardRemovedError, DeviceFault
from devices.icao9303.apdu import is_extended_encoding
from devices.icao9303.reader import ChipDocumentReader, ReaderOptions
from devices.icao9303.transport import PresenceListener

_REMOVED = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_E_READER_UNAVAILABLE,
}
_SCARD_PRESENT = 0x0004  # SCardStatus card state (pcsclite), not exported by pyscard
_MAX_GET_RESPONSE = 64  # 61xx rounds before a chip counts as looping


def _check(hresult: int, what: str) -> None:
    if hresult != scard.SCARD_S_SUCCESS:
        raise DeviceFault(
            f"{what}: {scard.SCardGetErrorMessage(hresult)} ({hresult & 0xFFFFFFFF:#x})"
        )


def _context() -> Any:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    _check(hresult, "PC/SC context (is pcscd running?)")
    return context


def list_readers() -> list[str]:
    """Names of the PC/SC readers pcscd knows (empty when there are none)."""
    context = _context()
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        _check(hresult, "list PC/SC readers")
        return list(readers)
    finally:
        scard.SCardReleaseContext(context)


def find_reader(name: str = "") -> str:
    """The first reader whose name contains `name` (case-insensitive)."""
    readers = list_readers()
    for reader in readers:
        if name.lower() in reader.lower():
            return reader
    known = ", ".join(readers) or "none"
    raise DeviceFault(f"no PC/SC reader matches {name!r} (readers: {known})")


class PcscTransport:
    """One card connection; `transmit` sends an APDU and returns response + SW."""

    def __init__(self, reader: str, *, extended_length: bool = True) -> None:
        self.reader = reader
        self._extended = extended_length
        self._context = _context()
        hresult, card, protocol = scard.SCardConnect(
            self._context,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hresult != scard.SCARD_S_SUCCESS:
            scard.SCardReleaseContext(self._context)
            if hresult in _REMOVED or hresult == scard.SCARD_E_NO_SMARTCARD:
                raise CardRemovedError(f"no document on {reader}")
            _check(hresult, f"connect to {reader}")
        self._card = card
        self.protocol: Literal["T=0", "T=1"] = (
            "T=0" if protocol == scard.SCARD_PROTOCOL_T0 else "T=1"
        )
        self._protocol = protocol
        self._lock = threading.Lock()
        self._closed = False

    @property
    def extended_length(self) -> bool:
        return self._extended

    def _card_gone(self, settle: float = 1.0) -> bool:
        """Whether the card left; waits briefly, as readers notice a removal late."""
        deadline = time.monotonic() + settle
        while True:
            hresult, _reader, state, _protocol, _atr = scard.SCardStatus(self._card)
            if hresult != scard.SCARD_S_SUCCESS or not state & _SCARD_PRESENT:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def _raw(self, apdu: bytes) -> bytes:
        hresult, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if hresult in _REMOVED:
            raise CardRemovedError("the document was removed during a command")
        if hresult != scard.SCARD_S_SUCCESS or len(response) < 2:
            # A pulled card often shows up as a failed transaction: ask the reader.
            if self._card_gone():
                raise CardRemovedError("the document was removed during a command")
            if hresult != scard.SCARD_S_SUCCESS and is_extended_encoding(apdu):
                return b"\x67\x00"  # the reader path refuses extended length
            _check(hresult, "transmit")
            raise DeviceFault(f"the reader returned {len(response)} bytes, no status word")
        return bytes(response)

    def transmit(self, apdu: bytes) -> bytes:
        with self._lock:
            if self._closed:
                raise CardRemovedError("the card connection is closed")
            response = self._raw(apdu)
            if response[-2] == 0x6C and len(apdu) >= 5:
                # Wrong Le: repeat with the Le the card names (ISO/IEC 7816-3 T=0).
                response = self._raw(apdu[:-1] + response[-1:])
            data = bytearray(response[:-2])
            rounds = 0
            while response[-2] == 0x61:
                rounds += 1
                if rounds > _MAX_GET_RESPONSE:
                    raise DeviceFault("the card keeps answering 61xx")
                response = self._raw(bytes((apdu[0] & 0x03, 0xC0, 0x00, 0x00, response[-1])))
                data += response[:-2]
            return bytes(data) + response[-2:]

    def atr(self) -> bytes:
        hresult, _reader, _state, _protocol, atr = scard.SCardStatus(self._card)
        if hresult in _REMOVED:
            raise CardRemovedError("the document was removed")
        _check(hresult, "card status")
        return bytes(atr)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            scard.SCardDisconnect(self._card, scard.SCARD_LEAVE_CARD)
            scard.SCardReleaseContext(self._context)


class PcscTerminal:
    """A PC/SC reader slot: presence, events and connections (CardTerminal)."""

    def __init__(self, name: str = "", *, extended_length: bool = True) -> None:
        self.name = name
        self.extended_length = extended_length
        self._listener: PresenceListener | None = None
        self._monitor: threading.Thread | None = None
        self._monitor_context: Any = None
        self._stop = threading.Event()

    @property
    def reader(self) -> str:
        return find_reader(self.name)

    def card_present(self) -> bool:
        context = _context()
        try:
            hresult, states = scard.SCardGetStatusChange(
                context, 0, [(self.reader, scard.SCARD_STATE_UNAWARE)]
            )
            _check(hresult, "reader status")
            return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
        finally:
            scard.SCardReleaseContext(context)

    def connect(self) -> PcscTransport:
        return PcscTransport(self.reader, extended_length=self.extended_length)

    def set_listener(self, listener: PresenceListener | None) -> None:
        self._listener = listener
        if listener is None:
            self._stop_monitor()
        elif self._monitor is None:
            self._stop.clear()
            self._monitor = threading.Thread(target=self._watch, name="pcsc-monitor", daemon=True)
            self._monitor.start()

    def _stop_monitor(self) -> None:
        self._stop.set()
        if self._monitor_context is not None:
            scard.SCardCancel(self._monitor_context)
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        self._monitor = None

    def _watch(self) -> None:
        context = _context()
        self._monitor_context = context
        try:
            reader = self.reader
            state = scard.SCARD_STATE_UNAWARE
            present: bool | None = None
            while not self._stop.is_set():
                hresult, states = scard.SCardGetStatusChange(context, 500, [(reader, state)])
                if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                    continue
                if hresult != scard.SCARD_S_SUCCESS:
                    self._stop.wait(0.5)
                    continue
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                now = bool(state & scard.SCARD_STATE_PRESENT)
                if present is not None and now != present and self._listener is not None:
                    self._listener("placed" if now else "removed")
                present = now
        except DeviceFault:
            pass
        finally:
            self._monitor_context = None
            scard.SCardReleaseContext(context)


def pcsc_document_reader(
    name: str = "", *, options: ReaderOptions | None = None
) -> ChipDocumentReader:
    """The kiosk's DocumentReader for a real (or vpcd) reader whose name contains `name`."""
    opts = options or ReaderOptions()
    return ChipDocumentReader(PcscTerminal(name, extended_length=opts.extended_length), opts)


VIRTUAL_READER = "Virtual PCD 00 00"


def _reader_listed(name: str) -> bool:
    try:
        return name in list_readers()
    except DeviceFault:
        return False


def _start_pcscd(reader: str, timeout: float) -> subprocess.Popen[bytes] | None:
    """Start `pcscd --foreground` and wait for `reader`; None (process gone) on failure."""
    Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        ["pcscd", "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while not _reader_listed(reader):
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return None
        time.sleep(0.1)
    return process


@contextmanager
def pcscd_running(reader: str = VIRTUAL_READER, timeout: float = 15.0) -> Iterator[None]:
    """Make sure pcscd offers `reader`: start `pcscd --foreground` when it does not (and
    stop it on exit); raise DeviceFault when that is impossible. For tests and benchmarks."""
    process: subprocess.Popen[bytes] | None = None
    if not _reader_listed(reader):
        if shutil.which("pcscd") is None:
            raise DeviceFault("pcscd is not installed")
        for attempt in (1, 2):
            process = _start_pcscd(reader, timeout)
            if process is not None:
                break
            # A pcscd that was killed leaves its pid file and socket behind; clear
            # them (nobody is serving them now) and try once more.
            for leftover in ("pcscd.pid", "pcscd.comm"):
                Path("/run/pcscd", leftover).unlink(missing_ok=True)
            if attempt == 2:
                raise DeviceFault(f"pcscd did not offer the reader {reader!r}")
    try:
        yield
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
