"""Issue 25, items 3-4: the contactless timing profile's arithmetic, DG2 read first
and encoded during the rest of the read, and the split of a transaction into
device-bound time and egate's overhead (which add up to the total)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from devices.protocols import ChipReadResult, FileListener, MrzKey
from devices.simulated.chip_reader import SimulatedDocumentReader
from devices.simulated.contactless import (
    ISO14443_106K,
    ISO14443_424K,
    ISO14443_848K,
    ContactlessProfile,
    chip_op,
)
from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.pki import make_test_pki
from devices.simulated.scenes import portrait_jpeg
from devices.simulated.virtual_passport import VirtualPassport
from kiosk.lane.states import LaneState
from kiosk.ports import FaceVerification, ReferenceTicket
from kiosk.simulation.lane_driver import split_ms
from tests.workflow.fakes import FakeFace, FakeReader, Rig, run_traveller


@pytest.fixture(scope="module")
def passport() -> VirtualPassport:
    spec = DocumentSpec(
        issuing_state="USA", surname="COLLINS", given_names="EILEEN",
        document_number="X1234567", nationality="USA", birth_date=date(1956, 11, 19),
        sex="F", optional_data="", face_image=portrait_jpeg("collins"),
        issuing_authority="USA PASSPORT AUTHORITY",
    )  # fmt: skip
    return make_document(spec, pki=make_test_pki("USA"))


def test_transfer_time_is_the_iso14443_arithmetic() -> None:
    # 20 000 bytes in I-blocks of 256 - 3 = 253 bytes: 80 blocks, 79 R-block acks,
    # 3 bytes each; 10 etu per byte at 424 kbit/s; a 0.3 ms gap per frame.
    p = ISO14443_424K
    assert p.frames(20_000) == 80
    on_air = (20_000 + 80 * 3 + 79 * 3) * 10 / 424_000
    assert p.transfer_s(20_000) == pytest.approx(on_air + 159 * 0.0003)
    # A 20 KB photo alone is half a second of air time at 424 kbit/s, two at 106.
    assert 0.45 < p.transfer_s(20_000) < 0.6
    assert 1.8 < ISO14443_106K.transfer_s(20_000) < 2.1
    assert ISO14443_848K.transfer_s(20_000) < p.transfer_s(20_000)


def test_chip_operations_are_recognised() -> None:
    assert chip_op(bytes([0x00, 0x88, 0, 0, 8]) + bytes(8)) == "aa"
    assert chip_op(bytes([0x00, 0x82, 0, 0, 40]) + bytes(40)) == "bac"
    assert chip_op(bytes([0x10, 0x86, 0, 0, 4, 0x7C, 2, 0x81, 0])) == "pace_map"
    assert chip_op(bytes([0x00, 0x22, 0x41, 0xA6, 0])) == "ca"
    assert chip_op(bytes([0x0C, 0xB0, 0, 0, 0])) is None
    # Secure messaging costs the chip time on every protected APDU.
    p = ContactlessProfile()
    assert p.apdu_s(b"\x0c\xb0\x00\x00", b"\x90\x00") - p.apdu_s(
        b"\x00\xb0\x00\x00", b"\x90\x00"
    ) == pytest.approx(p.sm_apdu_s)


def test_dg2_read_takes_as_long_as_the_profile_says(passport: VirtualPassport) -> None:
    reader = SimulatedDocumentReader(profile=ISO14443_424K)
    heard: list[tuple[str, float]] = []
    reader.set_file_listener(lambda name, raw: heard.append((name, time.monotonic())))
    reader.place(passport)
    started = time.monotonic()
    result = reader.read(passport.mrz_key())
    wall = time.monotonic() - started
    names = [n for n, _ in heard]
    # DG2 right after chip authentication (DG14), before EF.SOD and the rest.
    assert names.index("DG2") == names.index("DG14") + 1
    assert names.index("DG2") < names.index("EF.SOD") < names.index("DG1")
    dg2 = len(result.files["DG2"])
    times = dict(heard)
    dg2_s = times["DG2"] - times["DG14"]
    # At least the photo's own air time at 424 kbit/s (the SELECT, the chip's secure
    # messaging and the reader's latency come on top); the whole read as modelled.
    assert dg2_s >= ISO14443_424K.transfer_s(dg2)
    assert wall >= reader.last_modelled_s > ISO14443_424K.transfer_s(dg2) + 0.5


def test_an_instant_reader_takes_no_modelled_time(passport: VirtualPassport) -> None:
    reader = SimulatedDocumentReader()
    reader.place(passport)
    reader.read(passport.mrz_key())
    assert reader.last_modelled_s == 0.0


def test_split_adds_up_to_the_total() -> None:
    s = split_ms(2_900.0, 1_500.0, 1_200.0, 500.0, captured=True)
    assert s["device"] == 2_000.0 and s["overhead"] == 900.0
    assert s["device"] + s["overhead"] == s["total"]
    walk_longer = split_ms(2_400.0, 800.0, 1_500.0, 500.0, captured=True)
    assert walk_longer["device"] == 2_000.0 and walk_longer["overhead"] == 400.0
    no_capture = split_ms(900.0, 850.0, 1_500.0, 500.0, captured=False)
    assert no_capture["device"] == 850.0 and no_capture["walk"] == 0.0


def test_the_lane_records_its_chip_read_time(tmp_path: Path) -> None:
    rig = Rig(tmp_path)  # FakeReader: 0.2 s read; FakeFace: 0.5 s, on the FakeClock
    run_traveller(rig)
    (event,) = [e for e in rig.log.events() if e.outcome == "admitted"]
    assert event.checks["chip_io_ms"] == 200.0
    assert event.transaction_ms == pytest.approx(700.0)
    split = split_ms(event.transaction_ms, 200.0, 0.0, 500.0, captured=True)
    assert split["overhead"] == 0.0 and split["device"] == split["total"]


class EarlyReader(FakeReader):
    """Tells DG2 during the read, as devices.icao9303.reader does."""

    def __init__(self, *args: Any, final_dg2: bytes = b"dg2") -> None:
        super().__init__(*args)
        self.on_file: FileListener | None = None
        self.final_dg2 = final_dg2

    def set_file_listener(self, listener: FileListener | None) -> None:
        self.on_file = listener

    def read(self, key: MrzKey) -> ChipReadResult:
        assert self.on_file is not None
        self.on_file("DG2", b"dg2")
        result = super().read(key)
        return ChipReadResult({**result.files, "DG2": self.final_dg2}, "PACE", "passed", "passed")


class EarlyFace(FakeFace):
    def __init__(self, clock: Any, lane_state: Any) -> None:
        super().__init__(clock)
        self.lane_state = lane_state
        self.started: list[tuple[int, LaneState]] = []
        self.used: list[int] = []

    def start_reference(self, reference_rgb: Any) -> ReferenceTicket:
        self.started.append((int(reference_rgb[0, 0, 0]), self.lane_state()))
        return ReferenceTicket(len(self.started), reference_rgb)

    def verify_prepared(self, ticket: ReferenceTicket, camera: Any, budget_s: float
                        ) -> FaceVerification:
        self.used.append(ticket.id)
        return self.verify(ticket.image, camera, budget_s)


def _early_rig(tmp_path: Path, final_dg2: bytes) -> tuple[Rig, EarlyFace]:
    rig = Rig(tmp_path)
    reader = EarlyReader(rig.clock, final_dg2=final_dg2)
    face = EarlyFace(rig.clock, lambda: rig.lane.state)
    rig.reader = reader
    rig.lane.devices.reader = reader
    rig.lane.services.face = face
    rig.lane.services.reference_face = lambda files: np.full(
        (4, 4, 3), files["DG2"][-1], np.uint8
    )
    reader.set_listener(rig.lane._on_reader)
    reader.set_file_listener(rig.lane._on_chip_file)
    return rig, face


def test_the_dg2_face_is_encoded_while_the_rest_of_the_chip_is_read(tmp_path: Path) -> None:
    rig, face = _early_rig(tmp_path, final_dg2=b"dg2")
    run_traveller(rig)
    assert face.started == [(ord("2"), LaneState.READING_CHIP)]
    assert face.used == [1]
    assert rig.lane.state is LaneState.ADMITTED


def test_an_early_dg2_unlike_the_one_read_is_encoded_again(tmp_path: Path) -> None:
    # Only the DG2 among the files passive authentication checks is compared.
    rig, face = _early_rig(tmp_path, final_dg2=b"dg9")
    run_traveller(rig)
    assert face.started == [(ord("2"), LaneState.READING_CHIP),
                            (ord("9"), LaneState.READING_CHIP)]
    assert face.used == [2]
