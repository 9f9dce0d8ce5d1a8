"""Camera scenes for the simulator, made from public-domain portraits (cached, read-only).

The portraits ship inside installed packages, so every machine has them:
scikit-image's astronaut image (Eileen Collins, NASA) and matplotlib's Grace
Hopper sample. A "live" scene moves the face a little from frame to frame, as a
person standing at a kiosk does; a "printed photo" scene holds a still print
with a white paper border, the presentation attack the liveness check must catch.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

PORTRAITS = {
    "collins": "Eileen Collins (scikit-image astronaut, public domain)",
    "hopper": "Grace Hopper (matplotlib sample, public domain)",
}

FRAME_W, FRAME_H = 640, 480


@cache
def portrait_rgb(name: str) -> Image:
    """The head-and-shoulders crop of a named portrait, RGB uint8."""
    if name == "collins":
        from skimage import data

        img = np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]
        crop = img[0:300, 100:360]
    elif name == "hopper":
        import matplotlib.cbook as cbook

        path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"{path}: matplotlib sample image unreadable")
        img = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        crop = img[40:400, 150:390]
    else:
        raise KeyError(f"unknown portrait {name!r} (have {', '.join(PORTRAITS)})")
    out = np.ascontiguousarray(crop)
    out.setflags(write=False)
    return out


def portrait_jpeg(name: str, quality: int = 80, width: int = 240) -> bytes:
    """The portrait as a chip photo would store it (JPEG, ~15-20 KB)."""
    rgb = portrait_rgb(name)
    scale = width / rgb.shape[1]
    small = cv2.resize(rgb, (width, round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf.tobytes())


def _bgr(rgb: Image) -> Image:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8)


def _background(rng: np.random.Generator) -> Image:
    base = np.full((FRAME_H, FRAME_W, 3), (170, 165, 160), np.uint8)
    noise = rng.integers(-6, 7, size=base.shape, dtype=np.int16)
    out: Image = np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return out


def _soft_ellipse(h: int, w: int) -> npt.NDArray[np.float32]:
    """Alpha mask of a head-and-shoulders silhouette with feathered edges, so a live
    scene has no straight photo edge for the border cue to find."""
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, int(h * 0.45)), (int(w * 0.42), int(h * 0.47)), 0, 0, 360, 1.0, -1)
    k = max(3, (min(h, w) // 8) | 1)
    return np.asarray(cv2.GaussianBlur(mask, (k, k), 0), dtype=np.float32)


def _place(
    frame: Image, face_bgr: Image, cx: float, cy: float, scale: float, blend: bool
) -> None:
    h, w = face_bgr.shape[:2]
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    face = cv2.resize(face_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x0, y0 = round(cx - nw / 2), round(cy - nh / 2)
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(FRAME_W, x0 + nw), min(FRAME_H, y0 + nh)
    patch = face[ys - y0 : ye - y0, xs - x0 : xe - x0]
    if not blend:
        frame[ys:ye, xs:xe] = patch
        return
    alpha = _soft_ellipse(nh, nw)[ys - y0 : ye - y0, xs - x0 : xe - x0, None]
    region = frame[ys:ye, xs:xe].astype(np.float32)
    frame[ys:ye, xs:xe] = (alpha * patch + (1 - alpha) * region).astype(np.uint8)


@cache
def live_scene(name: str, frames: int = 24, seed: int = 0) -> tuple[Image, ...]:
    """A person in front of the kiosk: small sway, scale and lighting changes."""
    rng = np.random.default_rng(seed)
    face = _bgr(portrait_rgb(name))
    scale0 = 440 / face.shape[0]  # a face about 200 px tall, as at a kiosk
    out: list[Image] = []
    for i in range(frames):
        frame = _background(rng)
        t = i / max(frames - 1, 1)
        dx = 6 * np.sin(2 * np.pi * t) + rng.normal(0, 1.5)
        dy = 3 * np.cos(2 * np.pi * t) + rng.normal(0, 1.0)
        scale = scale0 * (1 + 0.02 * np.sin(np.pi * t))
        _place(frame, face, FRAME_W / 2 + dx, FRAME_H / 2 + dy, scale, blend=True)
        gain = 1 + rng.normal(0, 0.02)
        frame = np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        frame.setflags(write=False)
        out.append(frame)
    return tuple(out)


@cache
def printed_photo_scene(name: str, frames: int = 24, seed: int = 0) -> tuple[Image, ...]:
    """A still print held up to the camera: white paper border, no motion."""
    rng = np.random.default_rng(seed)
    face = _bgr(portrait_rgb(name))
    bordered = np.asarray(
        cv2.copyMakeBorder(face, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=(245, 245, 245)),
        dtype=np.uint8,
    )
    scale = 460 / bordered.shape[0]
    still = _background(rng)
    _place(still, bordered, FRAME_W / 2, FRAME_H / 2, scale, blend=False)
    still.setflags(write=False)
    return (still,) * frames


@cache
def empty_scene(frames: int = 4, seed: int = 0) -> tuple[Image, ...]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(frames):
        f = _background(rng)
        f.setflags(write=False)
        out.append(f)
    return tuple(out)
