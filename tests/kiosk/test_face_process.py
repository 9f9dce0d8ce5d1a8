"""The face worker process: answers and frames belong to their request, verdicts
name their frames, started chip photos serve one verification, failures never hang.

Per run: 160 presentations of 640x480 colour scenes (40 with both cores busy)
and 15 with the real matcher (5 busy); the long runs are benchmarks/face_live.py.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

from devices.protocols import Frame
from kiosk.face.worker import FaceWorkerError, ProcessFaceVerifier, QueueCamera
from tests.kiosk import face_fakes, presentations


class OneFrameCamera:
    fault = None

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.frame = Frame(np.zeros((4, 4, 3), np.uint8), time.monotonic(), 0)

    def start(self) -> None: ...
    def stop(self) -> None: ...

    def latest(self) -> Frame | None:
        return None

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        if self.fail:
            raise OSError("camera driver crashed")
        time.sleep(min(timeout, 0.01))
        return self.frame if after_index < 0 else None


def ref(value: int) -> np.ndarray:
    return np.full((4, 4, 3), value, np.uint8)


def test_an_abandoned_answer_is_never_given_to_the_next_traveller() -> None:
    verifier = ProcessFaceVerifier(face_fakes.slow, margin_s=10)
    try:
        with pytest.raises(OSError):
            verifier.verify(ref(11), OneFrameCamera(fail=True), budget_s=1)
        result = verifier.verify(ref(22), OneFrameCamera(), budget_s=1)
        assert result.distance == 22.0
    finally:
        verifier.close()


def test_a_worker_that_cannot_start_fails_fast_without_deadlock() -> None:
    verifier = ProcessFaceVerifier(face_fakes.broken, start_timeout_s=30)
    started = time.monotonic()
    with pytest.raises(FaceWorkerError, match="model file missing"):
        verifier.warm_up()
    assert time.monotonic() - started < 20
    verifier.close()


def test_a_stuck_worker_is_stopped_at_the_deadline() -> None:
    verifier = ProcessFaceVerifier(face_fakes.stuck, margin_s=1)
    try:
        started = time.monotonic()
        with pytest.raises(FaceWorkerError, match="in time"):
            verifier.verify(ref(1), OneFrameCamera(), budget_s=1)
        assert time.monotonic() - started < 10
        # The next request gets a fresh worker.
        verifier._factory = face_fakes.echo
        assert verifier.verify(ref(5), OneFrameCamera(), budget_s=1).distance == 5.0
    finally:
        verifier.close()


def _solid(value: int) -> tuple[np.ndarray, ...]:
    """Full-size frames (640x480, as the simulated scenes): a frame spans many pipe writes."""
    return (np.full((480, 640, 3), value, np.uint8),) * 4


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """Two processes spinning, so the worker competes for both cores."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def _colours(presentations: int) -> list[tuple[int, float]]:
    """Solid-colour scenes through the real worker; (presentation, foreign frames)."""
    from devices.simulated.camera import SimulatedCamera

    colours = [10, 200, 60, 250, 120]  # holder, someone else, holder, photo, nobody
    camera = SimulatedCamera(_solid(colours[-1]), fps=60.0)
    camera.start()
    verifier = ProcessFaceVerifier(face_fakes.colour_counter)
    foreign: list[tuple[int, float]] = []
    try:
        verifier.warm_up()
        for i in range(presentations):
            colour = colours[i % len(colours)]
            camera.set_source(_solid(colour))  # the next traveller steps up
            result = verifier.verify(ref(colour), camera, budget_s=2)
            assert result.frames_used > 0
            if result.distance:
                foreign.append((i, result.distance))
    finally:
        verifier.close()
        camera.stop()
    return foreign


def test_no_presentation_is_decided_on_an_earlier_presentations_frames() -> None:
    foreign = _colours(120)
    assert foreign == [], f"decided on an earlier presentation's frames: {foreign}"


def test_no_earlier_frames_with_both_cores_busy(busy_cores: None) -> None:
    foreign = _colours(40)
    assert foreign == [], f"decided on an earlier presentation's frames: {foreign}"


def test_real_matcher_alternating_presentations() -> None:
    run = presentations.present(10)
    assert run.earlier() == []
    assert run.wrong() == []


def test_real_matcher_alternating_presentations_with_both_cores_busy(busy_cores: None) -> None:
    run = presentations.present(5)
    assert run.earlier() == []
    assert run.wrong() == []


def test_a_verdict_naming_frames_it_was_not_given_loses_its_provenance() -> None:
    verifier = ProcessFaceVerifier(face_fakes.liar)
    camera = OneFrameCamera()
    try:
        result = verifier.verify(ref(1), camera, budget_s=1)
    finally:
        verifier.close()
    assert result.match and result.provenance is None  # the lane refuses it


def test_frames_of_an_earlier_request_are_discarded_by_the_worker() -> None:
    frames: queue.Queue[tuple[int, object]] = queue.Queue()
    old = Frame(np.zeros((2, 2, 3), np.uint8), 1.0, 5)
    new = Frame(np.zeros((2, 2, 3), np.uint8), 2.0, 6)
    for item in [(1, old), (1, "fault of request 1"), (2, old), (2, new)]:
        frames.put(item)
    camera = QueueCamera(frames, request_id=2, after_index=5)
    assert camera.wait_frame(-1, timeout=0.5) is new
    assert camera.discarded == 2 and camera.fault is None


def test_a_started_reference_serves_its_own_verification_once() -> None:
    verifier = ProcessFaceVerifier(face_fakes.counting_encoder)
    camera = OneFrameCamera()
    try:
        first = verifier.start_reference(ref(7))
        result = verifier.verify_prepared(first, camera, budget_s=1)
        assert (result.distance, result.threshold, result.frames_used) == (1.0, 7.0, 1)
        # Used once: the same ticket again is encoded afresh, never reused.
        again = verifier.verify_prepared(first, OneFrameCamera(), budget_s=1)
        assert (again.distance, again.frames_used) == (2.0, 2)
        # A newer transaction supersedes an older ticket that was never used.
        stale = verifier.start_reference(ref(8))
        newer = verifier.start_reference(ref(9))
        assert verifier.verify_prepared(newer, OneFrameCamera(), budget_s=1).distance == 4.0
        late = verifier.verify_prepared(stale, OneFrameCamera(), budget_s=1)
        assert (late.distance, late.threshold) == (5.0, 8.0)  # its own photo, afresh
        assert verifier.verify(ref(3), OneFrameCamera(), budget_s=1).distance == 6.0
    finally:
        verifier.close()
