"""MRZ parsing and building against the ICAO 9303-3/-4/-5/-6 specimens."""

from __future__ import annotations

from datetime import date

import pytest

from devices.icao9303.mrz import Mrz, MrzError, check_digit, to_mrz_text
from devices.protocols import MrzKey

TODAY = date(2026, 11, 26)
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)


@pytest.mark.parametrize(
    ("data", "digit"),
    [
        ("L898902C3", "6"),
        ("740812", "2"),
        ("120415", "9"),
        ("ZE184226B<<<<<", "1"),
        ("D23145890", "7"),
        ("520727", "3"),
        ("<<<<<<", "0"),
    ],
)
def test_check_digit_icao_9303_3_examples(data: str, digit: str) -> None:
    assert check_digit(data) == digit


def test_td3_specimen() -> None:
    mrz = Mrz.parse("\n".join(TD3), today=TODAY)
    assert mrz.format == "TD3"
    assert mrz.document_code == "P"
    assert mrz.issuing_state == "UTO"
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "L898902C3"
    assert mrz.nationality == "UTO"
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.sex == "F"
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.optional_data == "ZE184226B"
    assert mrz.lines() == TD3
    assert mrz.mrz_key() == MrzKey("L898902C3", "740812", "120415")
    assert mrz.to_json()["birth_date"] == "1974-08-12"


def test_td1_specimen() -> None:
    mrz = Mrz.parse(list(TD1), today=TODAY)
    assert mrz.format == "TD1"
    assert (mrz.document_code, mrz.document_number) == ("I", "D23145890")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.lines() == TD1


def test_td2_specimen() -> None:
    mrz = Mrz.parse("".join(TD2), today=TODAY)  # flat 72 characters, as in DG1
    assert mrz.format == "TD2"
    assert mrz.document_number == "D23145890"
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.lines() == TD2


@pytest.mark.parametrize(
    ("lines", "row", "col", "field"),
    [
        (TD3, 1, 9, "document_number"),
        (TD3, 1, 19, "birth_date"),
        (TD3, 1, 27, "expiry_date"),
        (TD3, 1, 42, "optional_data"),
        (TD3, 1, 43, "composite"),
        (TD1, 0, 14, "document_number"),
        (TD1, 1, 6, "birth_date"),
        (TD1, 1, 14, "expiry_date"),
        (TD1, 1, 29, "composite"),
        (TD2, 1, 9, "document_number"),
        (TD2, 1, 35, "composite"),
    ],
)
def test_each_wrong_check_digit_is_named(
    lines: tuple[str, ...], row: int, col: int, field: str
) -> None:
    rows = list(lines)
    digit = rows[row][col]
    rows[row] = rows[row][:col] + str((int(digit) + 3) % 10) + rows[row][col + 1 :]
    with pytest.raises(MrzError, match=f"check digit of {field}") as info:
        Mrz.parse(rows, today=TODAY)
    assert info.value.field == field


def test_century_resolution() -> None:
    young = Mrz.create(
        issuing_state="UTO", surname="A", given_names="B", document_number="X1",
        nationality="UTO", birth_date=date(2020, 1, 1), sex="M", expiry_date=date(2030, 1, 1),
    )  # fmt: skip
    parsed = Mrz.parse(young.lines(), today=TODAY)
    assert parsed.birth_date == date(2020, 1, 1)  # not in the future: 2020
    assert parsed.expiry_date == date(2030, 1, 1)
    later = Mrz.parse(young.lines(), today=date(2019, 6, 1))
    assert later.birth_date == date(1920, 1, 1)  # 2020 would be in the future
    old_expiry = Mrz.parse(TD3, today=TODAY)
    assert old_expiry.expiry_date == date(2012, 4, 15)


def test_unknown_birth_date_parts() -> None:
    mrz = Mrz.create(
        issuing_state="UTO", surname="A", given_names="B", document_number="X1",
        nationality="UTO", birth_date=date(1980, 1, 1), sex="X", expiry_date=date(2030, 1, 1),
    )  # fmt: skip
    line1, line2 = mrz.lines()
    unknown = line2[:13] + "80<<<<" + check_digit("80<<<<") + line2[20:]
    body = unknown[:43]
    unknown = body + check_digit(body[0:10] + body[13:20] + body[21:43])
    parsed = Mrz.parse([line1, unknown], today=TODAY)
    assert parsed.birth_date is None
    assert parsed.birth_date_yymmdd == "80<<<<"
    assert parsed.sex == "X"


def test_long_document_number_overflows_into_optional_data() -> None:
    mrz = Mrz.create(
        document_code="I", issuing_state="UTO", surname="ERIKSSON", given_names="ANNA",
        document_number="D23145890734", nationality="UTO", birth_date=date(1974, 8, 12),
        sex="F", expiry_date=date(2030, 4, 15), format="TD1",
    )  # fmt: skip
    line1 = mrz.lines()[0]
    assert line1[5:15] == "D23145890<"
    assert line1[15:19] == "734" + check_digit("D23145890734")
    parsed = Mrz.parse(mrz.lines(), today=TODAY)
    assert parsed.document_number == "D23145890734"
    assert parsed.mrz_key().document_number == "D23145890734"
    broken = line1[:18] + str((int(line1[18]) + 1) % 10) + line1[19:]
    with pytest.raises(MrzError, match="document_number"):
        Mrz.parse([broken, *mrz.lines()[1:]], today=TODAY)


