"""The face worker process: answers belong to their request, failures never hang."""

from __future__ import annotations

import time

import numpy as np
import pytest

from devices.protocols import Frame
from kiosk.face_process import FaceWorkerError, ProcessFaceVerifier
from tests.kiosk import face_fakes


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


def test_no_presentation_is_decided_on_an_earlier_presentations_frames() -> None:
    from devices.camera.simulated import SimulatedCamera

    colours = [10, 200, 60, 250, 120]  # holder, someone else, holder, photo, nobody
    camera = SimulatedCamera(_solid(colours[-1]), fps=30.0)
    camera.start()
    verifier = ProcessFaceVerifier(face_fakes.colour_counter)
    try:
        verifier.warm_up()
        foreign: list[tuple[int, float]] = []
        for i in range(30):
            colour = colours[i % len(colours)]
            camera.set_source(_solid(colour))  # the next traveller steps up
            result = verifier.verify(ref(colour), camera, budget_s=2)
            assert result.frames_used > 0
            if result.distance:
                foreign.append((i, result.distance))
        assert foreign == [], f"decided on an earlier presentation's frames: {foreign}"
    finally:
        verifier.close()
        camera.stop()
