"""The serial gate adapter against the controller firmware emulated on a pty."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("serial")

from devices.errors import DeviceFault
from devices.gate.protocol import FrameError, decode, encode
from devices.gate.serial_gate import SerialGate
from devices.simulated.gate_controller import GateControllerEmulator
from tests.waiting import wait_until


@pytest.fixture
def controller() -> Iterator[tuple[GateControllerEmulator, str]]:
    # Timings with room for a busy machine (a starved thread must not look like a
    # dead link); the tests wait on evidence, so slack costs no time when all is well.
    emulator, port = GateControllerEmulator.on_pty(watchdog_s=1.0)
    emulator.start()
    yield emulator, port
    emulator.stop()


@pytest.fixture
def gate(controller: tuple[GateControllerEmulator, str]) -> Iterator[SerialGate]:
    _, port = controller
    adapter = SerialGate.on_port(port, ack_timeout_s=2.0, heartbeat_s=0.1, lost_after_s=2.0)
    adapter.start()
    yield adapter
    adapter.stop()


def test_frames_carry_a_checksum() -> None:
    assert decode(encode("OPEN", 7)).words == ("OPEN", "7")
    with pytest.raises(FrameError):
        decode(b"OPEN 7*00\n")
    with pytest.raises(FrameError):
        decode(b"OPEN 7\n")


def test_open_and_close_are_acknowledged(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    gate.open()
    assert gate.state == "open" and emulator.state == "open"
    gate.close()
    assert gate.state == "closed" and emulator.state == "closed"


def test_one_passage_per_opening(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    events: list[str] = []
    gate.set_listener(events.append)
    gate.open()
    assert emulator.walk_through()
    wait_until(lambda: "passed" in events and gate.state == "closed", what="passage, then closed")
    assert not emulator.walk_through()  # the barrier closed behind the first traveller
    assert emulator.log[-1] == "closed:passage"


def test_heartbeat_keeps_an_open_gate_open(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    opened = time.monotonic()
    gate.open()
    # Evidence rather than a sleep: the controller keeps hearing valid frames (the
    # heartbeat) for more than twice its watchdog period, and never closed.
    wait_until(
        lambda: emulator._last_valid - opened > 2 * emulator.watchdog_s,
        what="heartbeats over two watchdog periods",
    )
    assert emulator.log == ["open:command"]
    assert emulator.state == "open" and gate.state == "open"


def test_a_silent_controller_is_a_fault(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    events: list[str] = []
    gate.set_listener(events.append)
    emulator.mute = True
    wait_until(lambda: gate.state == "fault", what="the silent controller is a fault")
    wait_until(lambda: events == ["fault"], what="one fault event")
    with pytest.raises(DeviceFault):
        gate.open()
    assert emulator.state == "closed"


def test_a_refused_open_is_a_fault(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    emulator.refuse_open = True
    with pytest.raises(DeviceFault, match="interlock"):
        gate.open()
    assert gate.state == "fault" and emulator.state == "closed"


def test_fault_silences_the_heartbeat_so_the_watchdog_closes(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    gate.open()
    emulator.tailgate()  # the board reports a fault and closes
    wait_until(lambda: gate.state == "fault", what="the tailgate fault")
    assert emulator.state == "closed"


def test_no_ack_within_the_timeout_is_a_fault(controller) -> None:  # type: ignore[no-untyped-def]
    emulator, port = controller
    emulator.mute = True
    adapter = SerialGate.on_port(port, ack_timeout_s=0.2, heartbeat_s=0.1, lost_after_s=0.5)
    try:
        with pytest.raises(DeviceFault, match="acknowledgement"):
            adapter.start()  # start() closes the barrier first, and that is not confirmed
        assert adapter.state == "fault"
    finally:
        adapter.stop()


def test_a_killed_kiosk_process_leaves_the_gate_closed(controller) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL sends no CLOSE: the controller's watchdog must close by itself."""
    emulator, port = controller
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from devices.gate.serial_gate import SerialGate\n"
            "g = SerialGate.on_port(sys.argv[1], heartbeat_s=0.1)\n"
            "g.start(); g.open(); print('open', flush=True); time.sleep(60)\n",
            port,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        assert emulator.state == "open"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        wait_until(lambda: emulator.state == "closed", what="the watchdog closing")
        assert emulator.log[-1] == "closed:watchdog"
    finally:
        if child.poll() is None:
            child.kill()


def test_corrupted_lines_are_ignored(
    gate: SerialGate,
    controller: tuple[GateControllerEmulator, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator, _ = controller
    events: list[str] = []
    gate.set_listener(events.append)
    # A bad checksum (never obeyed), then a good frame: the adapter reads in order, so
    # once the good one has been acted on the bad one has been read, and dropped.
    os.write(emulator._fd, b"EVT PASSED*00\n" + encode("EVT", "CLOSED", "probe"))
    wait_until(lambda: events, what="the valid frame after the corrupted one")
    assert events == ["closed"] and gate.state == "closed"
    assert any("bad frame" in r.getMessage() for r in caplog.records)


def test_concurrent_commands_each_get_their_own_answer(gate: SerialGate) -> None:
    errors: list[BaseException] = []

    def cycle() -> None:
        try:
            for _ in range(20):
                gate.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=cycle) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and gate.state == "closed"
