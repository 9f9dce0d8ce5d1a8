"""Camera sources: timing, switching, looping, faults and reconnects."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from devices.camera import FrameBuffer, OpenCvCamera, parse_source
from devices.errors import DeviceFault
from devices.simulated.camera import SimulatedCamera, load_sequence
from tests.waiting import wait_until


def solid(value: int, shape: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.full((*shape, 3), value, dtype=np.uint8)


def test_frame_buffer_wait_returns_only_newer_frames() -> None:
    buf = FrameBuffer()
    assert buf.latest() is None
    assert buf.wait_frame(-1, timeout=0.01) is None
    first = buf.publish(solid(1))
    assert buf.wait_frame(-1, timeout=0.01) is first
    assert buf.wait_frame(first.index, timeout=0.01) is None

    def later() -> None:
        time.sleep(0.05)
        buf.publish(solid(2))

    threading.Thread(target=later).start()
    second = buf.wait_frame(first.index, timeout=2.0)
    assert second is not None and second.index == first.index + 1
    assert second.timestamp >= first.timestamp


def test_simulated_camera_plays_in_order_at_its_rate() -> None:
    cam = SimulatedCamera([solid(i) for i in range(5)], fps=50.0, loop=True)
    cam.start()
    try:
        frames = []
        last = -1
        while len(frames) < 12:
            frame = cam.wait_frame(last, timeout=5.0)
            assert frame is not None
            last = frame.index
            frames.append(frame)
        # Each index shows its place in the loop, whichever frames a busy reader skipped.
        first = frames[0]
        for f in frames:
            assert int(f.image[0, 0, 0]) == (int(first.image[0, 0, 0]) + f.index - first.index) % 5
        # Never faster than its rate (slower only when the machine starves its thread).
        span = frames[-1].timestamp - first.timestamp
        assert span >= 0.9 * (frames[-1].index - first.index) / 50.0
        assert not cam.fault
    finally:
        cam.stop()


def test_simulated_camera_without_loop_stops_at_the_end() -> None:
    cam = SimulatedCamera([solid(i) for i in range(3)], fps=100.0, loop=False)
    cam.start()
    try:
        wait_until(lambda: cam.finished, what="the end of the sequence")
        last = cam.latest()
        assert last is not None and int(last.image[0, 0, 0]) == 2
        assert cam.wait_frame(last.index, timeout=0.1) is None
    finally:
        cam.stop()


def test_simulated_camera_switches_sequence_at_run_time() -> None:
    cam = SimulatedCamera([solid(10)], fps=60.0)
    cam.start()
    try:
        frame = cam.wait_frame(-1, timeout=1.0)
        assert frame is not None and int(frame.image[0, 0, 0]) == 10
        cam.set_source([solid(200)])
        for _ in range(5):
            frame = cam.wait_frame(frame.index, timeout=1.0)
            assert frame is not None
        assert int(frame.image[0, 0, 0]) == 200
    finally:
        cam.stop()


def test_simulated_camera_frames_are_read_only() -> None:
    cam = SimulatedCamera([solid(5)], fps=60.0)
    cam.start()
    try:
        frame = cam.wait_frame(-1, timeout=1.0)
        assert frame is not None
        with pytest.raises(ValueError):
            frame.image[0, 0, 0] = 1
    finally:
        cam.stop()


def test_simulated_camera_fault_injection() -> None:
    cam = SimulatedCamera([solid(5)], fps=60.0)
    cam.start()
    try:
        assert cam.wait_frame(-1, timeout=1.0) is not None
        cam.inject_fault("unplugged")
        assert cam.fault == "unplugged"
        assert cam.latest() is None
        assert cam.wait_frame(-1, timeout=0.05) is None
        cam.clear_fault()
        assert cam.fault is None
        assert cam.wait_frame(-1, timeout=1.0) is not None
    finally:
        cam.stop()


def test_load_sequence_from_folder_image_and_video(tmp_path: Path) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:02d}.png"), solid(i * 50))
    frames = load_sequence(folder)
    assert [int(f[0, 0, 0]) for f in frames] == [0, 50, 100]
    assert len(load_sequence(folder / "01.png")) == 1

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (64, 48))
    for i in range(6):
        writer.write(solid(40 * i))
    writer.release()
    clip = load_sequence(video)
    assert len(clip) == 6
    assert abs(int(clip[3][10, 10, 0]) - 120) < 8


def test_load_sequence_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DeviceFault):
        load_sequence(tmp_path / "missing.png")
    with pytest.raises(DeviceFault):
        load_sequence([])
    with pytest.raises(DeviceFault):
        load_sequence([np.zeros((4, 4, 3), dtype=np.float32)])
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(DeviceFault):
        load_sequence(tmp_path / "junk.png")
    grey = load_sequence([np.zeros((4, 4), dtype=np.uint8)])
    assert grey[0].shape == (4, 4, 3)


def test_parse_source() -> None:
    assert parse_source("0") == 0
    assert parse_source(" 2 ") == 2
    assert parse_source("/dev/video0") == "/dev/video0"
    assert parse_source("rtsp://cam/1") == "rtsp://cam/1"


class FakeCapture:
    """Delivers `good` frames, then fails every read."""

    def __init__(self, good: int, opened: bool = True) -> None:
        self.good = good
        self.opened = opened
        self.released = False

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, Any]:
        time.sleep(0.002)
        if self.good <= 0:
            return False, None
        self.good -= 1
        return True, solid(77)

    def get(self, prop_id: int) -> float:
        return 0.0

    def set(self, prop_id: int, value: float) -> bool:
        return False

    def release(self) -> None:
        self.released = True


def test_opencv_camera_reports_fault_and_reconnects() -> None:
    opened: list[FakeCapture] = []

    def factory(source: int | str) -> FakeCapture:
        # First capture dies after 3 frames, the second cannot open, the third works.
        cap = [FakeCapture(3), FakeCapture(0, opened=False), FakeCapture(10_000)][
            min(len(opened), 2)
        ]
        opened.append(cap)
        return cap

    cam = OpenCvCamera(0, reconnect_delay_s=0.05, max_failures=3, capture_factory=factory)
    faults: list[str] = []
    report_fault = cam._set_fault

    def recorded(message: str) -> None:  # every fault, however briefly it stands
        faults.append(message)
        report_fault(message)

    cam._set_fault = recorded  # type: ignore[method-assign]
    cam.start()
    try:
        assert cam.wait_frame(-1, timeout=30.0) is not None
        wait_until(lambda: len(opened) >= 3, what="two reconnections")
        assert faults
        assert opened[0].released and opened[1].released
        wait_until(lambda: cam.fault is None, what="the fault cleared by the reconnection")
        frame = cam.wait_frame(-1, timeout=1.0)
        assert frame is not None and frame.image.shape == (48, 64, 3)
        assert cam.reconnects >= 2
    finally:
        cam.stop()


def test_opencv_camera_factory_exception_becomes_fault() -> None:
    def factory(source: int | str) -> FakeCapture:
        raise RuntimeError("driver crashed")

    cam = OpenCvCamera("rtsp://nowhere/1", reconnect_delay_s=0.05, capture_factory=factory)
    cam.start()
    try:
        wait_until(lambda: cam.fault is not None, what="the driver's crash as a fault")
        assert cam.fault is not None and "driver crashed" in cam.fault
        assert cam.wait_frame(-1, timeout=0.05) is None
    finally:
        cam.stop()


def test_opencv_camera_plays_a_video_file_in_a_loop(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 50.0, (64, 48))
    for i in range(5):
        writer.write(solid(40 * i))
    writer.release()
    cam = OpenCvCamera(str(video))
    cam.start()
    try:
        values: list[int] = []
        last = -1
        while len(values) < 12:  # more frames than the file holds
            frame = cam.wait_frame(last, timeout=2.0)
            assert frame is not None, cam.fault
            assert cam.fault is None
            last = frame.index
            values.append(int(frame.image[10, 10, 0]))
        assert values.count(values[0]) >= 2  # it came round again
    finally:
        cam.stop()
