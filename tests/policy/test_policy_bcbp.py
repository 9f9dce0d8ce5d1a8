"""IATA BCBP parsing on Resolution 792 strings, and barcodes read from images."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest
import zxingcpp

from kiosk.decision.journey.barcode import decode_barcodes
from policy.bcbp import julian_to_date, parse_bcbp
from policy.errors import BcbpError
from tests.policy.bcbp_builder import Leg, build_bcbp

# The Implementation Guide's examples (public test vectors).
IG_SINGLE = "M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100"
IG_VERSION6 = "M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 106>60000"
IG_TWO_LEGS = (
    "M2DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 14D>6181WW6225BAC 0014123456"
    "0032A0141234567890 1AC AC 1234567890123    20KYLX58ZDEF456 FRAGVALH 3664 227C012C0002"
    " 12E2A0140987654321 1AC AC 1234567890123    2PCNWQ^164GIWVC5EH7JNT684FVNJ91W2QA4DVN5J"
    "8K4F0L0GEQ3DF5TGBN8709HKT5D3DW3GBHFCVHMY7J5T6HFR41W2QA4DVN5J8K4F0L0GE"
)


def test_single_leg_mandatory_items() -> None:
    bp = parse_bcbp(IG_SINGLE)
    assert bp.passenger_name == "DESMARAIS/LUC"
    assert (bp.surname, bp.given_names) == ("DESMARAIS", "LUC")
    assert bp.electronic_ticket
    (leg,) = bp.legs
    assert (leg.pnr, leg.from_airport, leg.to_airport) == ("ABC123", "YUL", "FRA")
    assert (leg.carrier, leg.flight_number, leg.flight) == ("AC", "0834", "AC834")
    assert leg.day_of_year == 226
    assert (leg.compartment, leg.seat, leg.check_in_sequence) == ("F", "001A", "0025")
    assert leg.seat_assigned
    assert bp.version is None and bp.security_data is None


def test_version_without_conditional_items() -> None:
    bp = parse_bcbp(IG_VERSION6)
    assert bp.version == 6
    assert bp.issue_date is None


def test_two_legs_with_conditional_items_and_security_data() -> None:
    bp = parse_bcbp(IG_TWO_LEGS)
    assert bp.version == 6
    assert bp.issue_date == "6225"
    assert bp.document_type == "B"
    first, second = bp.legs
    assert (first.airline_numeric_code, first.document_serial) == ("014", "1234567890")
    assert first.marketing_carrier == "AC"
    assert (second.from_airport, second.to_airport, second.flight) == ("FRA", "GVA", "LH3664")
    assert (second.day_of_year, second.seat) == (227, "012C")
    assert bp.security_data is not None and len(bp.security_data) == 0x64
    assert second.flight_date(date(2016, 8, 12)) == date(2016, 8, 14)


def test_builder_round_trip_three_legs() -> None:
    text = build_bcbp(
        "ZHANG/WEI",
        [
            Leg("NRT", "CSX", "JL", "0611", 64),
            Leg("CSX", "ICN", "KE", "0818 ", 70, "033K"),
            Leg("ICN", "JFK", "KE", "0081", 70, "", marketing="DL"),
        ],
        security="ABCDEF",
    )
    bp = parse_bcbp(text)
    assert [leg.flight for leg in bp.legs] == ["JL611", "KE818", "KE81"]
    assert [leg.seat_assigned for leg in bp.legs] == [True, True, False]
    assert bp.legs[2].marketing_carrier == "DL"
    assert bp.issue_date == "6063"
    assert bp.security_data == "ABCDEF"


def test_trailing_spaces_are_tolerated() -> None:
    assert parse_bcbp(IG_SINGLE + "   \r\n").legs[0].flight == "AC834"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "format code"),
        ("S1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100", "format code"),
        ("M5DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100", "number of legs"),
        ("M1                    EABC123 YULFRAAC 0834 226F001A0025 100", "name is empty"),
        ("M1DESMARAIS/LUC       EABC123 YUL12AAC 0834 226F001A0025 100", "to_airport"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 367F001A0025 100", "day of year"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 000F001A0025 100", "day of year"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 08X4 226F001A0025 100", "flight number"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 1ZZ", "hex"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 110", "needs 16"),
        ("M2DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100", "leg 2"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100XYZ", "unexpected"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100^110AB", "needs 16"),
        ("M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100\x00", "printable"),
        ("M1DÉSMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100", "ASCII"),
        ("M1DESMARAIS", "passenger name"),
    ],
)
def test_malformed_strings_raise_typed_errors(text: str, message: str) -> None:
    with pytest.raises(BcbpError, match=message):
        parse_bcbp(text)


@pytest.mark.parametrize(
    ("day", "reference", "expected"),
    [
        (64, date(2026, 3, 1), date(2026, 3, 5)),
        (1, date(2026, 12, 31), date(2027, 1, 1)),
        (365, date(2027, 1, 2), date(2026, 12, 31)),
        (366, date(2024, 12, 20), date(2024, 12, 31)),
        (60, date(2024, 3, 1), date(2024, 2, 29)),
    ],
)
def test_julian_date_nearest_year(day: int, reference: date, expected: date) -> None:
    assert julian_to_date(day, reference) == expected


def test_julian_date_out_of_range() -> None:
    with pytest.raises(BcbpError):
        julian_to_date(367, date(2026, 1, 1))
    with pytest.raises(BcbpError, match="no year near"):
        julian_to_date(366, date(2026, 6, 1))  # 2025-2027 have no day 366


FORMATS = [
    zxingcpp.BarcodeFormat.PDF417,
    zxingcpp.BarcodeFormat.Aztec,
    zxingcpp.BarcodeFormat.QRCode,
]


def camera_frame(symbol: np.ndarray, angle: float = 0.0) -> np.ndarray:
    """Place a symbol on a grey 1280x720 BGR 'camera frame', slightly rotated and noisy."""
    h, w = symbol.shape
    k = max(2, int(min(1000 / w, 600 / h)))  # whole pixels per module, as a sharp camera
    sym = cv2.resize(symbol, (w * k, h * k), interpolation=cv2.INTER_NEAREST)
    sym = cv2.copyMakeBorder(sym, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
    frame = np.full((720, 1280), 150, dtype=np.uint8)
    y, x = (720 - sym.shape[0]) // 2, (1280 - sym.shape[1]) // 2
    frame[y : y + sym.shape[0], x : x + sym.shape[1]] = sym
    if angle:
        m = cv2.getRotationMatrix2D((640, 360), angle, 1.0)
        frame = cv2.warpAffine(frame, m, (1280, 720), borderValue=150)
    rng = np.random.default_rng(7)
    noisy = np.clip(frame.astype(np.int16) + rng.integers(-12, 13, frame.shape), 0, 255)
    return cv2.cvtColor(noisy.astype(np.uint8), cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("fmt", FORMATS, ids=["pdf417", "aztec", "qr"])
@pytest.mark.parametrize("text", [IG_SINGLE, IG_TWO_LEGS], ids=["one-leg", "two-legs"])
def test_boarding_pass_barcode_images(fmt: zxingcpp.BarcodeFormat, text: str) -> None:
    symbol = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=1))
    frame = camera_frame(symbol, angle=2.0)  # zxing-cpp misses large PDF417 at ~4 deg
    texts = decode_barcodes(frame)
    assert texts == [text]
    assert parse_bcbp(texts[0]).legs[0].flight == "AC834"


def test_other_symbologies_are_ignored() -> None:
    symbol = np.asarray(
        zxingcpp.create_barcode("12345678", zxingcpp.BarcodeFormat.Code128).to_image(scale=3)
    )
    assert decode_barcodes(camera_frame(symbol)) == []


def test_blank_frame_has_no_barcode() -> None:
    assert decode_barcodes(np.full((480, 640, 3), 128, dtype=np.uint8)) == []


def test_julian_date_at_the_end_of_the_calendar() -> None:
    assert julian_to_date(365, date(9998, 12, 31)) == date(9998, 12, 31)
    with pytest.raises(BcbpError):
        julian_to_date(366, date(9998, 12, 31))  # no leap year near; never a ValueError
