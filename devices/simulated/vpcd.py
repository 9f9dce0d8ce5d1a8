"""The chip emulator behind vsmartcard's vpcd reader driver (so pcscd sees a card).

vpcd, loaded by pcscd, listens on TCP (35963 for "Virtual PCD 00 00", 35964 for
"... 00 01"); a virtual card connects as a client. Every message in either
direction is a 2-byte big-endian length and a payload. A 1-byte payload from vpcd
is a control message: 00 power off, 01 power on, 02 reset, 04 get ATR (answered
with the ATR); anything longer is a command APDU, answered with the response APDU.
The card is "inserted" while connected; closing the socket removes it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Protocol

from devices.errors import CardRemovedError, DeviceFault

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963
CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04


class VirtualCard(Protocol):
    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def atr(self) -> bytes: ...

    def process(self, apdu: bytes) -> bytes: ...


def parse_endpoint(text: str) -> tuple[str, int]:
    """HOST:PORT (or just PORT) -> (host, port); ValueError when malformed."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = DEFAULT_HOST, text
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host or DEFAULT_HOST, int(port)


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
        if _QUICKACK is not None:
            # vpcd writes length and payload separately; acknowledging at once keeps
            # Nagle on its side from holding the payload for a delayed ACK (~40 ms).
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
    return bytes(data)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


class VpcdCardServer:
    """Connects a virtual card to vpcd and answers it on a background thread."""

    def __init__(
        self, card: VirtualCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.apdus = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.error: str | None = None

    def connect(self, timeout: float = 5.0) -> None:
        """Open the connection (the card is inserted); DeviceFault when vpcd is absent."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise DeviceFault(
                        f"vpcd is not listening on {self.host}:{self.port} ({exc});"
                        " is pcscd running?"
                    ) from exc
                time.sleep(0.1)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._stop.clear()
        self._connected.set()

    def start(self, timeout: float = 5.0) -> None:
        """Connect and serve on a daemon thread."""
        self.connect(timeout)
        self._thread = threading.Thread(target=self._serve, name="vpcd-card", daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve on the calling thread until stop() or until vpcd closes the link."""
        if self._sock is None:
            self.connect()
        self._serve()

    def stop(self) -> None:
        """Disconnect: pcscd sees the card removed."""
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set() and not self._stop.is_set()

    def _serve(self) -> None:
        sock = self._sock
        try:
            while sock is not None and not self._stop.is_set():
                header = _recv_exact(sock, 2)
                if header is None:
                    break
                payload = _recv_exact(sock, int.from_bytes(header, "big"))
                if payload is None:
                    break
                if len(payload) == 1:
                    self._control(sock, payload[0])
                    continue
                self.apdus += 1
                try:
                    response = self.card.process(payload)
                except CardRemovedError:
                    break  # the emulated card left the field: drop the link
                _send(sock, response)
        except OSError as exc:
            if not self._stop.is_set():
                self.error = str(exc)
        finally:
            self._connected.clear()
            if sock is not None and not self._stop.is_set():
                sock.close()
                self._sock = None

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_POWER_OFF:
            self.card.power_off()
        elif code in (CTRL_POWER_ON, CTRL_RESET):
            self.card.power_on()
        elif code == CTRL_GET_ATR:
            _send(sock, self.card.atr())
