"""EF.DG1 (ICAO 9303-10 4.7.1), including the public BSI and ETSI reference files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.mrz import Mrz, MrzError
from devices.icao9303.tlv import encode_tlv

TODAY = date(2026, 11, 26)
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"


def test_build_and_parse_round_trip() -> None:
    mrz = Mrz.parse(TD3, today=TODAY)
    dg1 = DataGroup1.build(mrz)
    assert dg1.raw[:5].hex() == "615b5f1f58"
    parsed = DataGroup1.parse(dg1.encode(), today=TODAY)
    assert parsed.mrz == mrz
    data = parsed.to_json()
    for key in (
        "document_code", "issuing_state", "surname", "given_names", "document_number",
        "nationality", "birth_date", "sex", "expiry_date", "optional_data",
    ):  # fmt: skip
        assert key in data
    assert data["birth_date"] == "1974-08-12" and data["expiry_date"] == "2012-04-15"


@pytest.mark.shared
@pytest.mark.parametrize(
    ("folder", "expiry"), [("bsi", date(2023, 10, 31)), ("etsi", date(2013, 10, 31))]
)
def test_reference_dg1(pa_vectors: Path, folder: str, expiry: date) -> None:
    dg1 = DataGroup1.parse((pa_vectors / folder / "DG1.bin").read_bytes(), today=TODAY)
    mrz = dg1.mrz
    assert (mrz.surname, mrz.given_names) == ("MUSTERMANN", "ERIKA")
    assert mrz.issuing_state == "D<<" and mrz.to_json()["issuing_state"] == "D"
    assert mrz.document_number == "C11T002JM"
    assert mrz.birth_date == date(1996, 8, 12)
    assert mrz.expiry_date == expiry


def test_wrong_check_digit_names_the_field() -> None:
    bad = TD3[:53] + "7" + TD3[54:]  # the document number check digit, 6 -> 7
    with pytest.raises(MrzError, match="document_number") as info:
        DataGroup1.parse(DataGroup1.encode_text(bad), today=TODAY)
    assert info.value.field == "document_number"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (encode_tlv(0x75, b""), "tag 75 found where tag 61"),
        (encode_tlv(0x61, encode_tlv(0x5F1E, b"x")), "5F1F"),
        (encode_tlv(0x61, encode_tlv(0x5F1F, b"P<UTO")), "5 characters"),
        (encode_tlv(0x61, encode_tlv(0x5F1F, b"\xff" * 88)), "non-ASCII"),
        (b"", "empty"),
    ],
)
def test_malformed_dg1(raw: bytes, message: str) -> None:
    with pytest.raises(LdsError, match=message):
        DataGroup1.parse(raw, today=TODAY)
