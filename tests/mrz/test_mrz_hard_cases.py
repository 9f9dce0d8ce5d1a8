"""MRZ capture on generated hard cases the rendered-page tests did not cover (issue 21):
a page turned 90 degrees, MRZ lines printed far apart, a visa, a small image, the
zone's quadrilateral, and check-digit repairs that would be a guess."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest

from devices.icao9303.mrz import Mrz
from devices.mrz import reader as mrz_reader
from devices.mrz.layout import CHECKED
from devices.mrz.ocr_b import ocr_b_available, render_mrz_strip
from devices.mrz.reader import read_image
from devices.simulated.data_page import render_data_page
from tests.mrz.specimen import ICAO_SPECIMEN

pytestmark = pytest.mark.skipif(not ocr_b_available(), reason="fonts-ocr-b is not installed")

PASSPORT = ICAO_SPECIMEN


def _visa(fmt: str) -> Mrz:
    return Mrz.create(
        document_code="V",
        issuing_state="UTO",
        surname="ERIKSSON",
        given_names="ANNA MARIA",
        document_number="L8988901C",
        nationality="XXX",
        birth_date=date(1940, 9, 7),
        sex="F",
        expiry_date=date(2036, 12, 10),
        optional_data="6ZE1842",
        format=fmt,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("turn", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_a_page_turned_90_degrees_is_read_and_the_zone_located(turn: int) -> None:
    page = render_data_page(PASSPORT.lines(), seed=5)
    image = cv2.rotate(page, turn)
    reading = read_image(image)
    assert reading.valid and reading.lines == PASSPORT.lines(), reading.problem
    # The MRZ is at the foot of the page: after a quarter turn it lies along a side.
    xs = [x for x, _ in reading.quad]
    centre_x = float(np.mean(xs)) / image.shape[1]
    assert len(reading.quad) == 4
    # Turned clockwise, the foot of the page goes to the left.
    assert centre_x < 0.4 if turn == cv2.ROTATE_90_CLOCKWISE else centre_x > 0.6, centre_x


def test_the_zone_quadrilateral_surrounds_the_printed_lines() -> None:
    page = render_data_page(PASSPORT.lines(), seed=2)
    reading = read_image(page)
    assert reading.valid
    h, w = page.shape[:2]
    xs = [x for x, _ in reading.quad]
    ys = [y for _, y in reading.quad]
    assert min(ys) > 0.6 * h and max(ys) <= h  # the foot of the page
    assert max(xs) - min(xs) > 0.6 * w  # the lines run across most of it
    assert reading.to_json()["zone"] and len(reading.to_json()["zone"]) == 4


def _far_apart_page(lines: list[str], gap_lines: float) -> np.ndarray:
    """MRZ lines printed `gap_lines` line heights apart on a plain light page (real
    data pages space them more than the closing kernel bridges)."""
    pitch = 22.0
    strips = [np.asarray(render_mrz_strip(line, pitch), dtype=np.uint8) for line in lines]
    sh, sw = strips[0].shape
    step = int(sh * gap_lines)
    page = np.full((step * len(lines) + 4 * sh, sw + 200), 235, dtype=np.uint8)
    for i, strip in enumerate(strips):
        y = 2 * sh + i * step
        page[y : y + sh, 100 : 100 + sw] = np.minimum(page[y : y + sh, 100 : 100 + sw], strip)
    return cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)


def test_mrz_lines_printed_far_apart_are_joined_into_one_zone() -> None:
    image = _far_apart_page(list(PASSPORT.lines()), gap_lines=1.6)
    reading = read_image(image)
    assert reading.valid and reading.lines == PASSPORT.lines(), reading.problem


@pytest.mark.parametrize("fmt", ["MRVA", "MRVB"])
def test_a_visa_is_read_with_its_own_check_digits(fmt: str) -> None:
    visa = _visa(fmt)
    reading = read_image(render_data_page(visa.lines(), seed=4))
    assert reading.valid and reading.lines == visa.lines(), reading.problem
    assert reading.layout == fmt
    assert set(reading.check_digits) == {"document_number", "birth_date", "expiry_date"}
    assert reading.mrz_key() == visa.mrz_key()


def test_a_small_image_is_enlarged_before_the_search() -> None:
    page = render_data_page(PASSPORT.lines(), seed=6)
    small = cv2.resize(page, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    reading = read_image(small)
    assert reading.valid and reading.lines == PASSPORT.lines(), reading.problem


def test_a_repair_is_refused_when_another_passes_at_nearly_the_same_cost() -> None:
    doc = next(f for f in CHECKED["TD3"] if f.name == "document_number")
    line2 = list("L898902C36UTO7408122F3204153<<<<<<<<<<<<<<<4")
    chosen = [list("P<UTOERIKSSON<<ANNA<MARIA" + "<" * 19), line2]
    chosen[1][7] = "E"  # misread: the check digit fails
    cells = doc.positions()
    # Two repairs pass: E->C at position 8 (the truth), and a different pair; their
    # costs differ by less than the margin, so the check digit cannot choose.
    alternatives: dict[tuple[int, int], list[tuple[float, str]]] = {(1, 7): [(0.06, "C")]}
    pair = _passing_pair(chosen, doc)
    assert pair is not None
    (p1, c1), (p2, c2) = pair
    alternatives[(1, p1)] = [(0.03, c1)]
    alternatives[(1, p2)] = [(0.04, c2)]
    assert mrz_reader._cheapest_fix(doc, chosen, cells, alternatives) is None
    # Alone, the true repair is taken.
    only = {(1, 7): [(0.06, "C")]}
    assert mrz_reader._cheapest_fix(doc, chosen, cells, only) == [((1, 7), "C")]


def _passing_pair(chosen: list[list[str]], doc: object) -> tuple[tuple[int, str], ...] | None:
    """Two substitutions in the document number, other than the true one, that pass."""
    from itertools import combinations

    from devices.mrz.layout import CheckedField

    assert isinstance(doc, CheckedField)
    for p1, p2 in combinations(range(9), 2):
        if 7 in (p1, p2):
            continue
        for c1 in "0123456789":
            for c2 in "0123456789":
                trial = [row[:] for row in chosen]
                trial[1][p1], trial[1][p2] = c1, c2
                if doc.passes(["".join(r) for r in trial]):
                    return ((p1, c1), (p2, c2))
    return None


def test_a_coloured_stamp_over_the_zone_is_seen_through() -> None:
    page = render_data_page(PASSPORT.lines(), seed=7)
    h, w = page.shape[:2]
    # A red "SPECIMEN" stamp across both MRZ lines (as on the Qatari specimen), inked
    # over the print: the layers multiply, black stays black.
    layer = np.full_like(page, 255)
    cv2.putText(
        layer,
        "SPECIMEN",
        (int(0.2 * w), int(0.93 * h)),
        cv2.FONT_HERSHEY_DUPLEX,
        3.0,
        (40, 40, 215),
        9,
    )
    cv2.rectangle(
        layer, (int(0.18 * w), int(0.8 * h)), (int(0.7 * w), int(0.97 * h)), (40, 40, 215), 6
    )
    stamped = (page.astype(np.uint16) * layer // 255).astype(np.uint8)
    reading = read_image(stamped)
    assert reading.valid and reading.lines == PASSPORT.lines(), reading.problem


def test_a_stray_letter_in_the_name_fillers_is_not_trusted() -> None:
    line1, line2 = PASSPORT.lines()
    stray = line1[:34] + "C" + line1[35:]  # "ANNA<MARIA<<<<<<<<<C<<<<<<<<<"
    reading = read_image(render_data_page([stray, line2], seed=8))
    assert reading.found and reading.lines == (stray, line2)
    assert all(reading.check_digits.values())  # no check digit covers the name
    assert not reading.valid and reading.mrz_key() is None
    assert "name field" in (reading.problem or "")


def test_name_structure_rule() -> None:
    from devices.mrz.layout import name_well_formed

    assert name_well_formed("TD3", PASSPORT.lines())
    assert name_well_formed("TD3", ("P<UTO<<ANNA" + "<" * 33, PASSPORT.lines()[1]))
    bad = PASSPORT.lines()[0][:40] + "K<<<"
    assert not name_well_formed("TD3", (bad, PASSPORT.lines()[1]))
