"""A TCP proxy on loopback that injects network faults between a kiosk and
PostgreSQL (this machine's kernel has no netem).

Modes, switched at any time from the test's thread:
- "pass": bytes flow both ways;
- "delay": every chunk waits DELAY_S before it is forwarded (each direction);
- "stall": nothing is forwarded on any connection, old or new; the proxy keeps
  accepting and reading, as a link whose far end went silent would look to a
  kernel that still sees its own side up;
- "mute": as stall, for a server that accepts connections and never answers;
- "cut": every connection is reset and new ones are reset on accept.
drop() resets every current connection once and leaves the mode as it is.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

DELAY_S = 0.5
MODES = ("pass", "delay", "stall", "mute", "cut")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a dropped connection looks to the peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.listen_host = listen_host
        self.mode = "pass"
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self.port = 0

    # -- control, from the test's thread -------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def set(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} (one of {MODES})")
        self.mode = mode
        if mode == "cut":
            self.drop()

    def drop(self) -> None:
        done = threading.Event()

        def reset_all() -> None:
            for w in list(self._writers):
                _reset(w)
            self._writers.clear()
            done.set()

        self._loop.call_soon_threadsafe(reset_all)
        done.wait(5)

    def close(self) -> None:
        self.set("cut")

        def shut() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.call_soon(self._loop.stop)

        self._loop.call_soon_threadsafe(shut)
        self._thread.join(10)

    # -- the loop ---------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._client, self.listen_host, 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # The cancelled handlers finish (they were cancelled in close()).
        pending = asyncio.all_tasks(self._loop)
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "cut":
            _reset(writer)
            return
        self._writers.add(writer)
        while self.mode in ("stall", "mute"):  # accepted, and no answer
            if await self._hold(reader):
                return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._writers.add(up_writer)
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.close()

    async def _hold(self, reader: asyncio.StreamReader) -> bool:
        """Swallow what arrives for a moment; True once the peer has gone."""
        try:
            data = await asyncio.wait_for(reader.read(65536), 0.05)
        except TimeoutError:
            return False
        except OSError:
            return True
        return not data

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        """Reads as fast as data comes; a writer task forwards each chunk no
        sooner than DELAY_S after it arrived in "delay" mode (a slow link, not
        a slow reader: chunks in flight overlap)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        forward = asyncio.ensure_future(self._forward(queue, dst))
        try:
            while True:
                data = await src.read(65536)
                await queue.put((self._loop.time(), data))
                if not data:
                    await forward
                    return
        finally:
            forward.cancel()

    async def _forward(
        self, queue: asyncio.Queue[tuple[float, bytes]], dst: asyncio.StreamWriter
    ) -> None:
        while True:
            arrived, data = await queue.get()
            if not data:
                dst.close()
                return
            while self.mode in ("stall", "mute"):
                await asyncio.sleep(0.05)  # held: the link says nothing
            if self.mode == "cut":
                return
            if self.mode == "delay":
                await asyncio.sleep(max(0.0, arrived + DELAY_S - self._loop.time()))
            dst.write(data)
            await dst.drain()


@contextmanager
def fault_proxy(host: str, port: int, listen_host: str = "127.0.0.1") -> Iterator[FaultProxy]:
    proxy = FaultProxy(host, port, listen_host).start()
    try:
        yield proxy
    finally:
        proxy.close()
