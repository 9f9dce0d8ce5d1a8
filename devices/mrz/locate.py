"""Find the MRZ on an image of a data page and cut it out upright.

The MRZ is the widest block of dense, evenly spaced dark text on the page: a black-hat
filter keeps dark strokes on the light page, a horizontal gradient keeps the vertical
strokes of characters, and closing joins them into one block per text area. Candidates
are ranked by width and aspect; the reader tries them in turn (and each also upside
down, for a page laid the wrong way round).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
_WORK_WIDTH = 900
_OUT_WIDTH = 1100  # the rectified block's width: about 25 px per TD3 cell


def candidates(gray: Gray, limit: int = 4) -> list[Gray]:
    """Upright crops of the likeliest MRZ blocks, best first."""
    scale = min(1.0, _WORK_WIDTH / gray.shape[1])
    small: Any = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
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
    ranked: list[tuple[float, Any]] = []
    for contour in contours:
        rect = cv2.minAreaRect(contour)
        (_, _), (w, h), _ = rect
        long_side, short_side = max(w, h), max(min(w, h), 1.0)
        if long_side < 0.3 * width or long_side / short_side < 3.0:
            continue
        ranked.append((long_side * min(long_side / short_side, 12.0), rect))
    ranked.sort(key=lambda item: -item[0])
    return [_rectify(gray, rect, scale) for _, rect in ranked[:limit]]


def _rectify(gray: Gray, rect: Any, scale: float) -> Gray:
    (cx, cy), (w, h), angle = rect
    if w < h:  # make the long side horizontal
        w, h, angle = h, w, angle - 90
    if angle < -45:
        angle += 180
    if angle > 45:
        angle -= 180
    cx, cy, w, h = cx / scale, cy / scale, w / scale, h / scale
    w, h = w * 1.06 + 8, h * 1.5 + 8  # the block hugs the ink: leave room for the outer cells
    box = cv2.boxPoints(((cx, cy), (w, h), angle)).astype(np.float32)
    # boxPoints order: bottom-left, top-left, top-right, bottom-right for this angle range.
    box = _order(box)
    out_h = max(8, round(_OUT_WIDTH * h / w))
    dst = np.array([[0, 0], [_OUT_WIDTH, 0], [_OUT_WIDTH, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box, dst)
    upright = cv2.warpPerspective(
        gray, matrix, (_OUT_WIDTH, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(upright, dtype=np.uint8)


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
