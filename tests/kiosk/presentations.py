"""Alternating presentations through the real face worker process (tests and
benchmarks/face_live.py): holder, someone else, holder, printed photo, nobody.

Each presentation switches the simulated camera's scene (set_source returns the
first frame index of the new scene) and then asks the worker, as the lane does:
start the chip photo's encoding, then verify. A verdict that names a frame from
before its scene switch decided on an earlier presentation's frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from devices.simulated.camera import SimulatedCamera
from devices.simulated.scenes import (
    Image,
    empty_scene,
    live_scene,
    portrait_rgb,
    printed_photo_scene,
)
from kiosk.config import FaceSection
from kiosk.face.matcher import FaceMatcher, MatcherSettings
from kiosk.face.worker import ProcessFaceVerifier
from kiosk.ports import FaceVerification

KINDS = ("holder", "other", "holder", "photo", "nobody")
# Seconds each kind may take: "nobody" always uses its whole budget.
BUDGETS = {"holder": 4.0, "other": 4.0, "photo": 4.0, "nobody": 0.3}

# Cheap but real: dlib HOG + 5-point landmarks + ResNet and passive liveness on
# quarter-size frames (320x240), a reference encoded without jitter.
# The liveness window stays as shipped (0.6 s): shorter ones refused about 5% of
# holders with too_few_frames.
FAST = MatcherSettings(reference_jitters=0, mirror=False, detect_max_side=320)
SMALL = (320, 240)


def fast_matcher() -> FaceMatcher:
    """The worker's factory (module level, so spawn can import it)."""
    matcher = FaceMatcher(FAST)
    _ = matcher.models
    return matcher


def _small(frames: tuple[Image, ...]) -> tuple[Image, ...]:
    out = []
    for f in frames:
        small = np.asarray(cv2.resize(f, SMALL, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        small.setflags(write=False)
        out.append(small)
    return tuple(out)


def scenes() -> dict[str, tuple[Image, ...]]:
    return {
        "holder": _small(live_scene("collins", seed=1)),
        "other": _small(live_scene("hopper", seed=7)),
        "photo": _small(printed_photo_scene("collins")),
        "nobody": _small(empty_scene()),
    }


@dataclass
class Presented:
    kind: str
    boundary: int  # first frame index of this presentation's scene
    verdict: FaceVerification

    def earlier_frames(self) -> list[int]:
        """Frames of an earlier presentation the verdict rests on ([-1]: names none)."""
        p = self.verdict.provenance
        if p is None:
            return [-1]
        return sorted({f.index for f in p.frames() if f.index < self.boundary})

    def wrong(self) -> str | None:
        """What is wrong with the outcome for this kind of presentation, if anything."""
        v = self.verdict
        if self.kind == "holder" and v.outcome != "match":
            return f"holder: {v.outcome} ({v.distance}, {v.guidance})"
        if self.kind != "holder" and v.match and v.outcome == "match":
            return f"{self.kind}: admitted as a match ({v.distance})"
        if self.kind == "nobody" and v.outcome != "no_face":
            return f"nobody: {v.outcome}"
        if self.kind == "photo" and v.outcome == "match":
            return f"photo: {v.outcome}"
        return None


@dataclass
class Run:
    presented: list[Presented] = field(default_factory=list)

    def earlier(self) -> list[tuple[int, str, list[int]]]:
        return [
            (i, p.kind, p.earlier_frames())
            for i, p in enumerate(self.presented)
            if p.earlier_frames()
        ]

    def wrong(self) -> list[tuple[int, str]]:
        return [(i, w) for i, p in enumerate(self.presented) if (w := p.wrong()) is not None]


def present(
    count: int,
    factory: Callable[[], object] = fast_matcher,
    fps: float = 30.0,
    on_each: Callable[[Presented], None] | None = None,
) -> Run:
    """`count` presentations in the KINDS order through one real worker process."""
    reference = portrait_rgb("collins")
    frames = scenes()
    camera = SimulatedCamera(frames["nobody"], fps=fps)
    camera.start()
    verifier = ProcessFaceVerifier(factory)  # type: ignore[arg-type]
    run = Run()
    try:
        verifier.warm_up()
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            boundary = camera.set_source(frames[kind], moving=kind in ("holder", "other"))
            ticket = verifier.start_reference(reference)  # a fresh encoding every time
            verdict = verifier.verify_prepared(ticket, camera, BUDGETS[kind])
            done = Presented(kind, boundary, verdict)
            run.presented.append(done)
            if on_each is not None:
                on_each(done)
    finally:
        verifier.close()
        camera.stop()
    return run


def lane_matcher(face: FaceSection) -> FaceMatcher:
    """kiosk.runtime.app.face_matcher with a one-jitter chip photo encoding (a fifth of the
    cost), for CI runs of the whole simulated lane; everything else as configured."""
    matcher = FaceMatcher.from_config(face, reference_jitters=1)
    _ = matcher.models
    return matcher
