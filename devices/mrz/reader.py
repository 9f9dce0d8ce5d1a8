"""Read the MRZ off an image of a data page: locate, segment, recognise, repair.

Repair uses what ICAO 9303-3 guarantees: each position's character class (digits in
dates and check digits, letters in names and state codes) settles 0/O, 1/I, 8/B, 5/S
and 2/Z where only one is allowed; in the alphanumeric fields the check digits decide
between the recogniser's next-best candidates (at most two substitutions per field, the
cheapest first). A reading is valid only when every check digit holds.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from devices.icao9303.mrz import FILLER, Mrz, MrzError
from devices.mrz import glyphs, locate
from devices.mrz.layout import (
    ALPHABET,
    CHECKED,
    CLASSES,
    NAME_FIELD,
    SHAPES,
    CheckedField,
    MrzLayout,
    name_well_formed,
)
from devices.protocols import MrzKey

_MAX_SUBSTITUTIONS = 2
_ALTERNATIVES = 3
# A check digit carries about 3.3 bits: repairs may only pick near-ties, or enough
# combinations would "pass" by chance. Readings below the floors are not trusted.
_MAX_REPAIR_COST = 0.12
_MIN_CONFIDENCE = 0.75
_MIN_CELL_SCORE = 0.45
# Every line must be clear on its own: the name line carries no check digit, and on a
# print that is not quite OCR-B (measured: ICAO figures, a phone photo) a garbled name
# line or near-ties everywhere otherwise passed with a good mean over the whole zone.
_MIN_LINE_CONFIDENCE = 0.85
# A field with more near-tie options than this is not repaired: every extra option
# multiplies the combinations tried, and one in ten passes a check digit by chance
# (this also bounds the search: at most 55 combinations per field).
_MAX_REPAIR_OPTIONS = 10
_MIN_REPAIR_MARGIN = 0.05  # the runner-up passing repair must cost this much more
# Where no check digit looks (names, nationality, sex), a near-tie is a coin toss: the
# chosen character must beat the runner-up allowed there by this much.
_MIN_UNCHECKED_MARGIN = 0.01
# The document code's first letter (ICAO 9303-4 to -7): P on a passport, A, C or I on a
# card, V on a visa. Not a class the recogniser is held to (a garble would be forced to
# a valid letter): a reading that starts otherwise is refused (the ICAO visa figure
# seen at an angle read `H` for `V`, as TD2, and passed every check digit by chance).
DOCUMENT_CODES: dict[MrzLayout, str] = {
    "TD3": "P",
    "TD2": "ACI",
    "TD1": "ACI",
    "MRVA": "V",
    "MRVB": "V",
}
# D/O by the left corners' ink (glyphs.left_stem): square (a D) at or above this. Applied
# where the other letter scored within the repair margin (the misreads measured were
# within 0.036 to 0.039; a window of 0.12 refused 5 more rendered pages, no more safe).
_D_CORNERS = 0.15


@dataclass(frozen=True)
class MrzReading:
    found: bool
    valid: bool
    lines: tuple[str, ...] = ()
    layout: MrzLayout | None = None
    check_digits: dict[str, bool] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0  # mean template correlation of the chosen characters, 0..1
    cell_scores: tuple[tuple[float, ...], ...] = ()  # per line, per position
    cell_margins: tuple[tuple[float, ...], ...] = ()  # to the runner-up allowed there
    quad: locate.Quad = ()  # where the zone lies in the image: TL, TR, BR, BL (x, y)
    corrections: tuple[str, ...] = ()
    ms: float = 0.0
    problem: str | None = None

    def mrz_key(self) -> MrzKey | None:
        if not self.valid:
            return None
        return Mrz.parse(list(self.lines)).mrz_key()

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "valid": self.valid,
            "mrz": list(self.lines),
            "format": self.layout,
            "fields": self.fields,
            "check_digits": self.check_digits,
            "confidence": round(self.confidence, 3),
            "zone": [[round(x, 1), round(y, 1)] for x, y in self.quad],
            "corrections": list(self.corrections),
            "problem": self.problem,
            "ms": round(self.ms, 1),
        }


def read_image(image: npt.NDArray[np.uint8], today: date | None = None) -> MrzReading:
    """The best MRZ reading of a BGR or grey image; `found` False when none was seen."""
    started = time.perf_counter()
    # The brightest channel, not the luminance: MRZ ink is black (ICAO 9303-3 asks for
    # ink that absorbs in the near infrared too), dark in every channel, while coloured
    # print, stamps and annotations over the zone are bright in at least one.
    gray = image if image.ndim == 2 else np.asarray(image.max(axis=2), np.uint8)
    best: MrzReading | None = None
    # The page as given (and turned by 90 degrees inside the locator), then, only when
    # that read nothing valid, turned by 45 degrees for zones lying near a diagonal.
    for angle in (0.0, 45.0):
        best = _best_of(locate.candidates(gray, angle=angle), today, best)
        if best is not None and best.valid:
            break
    ms = (time.perf_counter() - started) * 1000
    if best is None:
        return MrzReading(found=False, valid=False, ms=ms, problem="no machine-readable zone found")
    return _with_ms(best, ms)


def _best_of(
    found: list[locate.Candidate], today: date | None, best: MrzReading | None
) -> MrzReading | None:
    for candidate in found:
        crop = candidate.crop
        for flipped in (False, True):
            upright = np.asarray(cv2.rotate(crop, cv2.ROTATE_180), np.uint8) if flipped else crop
            reading = _read_crop(upright, today)
            if reading is not None:
                # The quad's first corner is the zone's top left as read.
                quad = candidate.quad[2:] + candidate.quad[:2] if flipped else candidate.quad
                reading = MrzReading(**{**reading.__dict__, "quad": quad})
            if reading is not None and (best is None or _rank(reading) > _rank(best)):
                best = reading
            if best is not None and best.valid:
                return best
    return best


def _rank(reading: MrzReading) -> tuple[bool, float]:
    # Not by how many check digits pass: an upside-down or misaligned garble passes one
    # in ten by chance and hid the clear reading (and its problem) behind it.
    return reading.valid, reading.confidence


def _with_ms(reading: MrzReading, ms: float) -> MrzReading:
    return MrzReading(**{**reading.__dict__, "ms": ms})


def _read_crop(crop: npt.NDArray[np.uint8], today: date | None) -> MrzReading | None:
    ink = glyphs.binarize(crop)
    crop, shear = glyphs.deslant(crop, ink)
    if shear:
        ink = glyphs.binarize(crop)
    lines = glyphs.find_lines(ink)
    best: MrzReading | None = None
    for layout, group in _groups(lines):
        reading = _recognise(ink, layout, group, today)
        if best is None or _rank(reading) > _rank(best):
            best = reading
    return best


def _groups(lines: list[glyphs.Line]) -> list[tuple[MrzLayout, list[glyphs.Line]]]:
    """Runs of consecutive lines that could form a TD1, TD2 or TD3 zone (bottom first)."""
    out: list[tuple[MrzLayout, list[glyphs.Line]]] = []
    for layout, (count, width) in SHAPES.items():
        for start in range(len(lines) - count, -1, -1):
            group = lines[start : start + count]
            if all(_fits(line, width) for line in group):
                out.append((layout, group))
    return out


def _fits(line: glyphs.Line, width: int) -> bool:
    """The line's glyph spacing agrees with `width` cells between its ends."""
    spacing = line.spacing()
    if spacing <= 0:
        return False
    pitch = (line.right - line.left) / (width - 1)
    others = [w for w in (30, 36, 44) if w != width]
    error = abs(spacing - pitch) / pitch
    return error < 0.12 and all(
        error <= abs(spacing - (line.right - line.left) / (w - 1)) / spacing for w in others
    )


