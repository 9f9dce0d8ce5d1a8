"""Verifiers for the face worker process tests (module level, so spawn can import them)."""

from __future__ import annotations

import time
from typing import Any

from kiosk.ports import FaceVerification


class EchoVerifier:
    """Answers with the reference's first pixel as the distance, after `delay_s`."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        time.sleep(self.delay_s)
        frame = camera.wait_frame(-1, timeout=0.2)
        return FaceVerification("match", True, "live", float(reference_rgb[0, 0, 0]), 0.45,
                                1 if frame is not None else 0, 1.0)


def echo() -> EchoVerifier:
    return EchoVerifier()


def slow() -> EchoVerifier:
    return EchoVerifier(delay_s=1.5)


def stuck() -> EchoVerifier:
    return EchoVerifier(delay_s=3600)


def broken() -> EchoVerifier:
    raise RuntimeError("model file missing")
