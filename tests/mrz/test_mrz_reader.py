"""MRZ capture: data pages rendered in OCR-B with a document camera's defects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.errors import DeviceFault, MrzUnreadable
from devices.mrz import reader as mrz_reader
from devices.mrz.layout import CHECKED
from devices.mrz.ocr_b import ocr_b_available
from devices.mrz.reader import read_image
from devices.mrz.sources import CameraMrzSource, MrzLineAssembler, SerialMrzSource
from devices.simulated.camera import SimulatedCamera
from devices.simulated.data_page import Degradation, render_data_page
from devices.simulated.mrz_samples import random_mrz
from tests.mrz.specimen import ICAO_SPECIMEN

pytestmark = pytest.mark.skipif(not ocr_b_available(), reason="fonts-ocr-b is not installed")


DEGRADATIONS = {
    "blur": Degradation(blur_px=1.1),
    "noise": Degradation(noise=10.0),
    "rotation_10": Degradation(rotation_deg=10.0),
    "rotation_minus_8": Degradation(rotation_deg=-8.0),
    "perspective": Degradation(perspective=0.035),
    "glare": Degradation(glare=0.4),
    "combined": Degradation(
        blur_px=0.8, noise=6.0, rotation_deg=4.0, perspective=0.02, glare=0.3, jpeg_quality=75
    ),
}


@pytest.mark.parametrize("fmt", ["TD1", "TD2", "TD3"])
@pytest.mark.parametrize("kind", sorted(DEGRADATIONS))
def test_degraded_pages_read_exactly(fmt: str, kind: str) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{fmt}-{kind}".encode()))
    mrz = random_mrz(rng, fmt)  # type: ignore[arg-type]
    image = render_data_page(mrz.lines(), seed=3, degradation=DEGRADATIONS[kind])
    reading = read_image(image)
    assert reading.found and reading.valid, reading.problem
    assert reading.lines == mrz.lines()
    assert reading.layout == fmt
    assert all(reading.check_digits.values())
    assert reading.mrz_key() == mrz.mrz_key()


def test_upside_down_page_is_read() -> None:
    image = cv2.rotate(render_data_page(ICAO_SPECIMEN.lines(), seed=1), cv2.ROTATE_180)
    reading = read_image(image)
    assert reading.valid and reading.lines == ICAO_SPECIMEN.lines()


def test_a_page_without_mrz_is_not_found() -> None:
    blank = np.full((600, 900, 3), 200, dtype=np.uint8)
    cv2.putText(blank, "BOARDING PASS", (50, 300), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 3)
    reading = read_image(blank)
    assert not reading.valid
    assert reading.mrz_key() is None


def test_digit_positions_never_hold_letters() -> None:
    """0/O, 1/I, 8/B, 5/S: the class of the position settles it (dates, check digits)."""
    reading = read_image(render_data_page(ICAO_SPECIMEN.lines(), seed=2))
    line2 = reading.lines[1]
    assert line2[13:20].isdigit() and line2[21:28].isdigit()


def _chosen(lines: tuple[str, ...]) -> list[list[str]]:
    return [list(line) for line in lines]


def test_check_digit_repair_takes_a_near_tie() -> None:
    chosen = _chosen(ICAO_SPECIMEN.lines())
    chosen[1][3] = "B"  # the recogniser preferred B over the printed 8 by a hair
    alternatives = {(1, 3): [(0.03, "8")]}
    fixes = mrz_reader._repair("TD3", chosen, alternatives)
    assert "".join(chosen[1]) == ICAO_SPECIMEN.lines()[1]
    assert fixes and "B->8" in fixes[0]


def test_check_digit_repair_refuses_a_clear_reading() -> None:
    """Far-off alternatives are never offered, so a wrong digit stays a failed check."""
    chosen = _chosen(ICAO_SPECIMEN.lines())
    chosen[1][3] = "B"
    fixes = mrz_reader._repair("TD3", chosen, {})
    assert fixes == []
    text = ["".join(row) for row in chosen]
    doc = next(f for f in CHECKED["TD3"] if f.name == "document_number")
    assert not doc.passes(text)


def test_line_assembler_handles_reader_framing() -> None:
    assembler = MrzLineAssembler()
    lines = ICAO_SPECIMEN.lines()
    assert assembler.feed("\x02garbage") is None
    assert assembler.feed(lines[0] + "\r") is None
    mrz = assembler.feed(lines[1] + "\x03\r\n")
    assert mrz is not None and mrz.document_number == "L898902C3"
    # A corrupted block (bad check digit) is ignored, not returned.
    assembler.feed(lines[0])
    assert assembler.feed(lines[1][:9] + "0" + lines[1][10:]) is None


def test_line_assembler_reads_td1() -> None:
    mrz = random_mrz(np.random.default_rng(5), "TD1")
    assembler = MrzLineAssembler()
    results = [assembler.feed(line + "\n") for line in mrz.lines()]
    assert results[:2] == [None, None] and results[2] == mrz


def test_serial_reader_over_a_pty() -> None:
    pytest.importorskip("serial")
    master, slave = os.openpty()
    source = SerialMrzSource.on_port(os.ttyname(slave), timeout_s=5.0)
    try:
        source.start()

        def send() -> None:
            for line in ICAO_SPECIMEN.lines():
                os.write(master, (line + "\r\n").encode())

        threading.Timer(0.3, send).start()
        assert source.read_mrz() == ICAO_SPECIMEN.mrz_key()
    finally:
        source.stop()
        os.close(master)
        os.close(slave)


def test_serial_reader_times_out_with_a_device_fault() -> None:
    class Silent:
        def readline(self) -> bytes:
            threading.Event().wait(0.05)
            return b""

        def close(self) -> None:
            pass

    source = SerialMrzSource(Silent, timeout_s=0.3)
    try:
        with pytest.raises(DeviceFault):
            source.read_mrz()
    finally:
        source.stop()


def test_camera_source_reads_the_page_in_view() -> None:
    page = render_data_page(ICAO_SPECIMEN.lines(), seed=4, degradation=Degradation(rotation_deg=3))
    camera = SimulatedCamera([page], fps=10.0)
    camera.start()
    try:
        assert CameraMrzSource(camera, timeout_s=5.0).read_mrz() == ICAO_SPECIMEN.mrz_key()
    finally:
        camera.stop()


def test_camera_source_asks_to_reposition_when_no_mrz() -> None:
    camera = SimulatedCamera([np.full((480, 640, 3), 180, dtype=np.uint8)], fps=10.0)
    camera.start()
    try:
        with pytest.raises(MrzUnreadable, match="reposition") as raised:
            CameraMrzSource(camera, timeout_s=0.8).read_mrz()
        assert raised.value.guidance is not None  # what to change, for the screen
    finally:
        camera.stop()


def test_cli_prints_one_object_per_image(tmp_path: Path) -> None:
    good = tmp_path / "page.png"
    cv2.imwrite(str(good), render_data_page(ICAO_SPECIMEN.lines(), seed=6))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "mrz", "read", str(good), str(broken), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 3, out.stderr
    results = json.loads(out.stdout)
    assert [r["image"] for r in results] == [str(good), str(broken)]
    first, second = results
    for key in ("image", "found", "valid", "mrz", "fields", "check_digits", "ms"):
        assert key in first
    assert first["valid"] and first["mrz"] == list(ICAO_SPECIMEN.lines())
    assert first["fields"]["document_number"] == "L898902C3"
    assert not second["found"] and second["problem"] == "unreadable image"