def _recognise(
    ink: npt.NDArray[np.uint8], layout: MrzLayout, group: list[glyphs.Line], today: date | None
) -> MrzReading:
    templates = glyphs.ocr_b_templates()
    width = SHAPES[layout][1]
    chosen: list[list[str]] = []
    alternatives: dict[tuple[int, int], list[tuple[float, str]]] = {}
    scores_used: list[float] = []
    per_line: list[tuple[float, ...]] = []
    margins: list[tuple[float, ...]] = []
    fill_notes: list[str] = []
    for i, line in enumerate(group):
        images = glyphs.cell_images(ink, line, width)
        scores = glyphs.class_scores(glyphs.features(images), templates)
        if i == 0 and layout != "TD1" and _reads_as_visa(scores) != layout.startswith("MRV"):
            # The first letter decides passport/card against visa, as in Mrz.parse:
            # a layout that would have to overrule it is not tried (a visa read as TD2
            # with V->W passed the composite check the visa does not have).
            return MrzReading(found=True, valid=False, layout=layout, problem="not a " + layout)
        row: list[str] = []
        row_margins: list[float] = []
        for j, allowed in enumerate(CLASSES[layout][i]):
            ranked = sorted(
                ((float(scores[j, ALPHABET.index(ch)]), ch) for ch in allowed), reverse=True
            )
            margin = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else 1.0
            if ranked[0][1] in "DO" and "D" in allowed and "O" in allowed:
                other = "O" if ranked[0][1] == "D" else "D"
                if ranked[0][0] - float(scores[j, ALPHABET.index(other)]) < _MIN_REPAIR_MARGIN:
                    ranked, margin = _d_or_o(ranked, margin, glyphs.left_stem(images[j]))
            row.append(ranked[0][1])
            scores_used.append(ranked[0][0])
            row_margins.append(margin)
            alternatives[(i, j)] = [
                (ranked[0][0] - s, ch)
                for s, ch in ranked[1 : 1 + _ALTERNATIVES]
                if ranked[0][0] - s <= _MAX_REPAIR_COST
            ]
        filled: list[str] = []
        if i == NAME_FIELD[layout][0]:
            filled = _fill_stray_fillers(layout, i, row, scores, row_margins)
            base = len(scores_used) - width
            for j, ch in enumerate(row):
                scores_used[base + j] = float(scores[j, ALPHABET.index(ch)])
        chosen.append(row)
        per_line.append(tuple(scores_used[-width:]))
        margins.append(tuple(row_margins))
        fill_notes.extend(filled)
    corrections = fill_notes + _repair(layout, chosen, alternatives)
    text = ["".join(row) for row in chosen]
    checks = {f.name: f.passes(text) for f in CHECKED[layout]}
    fields: dict[str, Any] = {}
    problem: str | None = None
    valid = all(checks.values())
    try:
        parsed = Mrz.parse(text, today=today)
        fields = parsed.to_json()
        fields.pop("lines", None)
    except MrzError as exc:
        valid, problem = False, str(exc)
    confidence = float(np.mean(scores_used)) if scores_used else 0.0
    if valid and text[0][0] not in DOCUMENT_CODES[layout]:
        valid, problem = False, f"document code {text[0][0]!r} is not one ICAO allows here"
    if valid and _check_digits_blind(layout, chosen, alternatives, corrections):
        valid, problem = False, "a near-tie the check digits cannot tell apart"
    if valid and not name_well_formed(layout, text):
        valid, problem = False, "name field malformed (a stray character after the filler)"
    if valid and _unclear_unchecked(layout, margins):
        valid, problem = False, "a character no check digit covers is a near-tie"
    if valid and not clear_enough(per_line):
        valid, problem = False, f"characters too unclear to trust (confidence {confidence:.2f})"
    if not valid and problem is None:
        problem = "check digit failed: " + ", ".join(k for k, ok in checks.items() if not ok)
    return MrzReading(
        found=True,
        valid=valid,
        lines=tuple(text),
        layout=layout,
        check_digits=checks,
        fields=fields,
        confidence=confidence,
        cell_scores=tuple(per_line),
        cell_margins=tuple(margins),
        corrections=tuple(corrections),
        problem=problem,
    )


