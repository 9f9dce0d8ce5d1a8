"""A camera that plays prepared frames: in-memory arrays, image folders or video files.

The demo's control panel switches sequences at run time ("same person",
"someone else", "printed photo"), so `set_source` swaps what is played without
restarting the thread. Faults can be injected to drive the workflow's
camera_fault path.

A looping sequence played with `moving=True` is a person: no person comes back
to the very same pixels once per loop, so each repetition is shifted by a few
pixels (`loop_shift`). Without it, frames one loop apart (0.8 s for the 24-frame
scenes) were pixel-identical and the liveness check rightly called a traveller
whose frames the face worker happened to take a loop apart a still photo (a CI
run referred a holder for `liveness_failed`). Anything else (a print on a stand,
a replayed still with sensor noise, a boarding pass) repeats unchanged: the
caller says which, as frame differences cannot tell motion from noise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from devices.camera.base import ThreadedCamera
from devices.errors import DeviceFault

Image = npt.NDArray[np.uint8]
Source = Sequence[Image] | str | Path

# Per-repetition shifts in units of `shift_step`: nine distinct positions, so frames
# of one capture (seconds apart) never repeat exactly; neighbours differ by at
# least one step.
_LOOP_SHIFTS = ((0, 0), (1, 1), (-1, 0), (0, -1), (1, -1), (-1, 1), (0, 1), (1, 0), (-1, -1))

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def _as_bgr(array: npt.NDArray[np.generic], origin: str) -> Image:
    if array.dtype != np.uint8:
        raise DeviceFault(f"{origin}: frames must be uint8, got {array.dtype}")
    image: Image = np.asarray(array, dtype=np.uint8)
    if image.ndim == 2:
        image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise DeviceFault(f"{origin}: unsupported frame shape {image.shape}")
    out = np.ascontiguousarray(image, dtype=np.uint8)
    out.setflags(write=False)  # frames are shared between threads: nobody edits them
    return out


def _read_video(path: Path) -> list[Image]:
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DeviceFault(f"{path}: cannot open video")
        frames: list[Image] = []
        while True:
            ok, image = cap.read()
            if not ok or image is None:
                break
            frames.append(_as_bgr(image, str(path)))
        return frames
    finally:
        cap.release()


def shift_step(width: int) -> int:
    """Pixels per loop shift: 4 at 640 px wide, never below 2 (a measured 2-4 px
    shift changes the face region by 8-24 grey levels, far above the liveness
    check's 1.5 still threshold)."""
    return max(2, round(width / 160))


def loop_shift(image: Image, repetition: int, moving: bool) -> Image:
    """The frame as played in the `repetition`-th pass of a looping sequence."""
    dx, dy = _LOOP_SHIFTS[repetition % len(_LOOP_SHIFTS)]
    if not moving or (dx, dy) == (0, 0):
        return image
    step = shift_step(image.shape[1])
    matrix = np.array([[1, 0, dx * step], [0, 1, dy * step]], dtype=np.float32)
    out = np.asarray(
        cv2.warpAffine(
            image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE
        ),
        dtype=np.uint8,
    )
    out.setflags(write=False)
    return out


def load_sequence(source: Source) -> list[Image]:
    """Frames (BGR, read-only) from arrays, a folder of images, one image or a video."""
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
            frames = []
            for p in files:
                image = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if image is None:
                    raise DeviceFault(f"{p}: unreadable image")
                frames.append(_as_bgr(image, str(p)))
        elif path.suffix.lower() in _IMAGE_SUFFIXES:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise DeviceFault(f"{path}: unreadable image")
            frames = [_as_bgr(image, str(path))]
        elif path.is_file():
            frames = _read_video(path)
        else:
            raise DeviceFault(f"{path}: no such file or folder")
        origin = str(path)
    else:
        frames = [_as_bgr(np.asarray(f), "frame sequence") for f in source]
        origin = "frame sequence"
    if not frames:
        raise DeviceFault(f"{origin}: no frames")
    return frames


class SimulatedCamera(ThreadedCamera):
    """Plays a frame sequence at `fps` on its own thread (devices.protocols.Camera)."""

    thread_name = "simulated-camera"

    def __init__(
        self, source: Source, fps: float = 30.0, loop: bool = True, moving: bool = False
    ) -> None:
        super().__init__()
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._fps = fps
        self._lock = threading.Lock()
        self._frames = load_sequence(source)
        self._loop = loop
        self._moving = moving
        self._position = 0
        self._repetition = 0  # passes completed through the looping sequence

    # -- devices.protocols.Camera -------------------------------------------------

    # -- simulation controls ------------------------------------------------------
    @property
    def fps(self) -> float:
        return self._fps

    @property
    def finished(self) -> bool:
        """True once a non-looping sequence has played its last frame."""
        with self._lock:
            return not self._loop and self._position >= len(self._frames)

    def set_source(self, source: Source, loop: bool | None = None, moving: bool = False) -> int:
        """Switch to another sequence from its first frame (the demo's control panel);
        `moving`: a person, whose loop repetitions are shifted (module docstring).

        Returns the index of the new sequence's first frame: every frame from that
        index on is of the new sequence, none before it (publishing holds the lock).
        """
        frames = load_sequence(source)
        with self._lock:
            self._frames = frames
            self._moving = moving
            self._position = 0
            self._repetition = 0
            if loop is not None:
                self._loop = loop
            return self._buffer.next_index

    def inject_fault(self, message: str = "simulated camera fault") -> None:
        self._set_fault(message)

    def clear_fault(self) -> None:
        self._fault = None

    def _publish_next(self) -> None:
        # One lock around choosing and publishing: a frame of the sequence that
        # set_source replaced can never be published after it returns.
        with self._lock:
            if self._position >= len(self._frames):
                if not self._loop:
                    return
                self._position = 0
                self._repetition += 1
            image = loop_shift(self._frames[self._position], self._repetition, self._moving)
            self._position += 1
            self._buffer.publish(image)

    def _run(self) -> None:
        period = 1.0 / self._fps
        next_t = time.monotonic()
        while not self._stop.is_set():
            if self._fault is None:
                self._publish_next()
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -period:  # fell behind (suspended process): resync, do not burst
                next_t = time.monotonic()
                delay = 0.0
            if delay > 0:
                self._stop.wait(delay)
