"""MRZ lines to character cells, and cells to characters.

ICAO 9303-3 prints the MRZ in OCR-B (ISO 1073-2) at a fixed pitch of 2.54 mm, so a
line is a row of equal cells whatever the document. The segmenter finds the ink of each
line, fits the first and last cell and cuts the cells in between (robust to glyphs that
touch or break apart); the classifier compares each cell with OCR-B templates rendered
through the same segmenter (normalised cross-correlation, best template per class).
Tesseract's general models misread the '<' filler as K or X and lose the cell count;
a font-specific matcher is what the fixed font and pitch make possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from devices.mrz.layout import ALPHABET

CELL_W, CELL_H = 16, 24
Gray = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True)
class Line:
    """One text line of a rectified MRZ crop: its components' boxes (x, y, w, h)."""

    boxes: tuple[tuple[int, int, int, int], ...]

    @property
    def left(self) -> float:
        x, _, w, _ = self.boxes[0]
        return x + w / 2

    @property
    def right(self) -> float:
        x, _, w, _ = self.boxes[-1]
        return x + w / 2

    @property
    def cy(self) -> float:
        return float(np.median([y + h / 2 for _, y, _, h in self.boxes]))

    @property
    def glyph_height(self) -> float:
        heights = sorted(h for *_, h in self.boxes)
        return float(heights[int(len(heights) * 0.8)])

    def spacing(self) -> float:
        centres = [x + w / 2 for x, _, w, _ in self.boxes]
        gaps = np.diff(centres)
        return float(np.median(gaps)) if len(gaps) else 0.0


def binarize(gray: Gray) -> Gray:
    """Ink as 255 on 0, evening out glare and shadow by dividing out the background."""
    sigma = max(8.0, gray.shape[0] / 6)
    background = _smooth(gray, sigma)
    flat = cv2.divide(gray, np.maximum(background, 1), scale=220)
    _, ink = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return np.asarray(ink, dtype=np.uint8)


_SHEARS = np.linspace(-0.5, 0.5, 21)  # horizontal shift per pixel of height


