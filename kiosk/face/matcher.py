"""FaceMatcher: the kiosk.ports.FaceVerifier the lane workflow calls.

One verification:
1. the DG2 reference is prepared (upscaled, contrast-stretched) and encoded
   with jitter and mirror averaging: `encode_reference` (never cached: the face
   worker runs it per transaction as soon as DG2 is parsed, then
   `verify_template`); `verify` encodes through the small content cache of
   `prepare_reference`, for in-process use by tools and tests;
2. camera frames are analysed as they arrive (detect on a downscaled copy,
   select the traveller, 5-point landmarks, quality gate, liveness cues);
   guidance goes to the listener for the UI;
3. from the first usable frame, frames are collected for `collect_s` (or until
   `max_frames` usable frames over at least `min_collect_s`); a usable frame is
   encoded as it arrives when it ranks among the best `encode_top` so far
   (alternating with analysis-only frames, and none started that would end after
   the window), so the decision follows the window without a backlog of
   encodings; the descriptors of the best `encode_top` frames are averaged;
4. the decision carries distance, threshold, frames used, liveness, the best
   frame as JPEG (in memory; the lane decides whether a referral keeps it) and
   the provenance of every frame it rests on (only frames newer than the
   camera's newest when the verification began).
An outcome of "match" is the only one that may open the gate.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import cv2
import numpy as np

from devices.protocols import Camera, Frame
from kiosk.config import FaceSection
from kiosk.face.detection import FaceBox, RgbImage, detect_faces
from kiosk.face.encoding import Descriptor, encode_face, face_distance
from kiosk.face.errors import FaceError, MultipleFacesError, NoFaceError
from kiosk.face.landmarks import Landmarks, find_landmarks
from kiosk.face.liveness import (
    Challenge,
    FrameObservation,
    LivenessResult,
    assess_liveness,
    observe,
)
from kiosk.face.models import DlibModels, load_models
from kiosk.face.quality import QualityReport, QualityThresholds, assess_quality
from kiosk.face.selection import select_traveller
from kiosk.face.stills import REFERENCE_JITTERS, StillSettings, encode_still
from kiosk.ports import FaceOutcome, FaceVerification, FrameProvenance, FrameRef, Liveness

# Shipped operating point: the config default face.threshold (docs/face.md, "Threshold").
SHIPPED_THRESHOLD = FaceSection().threshold
SHIPPED_UNCERTAIN_THRESHOLD = FaceSection().uncertain_threshold

GuidanceListener = Callable[[str], None]
LivenessMode = Literal["off", "passive", "challenge"]


@dataclass(frozen=True)
class MatcherSettings:
    threshold: float = SHIPPED_THRESHOLD  # admit (match) at or below
    # Above threshold and at or below this: match_uncertain (refer, never admit).
    uncertain_threshold: float = SHIPPED_UNCERTAIN_THRESHOLD
    collect_s: float = 0.6  # frame collection after the first usable frame
    min_collect_s: float = 0.5  # never decide liveness on a shorter span
    min_liveness_frames: int = 4  # observations after the first usable frame
    max_frames: int = 8  # usable frames after which collection may stop early
    encode_top: int = 3  # best frames encoded and averaged
    liveness: LivenessMode = "passive"
    challenge: Challenge = "turn_left"
    challenge_s: float = 4.0  # collection window when a challenge is asked
    landmarks68: bool = False  # iBUG 300-W model: non-commercial terms (docs/face.md)
    reference_jitters: int = REFERENCE_JITTERS
    mirror: bool = True
    detect_max_side: int = 480
    quality: QualityThresholds = field(default_factory=QualityThresholds)


@dataclass(frozen=True)
class FrameAnalysis:
    """One camera frame after detection, selection, landmarks and quality."""

    rgb: RgbImage
    box: FaceBox
    landmarks: Landmarks
    quality: QualityReport
    faces: int


@dataclass(frozen=True)
class ReferenceTemplate:
    descriptor: Descriptor
    box: FaceBox
    faces: int


@dataclass
class _Encoded:
    score: float
    descriptor: Descriptor
    frame: Frame


@dataclass
class _Capture:
    """Everything gathered from the frames of one verification (kept in memory only)."""

    encoded: list[_Encoded]  # best first, at most encode_top
    observations: list[FrameObservation]
    usable_frames: int = 0
    analysed_since_encode: int = 0
    last_encode_s: float = 0.0
    observed_since_usable: int = 0
    crowd_seen: bool = False  # a second person came into view during the capture
    last_problem: str | None = None
    faces_seen: int = 0
    frames_seen: int = 0
    after: FrameRef | None = None  # the camera's newest frame when the capture began
    seen: list[FrameRef] = field(default_factory=list)  # every frame looked at

    def offer(self, analysis: FrameAnalysis, frame: Frame, keep: int) -> bool:
        """True when this frame would rank among the best `keep` (so it is worth encoding)."""
        return len(self.encoded) < keep or analysis.quality.score > self.encoded[-1].score

    def add(self, item: _Encoded, keep: int) -> None:
        self.encoded.append(item)
        self.encoded.sort(key=lambda e: e.score, reverse=True)
        del self.encoded[keep:]


def _to_rgb(frame: Frame) -> RgbImage:
    return np.ascontiguousarray(frame.image[:, :, ::-1])


class FaceMatcher:
    """kiosk.ports.FaceVerifier over dlib HOG + 5-point alignment + ResNet descriptors."""

    def __init__(
        self,
        settings: MatcherSettings | None = None,
        listener: GuidanceListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or MatcherSettings()
        if (
            self.settings.liveness == "challenge"
            and self.settings.challenge == "blink"
            and not self.settings.landmarks68
        ):
            raise ValueError("the blink challenge needs the 68-point model (landmarks68=True)")
        self._listener = listener
        self._clock = clock
        self._lock = threading.Lock()
        self._references: OrderedDict[bytes, ReferenceTemplate] = OrderedDict()
        self._models: DlibModels | None = None

    @classmethod
    def from_config(
        cls, face: FaceSection, listener: GuidanceListener | None = None, **overrides: object
    ) -> FaceMatcher:
        """Settings from the [face] config section; `overrides` name MatcherSettings fields."""
        settings = MatcherSettings(
            threshold=face.threshold,
            uncertain_threshold=face.uncertain_threshold,
            collect_s=min(face.budget_s, MatcherSettings.collect_s),
            max_frames=face.max_frames,
            liveness=face.liveness,
        )
        return cls(replace(settings, **overrides), listener)  # type: ignore[arg-type]

    def set_listener(self, listener: GuidanceListener | None) -> None:
        self._listener = listener

    def warm_up(self) -> None:
        """Load the models and run each once, so the first traveller pays no start-up."""
        blank = np.full((480, 640, 3), 128, dtype=np.uint8)
        detect_faces(blank, self.models, max_side=self.settings.detect_max_side)
        box = FaceBox(240, 160, 400, 320)
        encode_face(blank, box, self.models, jitters=0, mirror=False)

    @property
    def models(self) -> DlibModels:
        if self._models is None:
            self._models = load_models(self.settings.landmarks68)
        return self._models

    # -- reference ----------------------------------------------------------------
    def prepare_reference(self, reference_rgb: RgbImage) -> ReferenceTemplate:
        """Encode the DG2 portrait (cached by content). Raises NoFaceError/MultipleFacesError."""
        key = hashlib.sha256(
            repr(reference_rgb.shape).encode() + np.ascontiguousarray(reference_rgb).tobytes()
        ).digest()
        with self._lock:
            cached = self._references.get(key)
        if cached is not None:
            return cached
        template = self.encode_reference(reference_rgb)
        with self._lock:
            self._references[key] = template
            while len(self._references) > 4:
                self._references.popitem(last=False)
        return template

    def encode_reference(self, reference_rgb: RgbImage) -> ReferenceTemplate:
        """Encode the DG2 portrait afresh (no cache). Raises NoFaceError/MultipleFacesError."""
        s = self.settings
        still = encode_still(
            reference_rgb,
            self.models,
            StillSettings(jitters=s.reference_jitters, mirror=s.mirror),
        )
        return ReferenceTemplate(still.descriptor, still.box, still.faces)

    # -- frames -------------------------------------------------------------------
    def analyse_frame(self, rgb: RgbImage) -> FrameAnalysis:
        """Detect, select, landmark and grade one frame. Raises NoFaceError/MultipleFacesError."""
        boxes = detect_faces(rgb, self.models, max_side=self.settings.detect_max_side)
        h, w = rgb.shape[:2]
        if not boxes and max(h, w) > self.settings.detect_max_side:
            # Nothing at the reduced scale: look once at full size, so a traveller
            # standing too far away is told so rather than not seen at all.
            boxes = detect_faces(rgb, self.models, max_side=max(h, w))
        box = select_traveller(boxes, w, h)
        landmarks = find_landmarks(rgb, box, self.models, with68=self.settings.landmarks68)
        quality = assess_quality(rgb, box, landmarks, self.settings.quality)
        return FrameAnalysis(rgb, box, landmarks, quality, faces=len(boxes))

    def encode_analysis(self, analysis: FrameAnalysis) -> Descriptor:
        return encode_face(
            analysis.rgb,
            analysis.box,
            self.models,
            jitters=0,
            mirror=self.settings.mirror,
            shape5=analysis.landmarks.shape5,
        )

    def _tell(self, code: str) -> None:
        if self._listener is None:
            return
        try:
            self._listener(code)
        except Exception:  # a UI callback must never break a verification
            return

    # -- verification -------------------------------------------------------------
    def verify(self, reference_rgb: RgbImage, camera: Camera, budget_s: float) -> FaceVerification:
        """Verify the traveller in front of `camera` against the DG2 portrait.

        `budget_s` bounds the whole call (waiting for a usable face included).
        """
        start = self._clock()
        try:
            template = self.prepare_reference(reference_rgb)
        except FaceError as exc:
            return self.verify_template(exc, camera, budget_s, start)
        return self.verify_template(template, camera, budget_s, start)

    def verify_template(
        self,
        template: ReferenceTemplate | FaceError,
        camera: Camera,
        budget_s: float,
        start: float | None = None,
    ) -> FaceVerification:
        """Verify against an encoded chip photo (or the FaceError its encoding raised).

        Only frames newer than the camera's newest at the call are looked at; the
        verdict's provenance names each of them.
        """
        s = self.settings
        began = self._clock() if start is None else start
        capture = _Capture(encoded=[], observations=[], after=FrameRef.of(camera.latest()))

        def result(
            outcome: FaceOutcome,
            distance: float | None = None,
            frames: int = 0,
            liveness: Liveness = "not_checked",
            jpeg: bytes | None = None,
            guidance: str | None = None,
            match: bool = False,
        ) -> FaceVerification:
            return FaceVerification(
                outcome=outcome,
                match=match,
                liveness=liveness,
                distance=None if distance is None else round(distance, 4),
                threshold=s.threshold,
                frames_used=frames,
                ms=round((self._clock() - began) * 1000.0, 1),
                best_frame_jpeg=jpeg,
                guidance=guidance,
                provenance=FrameProvenance(
                    after=capture.after,
                    seen=tuple(capture.seen),
                    used=tuple(FrameRef(e.frame.index, e.frame.timestamp) for e in chosen),
                    referral=referral,
                ),
            )

        chosen: list[_Encoded] = []
        referral: FrameRef | None = None
        if isinstance(template, FaceError):
            return result("no_reference_face", guidance=template.code)

        self._collect(camera, began + budget_s, capture)
        if camera.fault is not None and not capture.encoded:
            return result("camera_fault", guidance=camera.fault)
        if capture.crowd_seen or not capture.encoded:
            if capture.last_problem == "multiple_faces" or capture.crowd_seen:
                return result("multiple_faces", guidance="multiple_faces")
            if capture.faces_seen == 0:
                return result("no_face", guidance="no_face")
            return result("timeout", guidance=capture.last_problem)

        chosen = capture.encoded
        probe = np.mean([e.descriptor for e in chosen], axis=0)
        distance = face_distance(template.descriptor, probe)
        # Only a distance within the strict threshold admits. Between it and the
        # uncertain threshold dlib cannot keep FMR at 0.1% for people of one group
        # (docs/face.md): an officer compares the photos instead.
        is_match = distance <= s.threshold
        uncertain = not is_match and distance <= max(s.threshold, s.uncertain_threshold)
        ok, buf = cv2.imencode(".jpg", chosen[0].frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        jpeg = bytes(buf.tobytes()) if ok else None
        if jpeg is not None:  # the referral image is exactly this compared frame
            referral = FrameRef(chosen[0].frame.index, chosen[0].frame.timestamp)

        liveness: Liveness = "not_checked"
        if s.liveness != "off":
            challenge = s.challenge if s.liveness == "challenge" else None
            verdict: LivenessResult = assess_liveness(capture.observations, challenge)
            liveness = verdict.decision
            if verdict.decision != "live":
                return result(
                    "liveness_failed" if verdict.decision == "attack" else "liveness_inconclusive",
                    distance,
                    len(chosen),
                    liveness,
                    jpeg,
                    guidance=verdict.reasons[0] if verdict.reasons else None,
                    match=is_match,
                )
        return result(
            "match" if is_match else "match_uncertain" if uncertain else "mismatch",
            distance,
            len(chosen),
            liveness,
            jpeg,
            match=is_match,
        )

    def _collect(self, camera: Camera, deadline: float, capture: _Capture) -> _Capture:
        s = self.settings
        keep = max(1, s.encode_top)
        # A blink lasts 100-400 ms: during a challenge most frames go to liveness.
        encode_gap = 4 if s.liveness == "challenge" else 1
        window = s.challenge_s if s.liveness == "challenge" else s.collect_s
        collect_until: float | None = None
        first_usable: float | None = None
        # Never a frame from before the call (a previous traveller's).
        last_index = capture.after.index if capture.after is not None else -1
        while True:
            now = self._clock()
            if now >= deadline:
                break
            # The window closes on time, but never before liveness has its frames:
            # on a loaded machine encodings take longer and fewer frames fit in.
            if (
                collect_until is not None
                and now >= collect_until
                and (s.liveness == "off" or capture.observed_since_usable >= s.min_liveness_frames)
            ):
                break
            if (
                first_usable is not None
                and s.liveness != "challenge"
                and capture.usable_frames >= s.max_frames
                and now - first_usable >= s.min_collect_s
            ):
                break
            if camera.fault is not None:
                break
            limit = deadline if collect_until is None else min(deadline, collect_until)
            frame = camera.wait_frame(last_index, timeout=max(0.0, min(0.25, limit - now)))
            if frame is None:
                continue
            ref = FrameRef(frame.index, frame.timestamp)
            if not ref.after(capture.after):
                continue  # a camera that handed back an old frame: ignore it
            last_index = frame.index
            capture.frames_seen += 1
            capture.seen.append(ref)
            rgb = _to_rgb(frame)
            try:
                analysis = self.analyse_frame(rgb)
            except MultipleFacesError:
                capture.last_problem = "multiple_faces"
                capture.crowd_seen = capture.crowd_seen or first_usable is not None
                self._tell("multiple_faces")
                continue
            except NoFaceError:
                capture.last_problem = capture.last_problem or "no_face"
                self._tell("no_face")
                continue
            capture.faces_seen += 1
            usable = analysis.quality.usable
            if not usable:
                capture.last_problem = analysis.quality.primary
                self._tell(str(analysis.quality.primary))
            if first_usable is None:
                if not usable:
                    continue
                first_usable = self._clock()
                collect_until = first_usable + window
                self._tell(s.challenge if s.liveness == "challenge" else "hold_still")
            # Liveness looks only from the first usable frame on: motion while the
            # traveller (or a photo) approaches the camera proves nothing.
            if s.liveness != "off":
                capture.observations.append(
                    observe(rgb, analysis.box, analysis.landmarks, frame.timestamp)
                )
                capture.observed_since_usable += 1
            if usable:
                capture.usable_frames += 1
                # Encode a frame that ranks among the best so far, but alternate with
                # analysis-only frames so liveness keeps seeing the traveller move.
                # Skip an encoding that would end after the window closes (the
                # decision would wait for it) once one frame is encoded.
                fits = collect_until is None or (
                    self._clock() + capture.last_encode_s <= collect_until
                )
                if capture.offer(analysis, frame, keep) and (
                    not capture.encoded or (capture.analysed_since_encode >= encode_gap and fits)
                ):
                    t0 = self._clock()
                    descriptor = self.encode_analysis(analysis)
                    capture.last_encode_s = self._clock() - t0
                    capture.add(_Encoded(analysis.quality.score, descriptor, frame), keep)
                    capture.analysed_since_encode = 0
                else:
                    capture.analysed_since_encode += 1
        return capture


def face_matcher(face: FaceSection) -> FaceMatcher:
    """Builds the dlib matcher inside the face worker process (picklable factory).

    Here rather than in kiosk.runtime.app: the spawned worker imports the module
    that defines its factory, and this one costs the worker's start-up a third of
    the runtime's imports (the storage, the lane, the border sync)."""
    matcher = FaceMatcher.from_config(face)
    _ = matcher.models  # load the models before the first traveller
    return matcher
