"""A malformed file from the chip is a data error (ChipDataError), not a device
fault: the lane refers the traveller (chip_read_failed) instead of taking the
error path, and never admits."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.errors import ChipDataError, ChipError, DeviceFault
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.mrz import Mrz, MrzError
from devices.icao9303.tlv import TlvError, encode_tlv, parse_single
from kiosk.lane.facts import facts_from_dg1
from tests.workflow.fakes import Rig
from tests.workflow.test_lane import run_traveller

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]


def _dg1(lines: list[str]) -> bytes:
    return encode_tlv(0x61, encode_tlv(0x5F1F, "".join(lines).encode("ascii")))


@pytest.mark.parametrize(
    ("parse", "error"),
    [
        (lambda: parse_single(b"\x61\x05\x5f\x1f"), TlvError),  # length beyond the data
        (lambda: DataGroup1.parse(encode_tlv(0x60, b"")), LdsError),  # wrong file tag
        (lambda: Mrz.parse([TD3[0], TD3[1][:9] + "7" + TD3[1][10:]]), MrzError),
    ],
    ids=["tlv", "lds", "mrz_check_digit"],
)
def test_malformed_file_is_a_data_error_not_a_device_fault(parse: object, error: type) -> None:
    with pytest.raises(error) as caught:
        parse()  # type: ignore[operator]
    assert isinstance(caught.value, ChipDataError)
    assert not isinstance(caught.value, DeviceFault | ChipError)


def test_well_formed_dg1_parses() -> None:  # the corpus above fails for its defect only
    assert DataGroup1.parse(_dg1(TD3)).mrz.document_number == "L898902C3"


def test_reader_raising_a_data_error_is_referred_not_a_fault(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.reader.fail = TlvError("EF.COM: length beyond the data")
    run_traveller(rig)
    assert "error" not in rig.states()
    assert rig.states()[-1] == "referred"
    [event] = rig.log.events()
    assert event.outcome == "referred" and event.reasons == ["chip_read_failed"]
    assert rig.gate.opened_count == 0


def test_malformed_dg1_is_referred_with_the_data_error(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.lane.services.document_facts = facts_from_dg1  # the real DG1 parser: b"x" is no DG1
    run_traveller(rig)
    assert rig.states()[-1] == "referred"
    [event] = rig.log.events()
    assert event.reasons == ["chip_read_failed"]
    assert rig.snapshots[-1].officer["reasons"] == ["chip_read_failed"]
    assert rig.gate.opened_count == 0
