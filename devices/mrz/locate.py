"""Find the MRZ on an image of a data page and cut it out upright.

The MRZ is a stack of 2 or 3 long lines of dense, evenly spaced dark text. A black-hat
filter keeps dark strokes on the light page, a gradient along the text keeps the
characters' strokes, and closing joins them into one block per text line (or per zone
when its lines sit close). Line blocks that are parallel, about as long and stacked at
a line pitch are joined into one zone: real pages print the MRZ lines far enough apart
that they rarely merge on their own. The search runs on the page as given and turned
by 90 degrees (the filters are directional), at a fixed working width (small images
are enlarged, so a 12 px zone text is not lost to the kernels). Each zone is cut out
upright by a perspective warp of its minimum-area rectangle; the reader also tries it
upside down. Each candidate carries its quadrilateral in the caller's pixel
coordinates, for guidance and for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
Quad = tuple[tuple[float, float], ...]  # top-left, top-right, bottom-right, bottom-left
_WORK_WIDTH = 900
_MAX_UPSCALE = 3.0
_OUT_WIDTH = 1100  # the rectified block's width: about 25 px per TD3 cell


@dataclass(frozen=True)
class Candidate:
    crop: Gray  # the zone, upright as found (the reader also tries it turned 180 degrees)
    quad: Quad  # where it lies in the input image
    score: float  # block length x aspect, for ranking only


def candidates(gray: Gray, limit: int = 6, angle: float = 0.0) -> list[Candidate]:
    """Upright crops of the likeliest MRZ zones, best first.

    `angle` turns the page first (degrees, counter-clockwise), for zones lying near a
    diagonal: the filters are directional, and the page as given and turned by 90
    degrees covered zones within about 20 degrees of either axis (measured on the real
    set turned by 33 and 60 degrees: about half as many read as turned by 17).
    """
    if angle:
        h, w = gray.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
        matrix[0, 2] += nw / 2 - w / 2
        matrix[1, 2] += nh / 2 - h / 2
        rotated = cv2.warpAffine(gray, matrix, (nw, nh), borderMode=cv2.BORDER_REPLICATE)
        back = cv2.invertAffineTransform(matrix)
        mapped: list[Candidate] = []
        for c in candidates(np.asarray(rotated, np.uint8), limit):
            quad = tuple(
                (float(back[0, 0] * x + back[0, 1] * y + back[0, 2]),
                 float(back[1, 0] * x + back[1, 1] * y + back[1, 2]))
                for x, y in c.quad
            )  # fmt: skip
            mapped.append(Candidate(c.crop, quad, c.score))
        return mapped
    found: list[tuple[float, Any, bool]] = []
    for turned in (False, True):
        image = np.ascontiguousarray(np.rot90(gray)) if turned else gray
        for score, rect in _blocks(image):
            found.append((score, rect, turned))
    found.sort(key=lambda item: -item[0])
    out: list[Candidate] = []
    for score, rect, turned in found[:limit]:
        image = np.ascontiguousarray(np.rot90(gray)) if turned else gray
        crop, quad = _rectify(image, rect)
        if turned:  # back into the input's coordinates: rot90 maps (x, y) -> (y, W-1-x)
            width = gray.shape[1]
            quad = tuple((width - 1 - y, x) for x, y in quad)
        out.append(Candidate(crop, quad, score))
    return out


def _blocks(gray: Gray) -> list[tuple[float, Any]]:
    """Rotated rectangles (full-resolution coordinates) of zone-like text blocks."""
    scale = min(_MAX_UPSCALE, _WORK_WIDTH / gray.shape[1])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small: Any = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation)
    width = small.shape[1]
    k = max(3, int(width * 0.012))
    blackhat = cv2.morphologyEx(
        small, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k * 2 + 1, k + 1))
    )
    grad: Any = np.abs(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=3))
    grad = (255 * grad / max(float(grad.max()), 1e-6)).astype(np.uint8)
    grad = cv2.morphologyEx(
        grad, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k * 2, 1))
    )
    mask: Any
    _, mask = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(
        mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k * 3, k * 2))
    )
    square = np.ones((3, 3), np.uint8)  # open: drop thin bridges to neighbouring text
    mask = cv2.dilate(cv2.erode(mask, square, iterations=2), square, iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    lines: list[tuple[Any, Any]] = []  # (rect, contour) of every long flat block
    for contour in contours:
        rect = cv2.minAreaRect(contour)
        (_, _), (w, h), _ = rect
        long_side, short_side = max(w, h), max(min(w, h), 1.0)
        if long_side < 0.25 * width or long_side / short_side < 3.0:
            continue
        lines.append((rect, contour))
    ranked: list[tuple[float, Any]] = []
    for i, (rect, contour) in enumerate(lines):
        ranked.append((_score(rect), rect))
        mates = [c for j, (r, c) in enumerate(lines) if j != i and _stacked(rect, r)]
        if mates:
            joined = cv2.minAreaRect(np.concatenate([contour, *mates]))
            # A zone of 2-3 lines outranks each of its lines alone.
            ranked.append((_score(joined) * (1.0 + 0.5 * min(len(mates), 2)), joined))
    out = []
    for score, ((cx, cy), (w, h), angle) in ranked:
        out.append((score / scale, ((cx / scale, cy / scale), (w / scale, h / scale), angle)))
    return out


def _score(rect: Any) -> float:
    (_, _), (w, h), _ = rect
    long_side, short_side = max(w, h), max(min(w, h), 1.0)
    return float(long_side * min(long_side / short_side, 12.0))


def _axis(rect: Any) -> tuple[npt.NDArray[np.float64], float, float]:
    """The unit vector along the long side, the long and the short side."""
    (_, _), (w, h), angle = rect
    theta = np.deg2rad(angle if w >= h else angle + 90)
    return np.array([np.cos(theta), np.sin(theta)]), max(w, h), max(min(w, h), 1.0)


def _stacked(a: Any, b: Any) -> bool:
    """b is a neighbouring MRZ line of a: parallel, about as long, one line pitch away."""
    ua, la, ha = _axis(a)
    ub, lb, hb = _axis(b)
    if abs(float(ua @ ub)) < np.cos(np.deg2rad(4)) or not 0.8 < lb / la < 1.25:
        return False
    offset = np.array(b[0]) - np.array(a[0])
    along = abs(float(offset @ ua))
    across = abs(float(offset[0] * -ua[1] + offset[1] * ua[0]))
    return along < 0.1 * la and max(ha, hb) * 0.8 < across < 4.0 * max(ha, hb)


def _rectify(gray: Gray, rect: Any) -> tuple[Gray, Quad]:
    (cx, cy), (w, h), angle = rect
    if w < h:  # make the long side horizontal
        w, h, angle = h, w, angle - 90
    if angle < -45:
        angle += 180
    if angle > 45:
        angle -= 180
    w, h = w * 1.06 + 8, h * 1.5 + 8  # the block hugs the ink: leave room for the outer cells
    box = _order(cv2.boxPoints(((cx, cy), (w, h), angle)).astype(np.float32))
    out_h = max(8, round(_OUT_WIDTH * h / w))
    dst = np.array([[0, 0], [_OUT_WIDTH, 0], [_OUT_WIDTH, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box, dst)
    upright = cv2.warpPerspective(
        gray, matrix, (_OUT_WIDTH, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    quad = tuple((float(x), float(y)) for x, y in box)
    return np.asarray(upright, dtype=np.uint8), quad


def _order(points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Top-left, top-right, bottom-right, bottom-left."""
    s = points.sum(axis=1)
    d = np.diff(points, axis=1).ravel()
    corners = [
        points[np.argmin(s)],
        points[np.argmin(d)],
        points[np.argmax(s)],
        points[np.argmax(d)],
    ]
    return np.array(corners, dtype=np.float32)
