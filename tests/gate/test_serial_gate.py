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


def wait_until(predicate, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


@pytest.fixture
def controller() -> Iterator[tuple[GateControllerEmulator, str]]:
    emulator, port = GateControllerEmulator.on_pty(watchdog_s=0.6)
    emulator.start()
    yield emulator, port
    emulator.stop()


@pytest.fixture
def gate(controller: tuple[GateControllerEmulator, str]) -> Iterator[SerialGate]:
    _, port = controller
    adapter = SerialGate.on_port(port, ack_timeout_s=0.5, heartbeat_s=0.1, lost_after_s=0.5)
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
    assert wait_until(lambda: "passed" in events and gate.state == "closed")
    assert not emulator.walk_through()  # the barrier closed behind the first traveller
    assert emulator.log[-1] == "closed:passage"


def test_heartbeat_keeps_an_open_gate_open(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    gate.open()
    time.sleep(1.5)  # more than twice the watchdog period
    assert emulator.state == "open" and gate.state == "open"


def test_a_silent_controller_is_a_fault(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    events: list[str] = []
    gate.set_listener(events.append)
    emulator.mute = True
    assert wait_until(lambda: gate.state == "fault", timeout=15.0)  # loaded CI machines
    assert wait_until(lambda: events == ["fault"], timeout=5.0)
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
    assert wait_until(lambda: gate.state == "fault")
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
        assert wait_until(lambda: emulator.state == "closed", timeout=3.0)
        assert emulator.log[-1] == "closed:watchdog"
    finally:
        if child.poll() is None:
            child.kill()


def test_corrupted_lines_are_ignored(gate: SerialGate, controller) -> None:  # type: ignore[no-untyped-def]
    emulator, _ = controller
    events: list[str] = []
    gate.set_listener(events.append)
    os.write(emulator._fd, b"EVT PASSED*00\n")  # bad checksum: never obeyed
    time.sleep(0.3)
    assert events == [] and gate.state == "closed"


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
