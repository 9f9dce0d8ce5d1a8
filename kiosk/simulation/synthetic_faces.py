"""Camera sequences synthesised from one portrait, for the demo, tests and PAD measurement.

Bona fide ("live-like"): the head moves over a static background with a small
random walk of shift, rotation and scale, plus sensor noise; optionally a
blink (eyelids painted over the eyes found by the 68-point model).
Attacks (presentation attack instruments, ISO/IEC 30107-3 terms):
- photo_replay: the portrait shown perfectly still (photo on a stand or a
  paused screen);
- framed_photo: a printed photo with its white paper margin, held by hand
  (rigid motion of the whole print) in front of a room background;
- screen_replay: the portrait inside a dark phone bezel, held by hand;
- cutout_photo: a hand-held print trimmed to the head, no border.
All frames are 640x480 BGR, as the camera delivers them.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.face.detection import FaceBox, RgbImage, detect_faces
from kiosk.face.landmarks import find_landmarks
from kiosk.face.models import DlibModels

BgrImage = npt.NDArray[np.uint8]
FRAME_W, FRAME_H = 640, 480


def _face_box(portrait: RgbImage, models: DlibModels) -> FaceBox:
    boxes = detect_faces(portrait, models, max_side=1000, upsample=1)
    if not boxes:
        raise ValueError("no face in the portrait")
    return boxes[0]


def _placement(box: FaceBox, face_fraction: float) -> npt.NDArray[np.float64]:
    """2x3 affine map putting the face centre mid-frame at the requested width."""
    scale = face_fraction * FRAME_W / box.width
    cx, cy = box.centre
    return np.array(
        [[scale, 0.0, FRAME_W / 2.0 - scale * cx], [0.0, scale, FRAME_H * 0.45 - scale * cy]]
    )


def _jitter(
    base: npt.NDArray[np.float64], dx: float, dy: float, angle: float, zoom: float
) -> npt.NDArray[np.float64]:
    centre = (FRAME_W / 2.0, FRAME_H * 0.45)
    rot = np.asarray(cv2.getRotationMatrix2D(centre, angle, zoom), dtype=np.float64)
    rot[:, 2] += np.array([dx, dy])
    full = np.vstack([base, [0.0, 0.0, 1.0]])
    return np.asarray(rot @ full, dtype=np.float64)


def _random_walk(n: int, rng: np.random.Generator, amount: float) -> npt.NDArray[np.float64]:
    """(n, 4) smooth offsets: dx, dy (px), angle (deg), zoom (relative)."""
    steps = rng.normal(0.0, 1.0, size=(n, 4)) * np.array([1.2, 0.8, 0.35, 0.004]) * amount
    walk = np.cumsum(steps, axis=0)
    return np.asarray(walk - walk.mean(axis=0), dtype=np.float64)


def _noise(frame: npt.NDArray[np.float64], rng: np.random.Generator, sigma: float) -> BgrImage:
    noisy = frame + rng.normal(0.0, sigma, size=frame.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def room_background(seed: int = 0) -> RgbImage:
    """A plain wall with soft light falloff: what a kiosk camera sees behind a traveller."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float64)
    base = rng.uniform(120, 180)
    light = base - 40.0 * (((x - FRAME_W * 0.3) / FRAME_W) ** 2 + ((y / FRAME_H) ** 2))
    tint = rng.uniform(0.9, 1.1, size=3)
    room: RgbImage = np.clip(light[..., None] * tint, 0, 255).astype(np.uint8)
    return room


def _head_mask(box: FaceBox, affine: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    mask = np.zeros((FRAME_H, FRAME_W), dtype=np.float32)
    cx, cy = box.centre
    centre = affine @ np.array([cx, cy + 0.15 * box.height, 1.0])
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    axes = (int(box.width * 0.95 * scale), int(box.height * 1.45 * scale))
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), axes, 0.0, 0.0, 360.0, 1.0, -1)
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), 9.0), dtype=np.float64)[..., None]


def close_eyes(portrait: RgbImage, models: DlibModels) -> RgbImage:
    """The portrait with both eyes painted shut (skin from just below each eye)."""
    if models.shape68 is None:
        raise ValueError("closing eyes needs the 68-point landmark model")
    box = _face_box(portrait, models)
    points = find_landmarks(portrait, box, models, with68=True).points68
    assert points is not None
    out = portrait.copy()
    for eye in (points[36:42], points[42:48]):
        x0, y0 = eye.min(axis=0)
        x1, y1 = eye.max(axis=0)
        height = max(3.0, y1 - y0)
        pad = 0.35 * (x1 - x0)
        skin_y0 = int(y1 + 0.6 * height + pad)
        skin = portrait[skin_y0 : skin_y0 + int(2 * height) + 2, int(x0) : int(x1) + 1]
        colour = skin.reshape(-1, 3).mean(axis=0) if skin.size else np.array([180.0, 140, 120])
        sheet = np.zeros(portrait.shape[:2], dtype=np.float32)
        centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        axes = (int((x1 - x0) / 2 + pad), int(height + pad / 2))
        cv2.ellipse(sheet, centre, axes, 0, 0, 360, 1, -1)
        mask = np.asarray(cv2.GaussianBlur(sheet, (0, 0), max(1.0, pad / 3)))[..., None]
        lid = np.full_like(out, colour.astype(np.uint8))
        # The lash line of the closed lid, thick enough to survive downscaling.
        thickness = max(2, int((x1 - x0) / 7))
        lash_y = int(centre[1] + height / 3)
        cv2.line(lid, (int(x0), lash_y), (int(x1), lash_y), (60, 40, 35), thickness)
        out = (out * (1 - mask) + lid * mask).astype(np.uint8)
    return out