def _fill_stray_fillers(
    layout: MrzLayout,
    line: int,
    row: list[str],
    scores: npt.NDArray[np.float32],
    row_margins: list[float],
) -> list[str]:
    """Read as filler an isolated stray letter in the run of fillers that ends the name.

    ICAO 9303-3 4.6 allows only filler after the name (components are joined by one
    `<`, the identifiers by two), so a letter between fillers after three of them is a
    misread filler (a phone photo's `<` read `K`, a scan's read `C`). Changed only when
    the letter stands alone (or six fillers or more into the run), at most three of
    them, and `<` scored within 0.15 of it there: a clearly printed letter stays and
    the name rule refuses the reading, and letters that follow one another close to the
    name's end (a name the run was misread into) are never wiped.
    """
    start = NAME_FIELD[layout][1]
    end = "".join(row).find(FILLER * 3, start)
    if end < 0:
        return []
    strays = [j for j in range(end, len(row)) if row[j] != FILLER]
    filler = ALPHABET.index(FILLER)
    if not strays or len(strays) > 3:
        return []
    # Letters in a row are a name the run was misread into, unless they stand deep in
    # the run: after six fillers (a photo's last two `<` at the zone's edge read `CZ`).
    deep = strays[0] - end >= 6
    for j in strays:
        isolated = all(row[k] == FILLER for k in (j - 1, j + 1) if k < len(row))
        close = float(scores[j, ALPHABET.index(row[j])] - scores[j, filler]) <= 0.15
        if not ((isolated or deep) and close):
            return []
    notes = []
    for j in strays:
        notes.append(f"name filler: line {line + 1} position {j + 1} {row[j]}-><")
        row[j] = FILLER
        row_margins[j] = 1.0  # settled by the format, not by the recogniser
    return notes


