"""The document camera source over several frames (issue 21 item 4): a per-character
vote across the last frames that never outvotes the check digits or the trust floors,
and guidance for the traveller when no frame gives a valid MRZ."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from devices.errors import DeviceFault
from devices.icao9303.mrz import Mrz
from devices.mrz import frames
from devices.mrz.reader import MrzReading
from devices.mrz.sources import CameraMrzSource
from devices.simulated.camera import SimulatedCamera
from tests.mrz.specimen import ICAO_SPECIMEN

TRUTH = ICAO_SPECIMEN.lines()
CLEAR = 0.95


def _reading(
    lines: tuple[str, ...], score: float = CLEAR, quad: Any = (), found: bool = True
) -> MrzReading:
    return MrzReading(
        found=found,
        valid=False,  # each frame alone failed
        lines=lines,
        layout="TD3",
        cell_scores=tuple(tuple(score for _ in line) for line in lines),
        quad=quad,
    )


def _with(lines: tuple[str, ...], line: int, pos: int, ch: str) -> tuple[str, ...]:
    out = list(lines)
    out[line] = out[line][:pos] + ch + out[line][pos + 1 :]
    return tuple(out)


def test_three_frames_each_wrong_somewhere_else_vote_to_the_printed_mrz() -> None:
    frames_seen = [
        _reading(_with(TRUTH, 1, 2, "B")),  # a document-number cell lost to glare
        _reading(_with(TRUTH, 1, 15, "0")),  # a birth-date cell
        _reading(_with(TRUTH, 1, 43, "9")),  # the composite digit
    ]
    fused = frames.vote(frames_seen)
    assert fused is not None and fused.lines() == TRUTH


def test_the_same_unclear_frame_seen_three_times_is_still_not_trusted() -> None:
    garbled = _with(TRUTH, 0, 10, "J")  # the name line carries no check digit
    assert frames.vote([_reading(garbled, score=0.7)] * 3) is None


def test_split_votes_give_no_mrz() -> None:
    seen = [
        _reading(_with(TRUTH, 1, 2, "B")),
        _reading(_with(TRUTH, 1, 2, "8")),
        _reading(TRUTH),
        _reading(_with(TRUTH, 1, 2, "6")),
    ]
    assert frames.vote(seen) is None  # position 3: no strict majority


def test_two_frames_are_not_enough_to_vote() -> None:
    assert frames.vote([_reading(TRUTH), _reading(_with(TRUTH, 1, 2, "B"))]) is None


def test_check_digits_still_decide_after_the_vote() -> None:
    wrong = _with(TRUTH, 1, 3, "7")  # the same misread in every frame
    assert frames.vote([_reading(wrong)] * 3) is None


def _camera(image: np.ndarray) -> Iterator[SimulatedCamera]:
    camera = SimulatedCamera([image], fps=30.0)
    camera.start()
    try:
        yield camera
    finally:
        camera.stop()


@pytest.fixture
def grey_camera() -> Iterator[SimulatedCamera]:
    yield from _camera(np.full((240, 320, 3), 180, dtype=np.uint8))


def test_camera_source_reads_by_vote_when_no_single_frame_is_valid(
    grey_camera: SimulatedCamera,
) -> None:
    cycle = [
        _reading(_with(TRUTH, 1, 2, "B")),
        _reading(_with(TRUTH, 1, 15, "0")),
        _reading(_with(TRUTH, 1, 43, "9")),
    ]
    calls = iter(range(10**6))

    def read(_: Any) -> MrzReading:
        return cycle[next(calls) % len(cycle)]

    source = CameraMrzSource(grey_camera, timeout_s=5.0, read=read)
    assert source.read_mrz() == Mrz.parse(TRUTH).mrz_key()


def test_camera_source_asks_to_move_the_page_when_no_zone_is_seen(
    grey_camera: SimulatedCamera,
) -> None:
    source = CameraMrzSource(grey_camera, timeout_s=0.6)
    with pytest.raises(DeviceFault, match="move the data page into view"):
        source.read_mrz()
    assert source.guidance == frames.MOVE


def test_camera_source_asks_to_tilt_the_page_when_glare_covers_the_zone() -> None:
    image = np.full((240, 320, 3), 170, dtype=np.uint8)
    image[180:220, 20:300] = 255  # a reflection over the zone
    zone = ((20.0, 180.0), (300.0, 180.0), (300.0, 220.0), (20.0, 220.0))
    garbled = _with(TRUTH, 1, 2, "B")
    for camera in _camera(image):
        source = CameraMrzSource(
            camera, timeout_s=0.6, read=lambda _: _reading(garbled, score=0.6, quad=zone)
        )
        with pytest.raises(DeviceFault, match="light is reflecting"):
            source.read_mrz()


def test_camera_source_asks_to_hold_still_when_the_zone_is_clear_of_glare(
    grey_camera: SimulatedCamera,
) -> None:
    zone = ((20.0, 180.0), (300.0, 180.0), (300.0, 220.0), (20.0, 220.0))
    garbled = _with(TRUTH, 1, 2, "B")
    source = CameraMrzSource(
        grey_camera, timeout_s=0.6, read=lambda _: _reading(garbled, score=0.6, quad=zone)
    )
    with pytest.raises(DeviceFault, match="hold the page still"):
        source.read_mrz()


def test_the_vote_refuses_a_malformed_name_that_every_frame_agrees_on() -> None:
    stray = _with(TRUTH, 0, 34, "C")  # a mark in the name's filler run
    assert frames.vote([_reading(stray)] * 3) is None