def live_sequence(
    portrait: RgbImage,
    models: DlibModels,
    frames: int = 30,
    seed: int = 0,
    face_fraction: float = 0.3,
    blink_at: Sequence[int] = (),
) -> list[BgrImage]:
    """A bona fide-like capture: the head moves over a static room background."""
    rng = np.random.default_rng(seed)
    box = _face_box(portrait, models)
    base = _placement(box, face_fraction)
    background = room_background(seed).astype(np.float64)
    closed = close_eyes(portrait, models) if blink_at else None
    walk = _random_walk(frames, rng, amount=1.0)
    out = []
    for i in range(frames):
        dx, dy, angle, zoom = walk[i]
        affine = _jitter(base, dx, dy, angle, 1.0 + zoom)
        src = closed if closed is not None and i in blink_at else portrait
        head = cv2.warpAffine(src, affine, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
        mask = _head_mask(box, affine)
        frame = background * (1 - mask) + head.astype(np.float64) * mask
        out.append(_noise(frame[..., ::-1], rng, 2.0))
    return out


def photo_replay(
    portrait: RgbImage, models: DlibModels, frames: int = 30, seed: int = 0
) -> list[BgrImage]:
    """A still photo filling the camera's view: identical frames but for sensor noise."""
    rng = np.random.default_rng(seed)
    base = _placement(_face_box(portrait, models), 0.3)
    still = cv2.warpAffine(portrait, base, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REFLECT)
    return [_noise(still[..., ::-1].astype(np.float64), rng, 2.0) for _ in range(frames)]


def _held_print(
    portrait: RgbImage,
    models: DlibModels,
    frames: int,
    seed: int,
    margin_colour: tuple[int, int, int] | None,
    margin: float,
) -> list[BgrImage]:
    rng = np.random.default_rng(seed)
    box = _face_box(portrait, models)
    h, w = portrait.shape[:2]
    # The print shows the head and shoulders: crop around the face.
    x0 = max(0, box.left - int(0.8 * box.width))
    x1 = min(w, box.right + int(0.8 * box.width))
    y0 = max(0, box.top - int(0.6 * box.height))
    y1 = min(h, box.bottom + int(0.8 * box.height))
    photo = portrait[y0:y1, x0:x1]
    shifted = FaceBox(box.left - x0, box.top - y0, box.right - x0, box.bottom - y0)
    if margin_colour is not None:
        m = max(4, int(margin * photo.shape[1]))
        photo = np.asarray(
            cv2.copyMakeBorder(photo, m, m, m, m, cv2.BORDER_CONSTANT, value=margin_colour),
            dtype=np.uint8,
        )
        shifted = FaceBox(shifted.left + m, shifted.top + m, shifted.right + m, shifted.bottom + m)
    base = _placement(shifted, 0.22)  # small enough for the whole print to be in view
    background = room_background(seed + 1).astype(np.float64)
    walk = _random_walk(frames, rng, amount=1.0)
    sheet = np.ones(photo.shape[:2], dtype=np.float32)
    out = []
    for i in range(frames):
        dx, dy, angle, zoom = walk[i]
        affine = _jitter(base, dx, dy, angle, 1.0 + zoom)
        img = cv2.warpAffine(photo, affine, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(sheet, affine, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)[..., None]
        frame = background * (1 - mask) + img.astype(np.float64) * mask
        out.append(_noise(frame[..., ::-1], rng, 2.0))
    return out


def framed_photo(
    portrait: RgbImage, models: DlibModels, frames: int = 30, seed: int = 0
) -> list[BgrImage]:
    """A hand-held print with a white paper margin."""
    return _held_print(portrait, models, frames, seed, (245, 245, 240), 0.06)


def screen_replay(
    portrait: RgbImage, models: DlibModels, frames: int = 30, seed: int = 0
) -> list[BgrImage]:
    """The portrait on a hand-held phone: a dark bezel around the picture."""
    return _held_print(portrait, models, frames, seed, (20, 20, 24), 0.08)


def cutout_photo(
    portrait: RgbImage, models: DlibModels, frames: int = 30, seed: int = 0
) -> list[BgrImage]:
    """A hand-held print trimmed to the head: rigid motion, no border."""
    rng = np.random.default_rng(seed)
    box = _face_box(portrait, models)
    base = _placement(box, 0.3)
    background = room_background(seed + 2).astype(np.float64)
    walk = _random_walk(frames, rng, amount=1.0)
    out = []
    for i in range(frames):
        dx, dy, angle, zoom = walk[i]
        affine = _jitter(base, dx, dy, angle, 1.0 + zoom)
        head = cv2.warpAffine(portrait, affine, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
        mask = _head_mask(box, affine)
        frame = background * (1 - mask) + head.astype(np.float64) * mask
        out.append(_noise(frame[..., ::-1], rng, 2.0))
    return out