def _d_or_o(
    ranked: list[tuple[float, str]], margin: float, corners: float
) -> tuple[list[tuple[float, str]], float]:
    """Settle a D/O near-tie by the glyph's left corners (square on `D`, round on `O`).

    Measured on the real set: an `O`'s corners hold at most 7% ink, a `D`'s at least 17%
    (but for cells cut in the wrong place). Square corners make it a `D` whatever the
    correlation said. Round corners prove nothing (a `D` at half resolution has them:
    `DIL` read `OIL` at margin 0.038 with `B` between): the position stays a tie.
    """
    if corners < _D_CORNERS:
        return ranked, 0.0
    d = (
        next(i for i, (_, ch) in enumerate(ranked) if ch == "D")
        if any(ch == "D" for _, ch in ranked)
        else None
    )
    if d is None:
        return ranked, 0.0
    if d:
        ranked = [ranked[d], *ranked[:d], *ranked[d + 1 :]]
    return ranked, max(margin, _MIN_UNCHECKED_MARGIN)


def clear_enough(cell_scores: Sequence[Sequence[float]]) -> bool:
    """The trust floors: the zone's mean, every cell, and every line's own mean."""
    cells = [score for line in cell_scores for score in line]
    if not cells:
        return False
    return (
        float(np.mean(cells)) >= _MIN_CONFIDENCE
        and min(cells) >= _MIN_CELL_SCORE
        and min(float(np.mean(line)) for line in cell_scores) >= _MIN_LINE_CONFIDENCE
    )


def _unclear_unchecked(layout: MrzLayout, margins: list[tuple[float, ...]]) -> bool:
    checked = {cell for f in CHECKED[layout] for cell in f.positions()}
    return any(
        margin < _MIN_UNCHECKED_MARGIN
        for i, row in enumerate(margins)
        for j, margin in enumerate(row)
        if (i, j) not in checked
    )


def _reads_as_visa(scores: npt.NDArray[np.float32]) -> bool:
    """The first cell reads best as V among the letters."""
    letters = [ALPHABET.index(ch) for ch in ALPHABET if ch.isalpha()]
    return ALPHABET[letters[int(np.argmax(scores[0, letters]))]] == "V"


