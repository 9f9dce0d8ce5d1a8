"""The small device interfaces the kiosk core is written against.

Each has a simulated implementation (devices.simulated) speaking the same
protocol as the hardware adapter, so tests and the demo drive the real code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

CheckStatus = Literal["passed", "failed", "not_supported"]


@dataclass(frozen=True)
class MrzKey:
    """Access-control password (ICAO 9303-11 4.3): the MRZ fields or a CAN."""

    document_number: str = ""
    birth_date: str = ""  # YYMMDD
    expiry_date: str = ""  # YYMMDD
    can: str | None = None


@dataclass(frozen=True)
class ChipReadResult:
    """What a document reader hands the kiosk: raw EFs plus the chip-side checks.

    `files` maps "EF.COM", "EF.SOD", "DG1" ... "DG16" to the bytes read.
    """

    files: Mapping[str, bytes]
    access_control: Literal["PACE", "BAC", "none"]
    chip_authentication: CheckStatus = "not_supported"
    active_authentication: CheckStatus = "not_supported"
    apdus: int = 0
    bytes_read: int = 0
    ms: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


DocumentListener = Callable[[Literal["placed", "removed"]], None]


class DocumentReader(Protocol):
    """An ePassport reader: reports placement/removal and reads the chip."""

    def set_listener(self, listener: DocumentListener | None) -> None: ...

    def document_present(self) -> bool: ...

    def read(self, key: MrzKey) -> ChipReadResult:
        """Open the chip with `key` and read its files.

        Raises CardRemovedError, AccessDeniedError, ChipError or DeviceFault.
        """
        ...


FileListener = Callable[[str, bytes], None]


@runtime_checkable
class EarlyFileReader(Protocol):
    """A DocumentReader that tells each file as it is read, during read()."""

    def set_file_listener(self, listener: FileListener | None) -> None: ...


class MrzSource(Protocol):
    """Where the access key comes from: the OCR of the data page, or a typed CAN."""

    def read_mrz(self) -> MrzKey:
        """Raises DeviceFault when no MRZ could be read."""
        ...


@dataclass(frozen=True)
class Frame:
    """One camera frame: BGR uint8 pixels, monotonic capture time, sequence number."""

    image: npt.NDArray[np.uint8]
    timestamp: float
    index: int


class Camera(Protocol):
    """A frame source running on its own thread."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one."""
        ...

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        """Block until a frame newer than `after_index` arrives, or None on timeout."""
        ...

    @property
    def fault(self) -> str | None:
        """A description of the fault while the camera is unusable, else None."""
        ...


GateState = Literal["closed", "open", "fault"]
GateListener = Callable[[Literal["passed", "closed", "fault"]], None]


class Gate(Protocol):
    """The physical barrier. It must end closed on every error path."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    @property
    def state(self) -> GateState: ...

    def set_listener(self, listener: GateListener | None) -> None: ...
