"""Verifiers for the face worker process tests (module level, so spawn can import them)."""

from __future__ import annotations

import time
from typing import Any

from kiosk.ports import FaceVerification, FrameProvenance, FrameRef


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


class ColourCounter:
    """Counts the frames whose colour is not the reference's (a previous presentation's).

    It collects for `collect_s` (and at least `min_frames`), then "encodes" for
    `think_s` while the parent keeps
    forwarding frames, as the real matcher does. The distance is the number of
    foreign frames seen; frames_used the number of frames seen.
    """

    def __init__(self, collect_s: float = 0.06, think_s: float = 0.05, min_frames: int = 2) -> None:
        self.collect_s = collect_s
        self.think_s = think_s
        self.min_frames = min_frames

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        colour = int(reference_rgb[0, 0, 0])
        seen = foreign = 0
        last = -1
        start = time.monotonic()
        until = start + self.collect_s
        # At least min_frames (a loaded machine delivers fewer), within the budget.
        while time.monotonic() < start + budget_s and (
            time.monotonic() < until or seen < self.min_frames
        ):
            frame = camera.wait_frame(last, timeout=0.05)
            if frame is None:
                continue
            last = frame.index
            seen += 1
            foreign += int(frame.image[0, 0, 0]) != colour
        time.sleep(self.think_s)
        return FaceVerification("match" if foreign == 0 else "mismatch", foreign == 0, "live",
                                float(foreign), 0.5, seen, 1.0)


def colour_counter() -> ColourCounter:
    return ColourCounter()


class LyingVerifier(EchoVerifier):
    """Names a frame it was never given (index 0, captured at time 0)."""

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        old = FrameRef(0, 0.0)
        return FaceVerification("match", True, "live", 0.1, 0.45, 1, 1.0, b"jpeg", None,
                                FrameProvenance(None, (old,), (old,), old))


def liar() -> LyingVerifier:
    return LyingVerifier()


class CountingEncoder:
    """Has encode_reference/verify_template like FaceMatcher; the distance tells which
    encoding a verification used (its number), frames_used how many were made."""

    def __init__(self) -> None:
        self.encodings = 0

    def encode_reference(self, image: Any) -> tuple[int, int]:
        self.encodings += 1
        return (self.encodings, int(image[0, 0, 0]))

    def verify_template(self, template: Any, camera: Any, budget_s: float) -> FaceVerification:
        number, value = template
        frame = camera.wait_frame(-1, timeout=1.0)
        ref = FrameRef.of(frame)
        seen = (ref,) if ref is not None else ()
        return FaceVerification("match", True, "live", float(number), float(value),
                                self.encodings, 1.0, provenance=FrameProvenance(None, seen, seen))

    def verify(self, reference_rgb: Any, camera: Any, budget_s: float) -> FaceVerification:
        raise AssertionError("the worker must use encode_reference + verify_template")


def counting_encoder() -> CountingEncoder:
    return CountingEncoder()
