"""Presentation attack detection (ISO/IEC 30107 terms) from the captured frame sequence.

Passive cues, no cooperation needed:
- no motion at all: the landmarks and the face pixels stay put across frames
  beyond sensor noise (a still photo or a paused screen on a stand);
- a rectangular border around the face: long straight edges on at least three
  sides, enclosing the face (paper photo edges, a phone or tablet bezel).
Active challenge, asked through the UI:
- blink: eye aspect ratio dips and recovers (68-point landmarks);
- turn the head: the nose moves along the eye line (5-point landmarks). That
  ratio survives moving, rotating, scaling and tilting a flat photo, so
  swinging a print in front of the camera does not fake a turn.
A hand-held cut-out photo with natural-looking motion defeats the passive cues;
the challenge is what stops it (docs/face.md reports the measured rates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.face.detection import FaceBox, RgbImage
from kiosk.face.landmarks import Landmarks, Points

LivenessDecision = Literal["live", "attack", "inconclusive"]
THUMB_WIDTH = 160
Challenge = Literal["blink", "turn_left", "turn_right"]


@dataclass(frozen=True)
class LivenessThresholds:
    min_frames: int = 3
    min_span_s: float = 0.25  # observations must cover at least this much time
    static_landmark_motion: float = 0.06  # max landmark shift / inter-ocular distance
    static_pixel_change: float = 1.5  # mean absolute grey change around the face
    border_fraction: float = 0.5  # share of frames showing a border around the face
    blink_ear_drop: float = 0.25  # EAR must fall by this fraction of its open value
    turn_yaw_change: float = 0.12  # yaw ratio change towards the asked side


@dataclass(frozen=True)
class FrameObservation:
    """What liveness keeps of one frame: geometry and a small grey crop, no full image."""

    timestamp: float
    box: FaceBox
    points5: Points
    inter_ocular: float
    yaw_ratio: float
    eye_aspect_ratio: float | None
    frame_width: int
    thumb: npt.NDArray[np.uint8]  # the whole frame, grey, THUMB_WIDTH wide
    border: bool


@dataclass(frozen=True)
class LivenessResult:
    decision: LivenessDecision
    reasons: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)


def _long_lines(edges: npt.NDArray[np.uint8], min_length: int) -> npt.NDArray[np.int32]:
    lines = cv2.HoughLinesP(
        edges, 1, np.pi / 360.0, threshold=30, minLineLength=min_length, maxLineGap=10
    )
    if lines is None:
        return np.zeros((0, 4), dtype=np.int32)
    return np.asarray(lines, dtype=np.int32).reshape(-1, 4)


Segment = tuple[float, float, float]  # position across the line, start, end


def _merge(segments: list[Segment], gap: float) -> list[Segment]:
    """Join collinear segments (position, start, end) whose positions differ by <= gap."""
    merged: list[Segment] = []
    for pos, lo, hi in sorted(segments):
        if merged and pos - merged[-1][0] <= gap:
            mpos, mlo, mhi = merged[-1]
            merged[-1] = (mpos, min(mlo, lo), max(mhi, hi))
        else:
            merged.append((pos, lo, hi))
    return merged


def detect_border(rgb: RgbImage, box: FaceBox) -> bool:
    """True when straight edges enclose the face on at least three sides.

    Searched within a few face widths of the face: photo and screen edges sit
    there, while room features (door frames) rarely line up on three sides at
    once and rarely span the face's whole height or width.
    """
    h, w = rgb.shape[:2]
    fw, fh = box.width, box.height
    x0, y0 = max(0, box.left - int(1.75 * fw)), max(0, box.top - int(1.5 * fh))
    x1, y1 = min(w, box.right + int(1.75 * fw)), min(h, box.bottom + int(2.0 * fh))
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    edges = np.asarray(cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 50, 150), dtype=np.uint8)
    lines = _long_lines(edges, min_length=max(20, int(0.4 * min(fw, fh))))
    vertical: list[Segment] = []
    horizontal: list[Segment] = []
    fcx, fcy = box.centre[0] - x0, box.centre[1] - y0
    for xa, ya, xb, yb in lines.tolist():
        dx, dy = xb - xa, yb - ya
        # Each segment is placed where its line crosses the face's centre line, so
        # the pieces of one slightly tilted edge fall together when merged.
        if abs(dy) > 4 * abs(dx):
            x_at_face = xa + dx * (fcy - ya) / dy
            vertical.append((x_at_face, min(ya, yb), max(ya, yb)))
        elif abs(dx) > 4 * abs(dy):
            y_at_face = ya + dy * (fcx - xa) / dx
            horizontal.append((y_at_face, min(xa, xb), max(xa, xb)))
    left, top, right, bottom = box.left - x0, box.top - y0, box.right - x0, box.bottom - y0
    sides = set()
    for x, lo, hi in _merge(vertical, gap=6.0):
        if lo <= top + 0.2 * fh and hi >= bottom - 0.2 * fh:  # spans the face's height
            if x < left - 0.1 * fw:
                sides.add("left")
            elif x > right + 0.1 * fw:
                sides.add("right")
    for y, lo, hi in _merge(horizontal, gap=6.0):
        if lo <= left + 0.2 * fw and hi >= right - 0.2 * fw:  # spans the face's width
            if y < top - 0.1 * fh:
                sides.add("top")
            elif y > bottom + 0.1 * fh:
                sides.add("bottom")
    return len(sides) >= 3


def _thumbnail(rgb: RgbImage) -> npt.NDArray[np.uint8]:
    h, w = rgb.shape[:2]
    size = (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w)))
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def observe(
    rgb: RgbImage, box: FaceBox, landmarks: Landmarks, timestamp: float
) -> FrameObservation:
    return FrameObservation(
        timestamp=timestamp,
        box=box,
        points5=landmarks.points5,
        inter_ocular=landmarks.inter_ocular(),
        yaw_ratio=landmarks.yaw_ratio(),
        eye_aspect_ratio=landmarks.eye_aspect_ratio(),
        frame_width=rgb.shape[1],
        thumb=_thumbnail(rgb),
        border=detect_border(rgb, box),
    )


def _motion(obs: Sequence[FrameObservation]) -> tuple[float, float]:
    """(max landmark shift in inter-ocular units, max pixel change around the face).

    Pixels are compared at a fixed place (the first frame's face, enlarged by
    half) on grey thumbnails, after removing any global brightness change, so
    an auto-exposure step on a still photo is not taken for motion.
    """
    ref = obs[0]
    iod = max(ref.inter_ocular, 1.0)
    shift = max(float(np.abs(o.points5 - ref.points5).max()) / iod for o in obs[1:])
    th, tw = ref.thumb.shape
    f = tw / float(ref.frame_width)
    cx, cy = ref.box.centre
    half_w, half_h = 0.75 * ref.box.width * f, 0.75 * ref.box.height * f
    x0, x1 = max(0, int(cx * f - half_w)), min(tw, int(cx * f + half_w) + 1)
    y0, y1 = max(0, int(cy * f - half_h)), min(th, int(cy * f + half_h) + 1)
    base = ref.thumb[y0:y1, x0:x1].astype(np.float64)
    change = 0.0
    for o in obs[1:]:
        if o.thumb.shape != ref.thumb.shape or base.size == 0:
            return shift, float("inf")  # the camera changed mode: certainly not a still scene
        region = o.thumb[y0:y1, x0:x1].astype(np.float64)
        diff = region - base
        change = max(change, float(np.abs(diff - diff.mean()).mean()))
    return shift, change


def _blinked(obs: Sequence[FrameObservation], drop: float) -> bool | None:
    ears = [o.eye_aspect_ratio for o in obs if o.eye_aspect_ratio is not None]
    if len(ears) < 3:
        return None
    open_value = float(np.percentile(ears, 80))
    low_index = int(np.argmin(ears))
    closed = ears[low_index] < open_value * (1.0 - drop)
    reopened = any(e > open_value * (1.0 - drop / 2.0) for e in ears[low_index + 1 :])
    return closed and reopened


def _turned(obs: Sequence[FrameObservation], direction: Challenge, change: float) -> bool:
    base = float(np.median([o.yaw_ratio for o in obs[: max(1, len(obs) // 4)]]))
    # In an unmirrored camera image a traveller turning to their left moves the
    # nose towards image right: a rising ratio. (A mirroring driver swaps them.)
    sign = 1.0 if direction == "turn_left" else -1.0
    return any(sign * (o.yaw_ratio - base) >= change for o in obs)


def assess_liveness(
    observations: Sequence[FrameObservation],
    challenge: Challenge | None = None,
    thresholds: LivenessThresholds | None = None,
) -> LivenessResult:
    """live | attack | inconclusive from the frames of one capture."""
    t = thresholds or LivenessThresholds()
    obs = sorted(observations, key=lambda o: o.timestamp)
    span = obs[-1].timestamp - obs[0].timestamp if obs else 0.0
    if len(obs) < t.min_frames or span < t.min_span_s:
        return LivenessResult("inconclusive", ("too_few_frames",), {"frames": float(len(obs))})
    shift, change = _motion(obs)
    border_share = sum(o.border for o in obs) / len(obs)
    metrics = {
        "frames": float(len(obs)),
        "span_s": span,
        "landmark_motion": shift,
        "pixel_change": change,
        "border_share": border_share,
    }
    reasons = []
    if change < t.static_pixel_change and shift < t.static_landmark_motion:
        reasons.append("no_motion")
    if border_share >= t.border_fraction:
        reasons.append("border_around_face")
    if challenge == "blink":
        blinked = _blinked(obs, t.blink_ear_drop)
        if blinked is None:
            reasons.append("blink_unmeasurable")
        elif not blinked:
            reasons.append("challenge_not_met")
    elif challenge is not None and not _turned(obs, challenge, t.turn_yaw_change):
        reasons.append("challenge_not_met")
    if "blink_unmeasurable" in reasons and len(reasons) == 1:
        return LivenessResult("inconclusive", tuple(reasons), metrics)
    if reasons:
        return LivenessResult("attack", tuple(reasons), metrics)
    return LivenessResult("live", (), metrics)