def test_td2_long_document_number() -> None:
    mrz = Mrz.create(
        document_code="I", issuing_state="UTO", surname="ERIKSSON", given_names="ANNA",
        document_number="D2314589073", nationality="UTO", birth_date=date(1974, 8, 12),
        sex="F", expiry_date=date(2030, 4, 15), format="TD2", optional_data="X",
    )  # fmt: skip
    line2 = mrz.lines()[1]
    assert line2[9] == "<" and line2[28:32] == "73" + check_digit("D2314589073") + "<"
    parsed = Mrz.parse(mrz.lines(), today=TODAY)
    assert (parsed.document_number, parsed.optional_data) == ("D2314589073", "X")


def test_visa_mrv_a_has_no_composite() -> None:
    mrz = Mrz.create(
        document_code="V", issuing_state="UTO", surname="ERIKSSON", given_names="ANNA",
        document_number="L8988901C", nationality="XXX", birth_date=date(1974, 8, 12),
        sex="F", expiry_date=date(2030, 4, 15), optional_data="6ZE184226B",
    )  # fmt: skip
    assert mrz.format == "MRVA"
    lines = mrz.lines()
    assert [len(line) for line in lines] == [44, 44]
    parsed = Mrz.parse(lines, today=TODAY)
    assert parsed.format == "MRVA" and parsed.optional_data == "6ZE184226B"


def test_transliteration_and_truncation() -> None:
    assert to_mrz_text("Müller-Lüdenscheidt") == "MULLER<LUDENSCHEIDT"
    assert to_mrz_text("O'Brien") == "OBRIEN"
    with pytest.raises(MrzError, match="cannot be written"):
        to_mrz_text("王")
    mrz = Mrz.create(
        issuing_state="UTO", surname="A" * 40, given_names="B", document_number="1",
        nationality="UTO", birth_date=date(1980, 1, 1), sex="F", expiry_date=date(2030, 1, 1),
    )  # fmt: skip
    assert len(mrz.lines()[0]) == 44 and mrz.lines()[0].endswith("A")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("P<UTO\nL898", "is not TD1"),
        (TD3[0] + "\n" + TD3[1][:-1] + "é", "not allowed"),
        (TD3[0] + "\n" + TD3[1].replace("F", "Q"), "sex"),
        (TD3[0] + "\n" + TD3[1][:13] + "7413122" + TD3[1][20:], "check digit|calendar"),
    ],
)
def test_malformed_mrz(text: str, message: str) -> None:
    with pytest.raises(MrzError, match=message):
        Mrz.parse(text, today=TODAY)


def test_invalid_calendar_date_with_valid_check_digit() -> None:
    raw = "741312"
    body = TD3[1][:13] + raw + check_digit(raw) + TD3[1][20:43]
    line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
    with pytest.raises(MrzError, match="not a calendar date") as info:
        Mrz.parse([TD3[0], line2], today=TODAY)
    assert info.value.field == "birth_date"


@pytest.mark.parametrize("raw", ["000000", "740800", "740012"])
def test_a_day_or_month_printed_as_00_is_unknown_and_still_keys_the_chip(raw: str) -> None:
    """Some states print 00 for an unknown day or month instead of '<' (a Croatian
    document's 000000): the MRZ reads, the date is unknown, the digits make the key."""
    body = TD3[1][:13] + raw + check_digit(raw) + TD3[1][20:43]
    line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
    mrz = Mrz.parse([TD3[0], line2], today=TODAY)
    assert mrz.birth_date is None and mrz.birth_date_yymmdd == raw
    assert mrz.mrz_key().birth_date == raw


def test_create_rejects_bad_fields() -> None:
    def make(document_number: str = "1", sex: str = "F", state: str = "UTO") -> Mrz:
        return Mrz.create(
            issuing_state=state, surname="A", given_names="B", nationality="UTO",
            document_number=document_number, sex=sex, birth_date=date(1980, 1, 1),
            expiry_date=date(2030, 1, 1),
        )  # fmt: skip

    with pytest.raises(MrzError, match="sex"):
        make(sex="Q")
    with pytest.raises(MrzError, match="too long"):
        make(document_number="1234567890")
    with pytest.raises(MrzError, match="issuing_state"):
        make(state="UTOP")


def test_created_fields_equal_what_a_reader_parses() -> None:
    mrz = Mrz.create(
        issuing_state="D", surname="Müller-Lüdenscheidt", given_names="Jürgen  Karl",
        document_number="C01X00T47", nationality="D", birth_date=date(1964, 8, 12),
        sex="M", expiry_date=date(2030, 10, 31),
    )  # fmt: skip
    assert (mrz.surname, mrz.given_names) == ("MULLER LUDENSCHEIDT", "JURGEN KARL")
    assert Mrz.parse(mrz.lines(), today=TODAY) == mrz
    assert "JURGEN<KARL<" in mrz.lines()[0] and mrz.lines()[0].count("<<") >= 1
    assert "<<JURGEN" in mrz.lines()[0] and "JURGEN<<" not in mrz.lines()[0]