def _check_digits_blind(
    layout: MrzLayout,
    chosen: list[list[str]],
    alternatives: dict[tuple[int, int], list[tuple[float, str]]],
    corrections: list[str],
) -> bool:
    """Another reading, one or two near-ties away, would pass every check digit too.

    A check digit is blind to some substitutions: two `O`<->`0` swaps at weights 3 and 7
    (24 x 10), or `A`<->`0` at any weight (10). When the recogniser's runner-up sits
    within the repair margin at such cells, the check digits cannot confirm the reading
    (a noisy rendered page read `O8O4` as `0804` at margins 0.006 and 0.014, valid and
    wrong): the same rule as for a repair, applied to a reading that passes as read.
    """
    if corrections:
        return False  # a repaired reading already passed the margin rule in _cheapest_fix
    checked = CHECKED[layout]
    cells = sorted({cell for f in checked for cell in f.positions()})
    options = [
        (cost, cell, ch)
        for cell in cells
        for cost, ch in alternatives.get(cell, [])
        if cost < _MIN_REPAIR_MARGIN
    ]
    for n in range(1, _MAX_SUBSTITUTIONS + 1):
        for combo in itertools.combinations(options, n):
            if (
                len({cell for _, cell, _ in combo}) < n
                or sum(c for c, _, _ in combo) >= _MIN_REPAIR_MARGIN
            ):
                continue
            trial = [row[:] for row in chosen]
            for _, (line, pos), ch in combo:
                trial[line][pos] = ch
            text = ["".join(row) for row in trial]
            if all(f.passes(text) for f in checked):
                return True
    return False


def _repair(
    layout: MrzLayout,
    chosen: list[list[str]],
    alternatives: dict[tuple[int, int], list[tuple[float, str]]],
) -> list[str]:
    """Substitute next-best characters where a check digit fails, cheapest first."""
    done: list[str] = []
    fixed: set[tuple[int, int]] = set()
    checked = CHECKED[layout]
    for f in sorted(checked, key=lambda f: f.name == "composite"):
        text = ["".join(row) for row in chosen]
        if f.passes(text):
            fixed.update(f.positions())
            continue
        cells = [p for p in f.positions() if p not in fixed]
        fix = _cheapest_fix(f, chosen, cells, alternatives)
        if fix is None:
            continue
        for (line, pos), ch in fix:
            done.append(f"{f.name}: line {line + 1} position {pos + 1} {chosen[line][pos]}->{ch}")
            chosen[line][pos] = ch
        fixed.update(f.positions())
    return done


def _cheapest_fix(
    f: CheckedField,
    chosen: list[list[str]],
    cells: list[tuple[int, int]],
    alternatives: dict[tuple[int, int], list[tuple[float, str]]],
) -> list[tuple[tuple[int, int], str]] | None:
    """The cheapest substitution set that makes `f` pass, or None when none does or
    another one passes at nearly the same cost.

    Two passing sets of about equal cost mean the check digit cannot tell which reading
    is right (on a print that is not quite OCR-B, a B/8 pair and a C/E fix passed at
    0.064 and 0.101): a guess, so no repair. On OCR-B the true fix was the cheapest by
    0.1 or more in every rendered case measured.
    """
    options = [(cost, cell, ch) for cell in cells for cost, ch in alternatives.get(cell, [])]
    if len(options) > _MAX_REPAIR_OPTIONS:
        return None
    passing: list[tuple[float, list[tuple[tuple[int, int], str]]]] = []
    for n in range(1, _MAX_SUBSTITUTIONS + 1):
        for combo in itertools.combinations(options, n):
            if len({cell for _, cell, _ in combo}) < n:
                continue
            trial = [row[:] for row in chosen]
            for _, (line, pos), ch in combo:
                trial[line][pos] = ch
            if f.passes(["".join(row) for row in trial]):
                passing.append((sum(c for c, _, _ in combo), [(c, ch) for _, c, ch in combo]))
    passing.sort(key=lambda item: item[0])
    if not passing or (len(passing) > 1 and passing[1][0] - passing[0][0] < _MIN_REPAIR_MARGIN):
        return None
    return passing[0][1]