def deslant(gray: Gray, ink: Gray) -> tuple[Gray, float]:
    """The crop with its characters' vertical strokes made vertical again.

    A page photographed at an angle shears the zone: the minimum-area rectangle around
    it levels the baseline but leaves the glyphs leaning (measured up to about 0.3 px
    per px on phone photos), and a leaning `1` or `<` no longer matches its template
    in its cell. The shear that makes the ink's column profile sharpest (the largest
    sum of squared column sums: vertical strokes stacked in few columns) is undone.
    """
    h, w = ink.shape
    small = cv2.resize(ink, (w // 2, h // 2), interpolation=cv2.INTER_AREA).astype(np.float32)
    sh, sw = small.shape
    best, best_score = 0.0, -1.0
    for shear in _SHEARS:
        matrix = np.array([[1.0, shear, -shear * sh / 2], [0.0, 1.0, 0.0]], np.float32)
        columns = cv2.warpAffine(small, matrix, (sw, sh)).sum(axis=0)
        score = float(np.dot(columns, columns))
        if score > best_score:
            best, best_score = float(shear), score
    if abs(best) < 0.04:
        return gray, 0.0
    matrix = np.array([[1.0, best, -best * h / 2], [0.0, 1.0, 0.0]], np.float32)
    out = cv2.warpAffine(
        gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(out, np.uint8), best


def _smooth(gray: Gray, sigma: float) -> Gray:
    """A wide Gaussian blur; a wide one is taken at reduced size (same result, a tall
    crop's direct blur cost seconds: the kernel grows with the sigma)."""
    factor = int(sigma // 8)
    if factor < 2:
        return np.asarray(cv2.GaussianBlur(gray, (0, 0), sigma), np.uint8)
    h, w = gray.shape
    small = cv2.resize(
        gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)


def find_lines(ink: Gray, min_glyphs: int = 20) -> list[Line]:
    """Group ink components into text lines by chaining neighbours left to right."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    boxes: list[Box] = [
        (int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3]))
        for i in range(1, count)
    ]
    boxes = [b for b in boxes if b[3] >= 4 and b[2] * b[3] >= 10]
    if not boxes:
        return []
    heights = sorted(b[3] for b in boxes)
    typical = float(heights[int(len(heights) * 0.75)])
    glyphs = [b for b in boxes if 0.3 * typical <= b[3] <= 1.8 * typical]
    glyphs.sort(key=lambda b: b[0])
    chains: list[list[Box]] = []
    for box in glyphs:
        cy = box[1] + box[3] / 2
        best, best_dy = None, 0.6 * typical
        for chain in chains:
            lx, ly, lw, lh = chain[-1]
            dy = abs((ly + lh / 2) - cy)
            if dy < best_dy and box[0] - (lx + lw) < 3.5 * typical:
                best, best_dy = chain, dy
        if best is None:
            chains.append([box])
        else:
            best.append(box)
    lines = [Line(tuple(_merge_overlaps(c))) for c in chains if len(c) >= min_glyphs]
    return sorted(lines, key=lambda line: line.cy)


def _merge_overlaps(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """A glyph broken by noise or glare shows as stacked parts: join them."""
    merged: list[tuple[int, int, int, int]] = []
    for x, y, w, h in boxes:
        if merged:
            px, py, pw, ph = merged[-1]
            overlap = min(px + pw, x + w) - max(px, x)
            if overlap > 0.5 * min(pw, w):
                nx, ny = min(px, x), min(py, y)
                merged[-1] = (nx, ny, max(px + pw, x + w) - nx, max(py + ph, y + h) - ny)
                continue
        merged.append((x, y, w, h))
    return merged


def cells(ink: Gray, line: Line, count: int) -> npt.NDArray[np.float32]:
    """Cut `count` cells between the first and last glyph; one feature row each."""
    return features(cell_images(ink, line, count))


def features(images: list[Gray]) -> npt.NDArray[np.float32]:
    """One feature row per cell image."""
    return np.stack([_feature(cell) for cell in images])


def cell_images(ink: Gray, line: Line, count: int) -> list[Gray]:
    """The ink of each of the line's `count` cells."""
    pitch = (line.right - line.left) / max(count - 1, 1)
    xs = np.array([x + w / 2 for x, _, w, _ in line.boxes])
    ys = np.array([y + h / 2 for _, y, _, h in line.boxes])
    # The line may slope, and bend where a booklet page curves, after rectification;
    # a page seen at an angle also prints larger at its near end: follow both.
    degree = 2 if len(xs) >= 10 else 1 if len(xs) > 2 else 0
    middle = np.polyfit(xs, ys, degree)
    heights = _height_fit(line.boxes)
    found = _glyph_centres(line.boxes, pitch)
    centres = cell_centres(found, count)
    images: list[Gray] = []
    for k in range(count):
        cx = float(centres[k])
        # Centre the cell on its own glyph when one was found there, as the templates
        # are: the fit leaves a few pixels of error that shift a `<` towards a `C`.
        near = int(np.argmin(np.abs(found - cx)))
        if abs(found[near] - cx) < 0.3 * pitch:
            cx = float(found[near])
        cy = float(np.polyval(middle, cx))
        half_h = 0.75 * float(np.polyval(heights, cx))
        x0, x1 = round(cx - pitch / 2), round(cx + pitch / 2)
        y0, y1 = round(cy - half_h), round(cy + half_h)
        images.append(_crop(ink, x0, y0, x1, y1))
    return images


def left_stem(cell: Gray) -> float:
    """How square the glyph's left corners are: the ink share in its top-left and
    bottom-left corners (a fifth of its width, a tenth of its height, each).

    OCR-B's `D` has a straight stem meeting its top and bottom bars in square corners
    where `O` is round: the whole-cell correlation, blurred at 16x24, tells them apart
    by little (a phone photo's `D` in FIDAN read `O` at a margin of 0.036); this looks
    at the one place where they differ.
    """
    ys, xs = np.nonzero(cell)
    if len(xs) < 10:
        return 0.5
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    ch = max(1, round((bottom - top + 1) / 10))
    cw = max(1, round((right - left + 1) / 5))
    upper = cell[top : top + ch, left : left + cw]
    lower = cell[bottom - ch + 1 : bottom + 1, left : left + cw]
    return float(min(upper.mean(), lower.mean()) / 255)


def _height_fit(boxes: tuple[Box, ...]) -> npt.NDArray[np.float64]:
    """Glyph height along the line (linear in x): the fit to the taller half of the
    boxes, since fillers and broken parts are shorter than the capitals."""
    xs = np.array([x + w / 2 for x, _, w, _ in boxes], dtype=np.float64)
    hs = np.array([h for *_, h in boxes], dtype=np.float64)
    flat = np.array([0.0, float(np.quantile(hs, 0.8))])
    if len(xs) < 10:
        return flat
    fit = np.polyfit(xs, hs, 1)
    tall = hs >= np.polyval(fit, xs)
    if tall.sum() < 5:
        return flat
    fit = np.polyfit(xs[tall], hs[tall], 1)
    # Never far from the line's own typical height (a fit skewed by a few boxes).
    lo, hi = 0.7 * flat[1], 1.3 * flat[1]
    if not all(lo <= np.polyval(fit, x) <= hi for x in (xs[0], xs[-1])):
        return flat
    return np.asarray(fit, np.float64)


def _glyph_centres(boxes: tuple[Box, ...], pitch: float) -> npt.NDArray[np.float64]:
    """The centre of every glyph; a box a pitch or more wider than a glyph is glyphs
    that touch (blur, `NN` in a name) and gives one centre per pitch."""
    typical = float(np.median([w for _, _, w, _ in boxes]))
    out: list[float] = []
    for x, _, w, _ in boxes:
        n = max(1, round((w - typical) / pitch) + 1) if pitch > 0 else 1
        first = x + w / 2 - (n - 1) * pitch / 2
        out.extend(first + i * pitch for i in range(n))
    return np.array(out, dtype=np.float64)


def cell_centres(xs: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.float64]:
    """Where the `count` cells lie along a line whose glyph centres are `xs`.

    The pitch is fixed on paper but not in a photo: a page seen at an angle prints
    larger at its near end (measured: 22.3 px at one end of a phone photo's line, 24 at
    the other), so equal cells between the ends drift by half a cell mid-line and
    garble every character there. Each glyph is given its cell index by the gaps to its
    neighbours (a gap of two pitches is a glyph the segmenter lost), then a quadratic
    fit of position against index places every cell. When the indices do not come out
    at `count` cells, the equal cells between the ends are kept.
    """
    left, right = float(xs[0]), float(xs[-1])
    uniform = left + np.arange(count) * (right - left) / max(count - 1, 1)
    if len(xs) < max(6, count // 2):
        return uniform
    gaps = np.diff(xs)
    pitch = (right - left) / max(count - 1, 1)
    index = [0]
    for i, gap in enumerate(gaps):
        # The local pitch: the median of the nearby gaps that look like one cell.
        near = gaps[max(0, i - 4) : i + 5]
        single = near[(near > 0.7 * pitch) & (near < 1.3 * pitch)]
        local = float(np.median(single)) if len(single) else pitch
        index.append(index[-1] + max(1, round(float(gap) / local)))
    if index[-1] != count - 1:
        return uniform
    fit = np.polyfit(np.array(index, dtype=np.float64), xs, 2)
    return np.asarray(np.polyval(fit, np.arange(count)), dtype=np.float64)


def _crop(ink: Gray, x0: int, y0: int, x1: int, y1: int) -> Gray:
    h, w = ink.shape
    out = np.zeros((max(y1 - y0, 1), max(x1 - x0, 1)), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = ink[sy0:sy1, sx0:sx1]
    return out


def _feature(cell: Gray) -> npt.NDArray[np.float32]:
    resized = cv2.resize(cell, (CELL_W, CELL_H), interpolation=cv2.INTER_AREA)
    small = np.asarray(
        cv2.GaussianBlur(resized.astype(np.float32), (3, 3), 0.8), np.float32
    ).ravel()
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 1e-6 else small


@dataclass(frozen=True)
class Templates:
    features: npt.NDArray[np.float32]  # (templates, CELL_W * CELL_H)
    labels: npt.NDArray[np.int32]  # index into ALPHABET per template


@lru_cache(maxsize=1)
def ocr_b_templates() -> Templates:
    """Every MRZ character rendered in OCR-B at several sizes, blurs and stroke weights."""
    from devices.mrz.ocr_b import render_mrz_strip

    text = (ALPHABET * 2)[:44]
    feats: list[npt.NDArray[np.float32]] = []
    labels: list[int] = []
    for pitch in (16.0, 22.0, 30.0):
        strip = np.asarray(render_mrz_strip(text, pitch), dtype=np.uint8)
        for blur in (0.0, 0.35, 0.7):
            img = np.asarray(
                cv2.GaussianBlur(strip, (0, 0), blur * pitch / 10) if blur else strip,
                dtype=np.uint8,
            )
            ink = binarize(img)
            for weight in (-1, 0, 1):
                variant = _stroke(ink, weight)
                lines = find_lines(variant, min_glyphs=30)
                if len(lines) != 1:
                    continue
                rows = cells(variant, lines[0], len(text))
                feats.extend(rows)
                labels.extend(ALPHABET.index(ch) for ch in text)
    if not feats:
        raise RuntimeError("OCR-B templates could not be rendered (is fonts-ocr-b installed?)")
    return Templates(np.stack(feats), np.array(labels, dtype=np.int32))


def _stroke(ink: Gray, weight: int) -> Gray:
    if weight == 0:
        return ink
    kernel = np.ones((2, 2), np.uint8)
    return np.asarray(
        cv2.dilate(ink, kernel) if weight > 0 else cv2.erode(ink, kernel), dtype=np.uint8
    )


def class_scores(
    features: npt.NDArray[np.float32], templates: Templates
) -> npt.NDArray[np.float32]:
    """Per cell, the best correlation with any template of each character: (cells, 37)."""
    sims = features @ templates.features.T
    scores = np.full((features.shape[0], len(ALPHABET)), -1.0, dtype=np.float32)
    for label in range(len(ALPHABET)):
        mask = templates.labels == label
        if mask.any():
            scores[:, label] = sims[:, mask].max(axis=1)
    return scores
