"""Pack validation (every error names its key), selection by date and port, shipped data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from policy.errors import PackError
from policy.pack import parse_pack, select_pack
from policy.shipped import shipped_pack_texts, shipped_packs

TEXT_240 = shipped_pack_texts()["cn-hunan-transit-240h.toml"].decode()
CST = timezone(timedelta(hours=8))

# The facts file's 240-hour list (54 from 2024-12-17), written as MRZ codes.
LIST_240 = {
    "AUT", "BEL", "CZE", "DNK", "EST", "FIN", "FRA", "D", "GRC", "HUN", "ISL", "ITA", "LVA",
    "LTU", "LUX", "MLT", "NLD", "NOR", "POL", "PRT", "SVK", "SVN", "ESP", "SWE", "CHE", "RUS",
    "GBR", "IRL", "CYP", "BGR", "ROU", "UKR", "SRB", "HRV", "BIH", "MNE", "MKD", "ALB", "MCO",
    "BLR", "USA", "CAN", "BRA", "MEX", "ARG", "CHL", "AUS", "NZL", "KOR", "JPN", "SGP", "BRN",
    "ARE", "QAT",
}  # fmt: skip
# The countries the facts file says are certainly on the 2016 Changsha 72-hour list.
LIST_72 = {
    "USA", "CAN", "BRA", "MEX", "ARG", "CHL", "AUS", "NZL", "KOR", "JPN", "SGP", "BRN", "ARE",
    "QAT", "GBR", "IRL", "RUS", "D", "FRA", "ITA", "ESP", "NLD", "AUT", "BEL", "CHE", "SWE",
    "DNK", "FIN", "POL", "PRT", "GRC", "CZE", "HUN",
}  # fmt: skip


def shipped(pack_id: str):  # type: ignore[no-untyped-def]
    return next(p for p in shipped_packs() if p.id == pack_id)


def test_shipped_240h_pack_lists_the_sourced_nationalities() -> None:
    pack = shipped("cn-hunan-transit-240h")
    assert pack.transit is not None
    first, indonesia = pack.transit.eligible
    assert len(LIST_240) == 54
    assert first.nationalities == LIST_240 and first.valid_from == date(2024, 12, 17)
    assert indonesia.nationalities == {"IDN"} and indonesia.valid_from == date(2025, 6, 12)
    assert pack.transit.stay_hours == 240
    assert pack.transit.entry_ports == {"CSX", "DYG"}
    assert pack.transit.separate_regions == {"HKG", "MAC", "TWN"}
    assert pack.lane.minimum_age_years == 7
    assert pack.effective_until is None


def test_shipped_72h_pack() -> None:
    pack = shipped("cn-hunan-transit-72h")
    assert pack.transit is not None
    (group,) = pack.transit.eligible
    assert len(LIST_72) == 33 and group.nationalities == LIST_72
    assert (pack.effective_from, pack.effective_until) == (date(2016, 1, 1), date(2024, 12, 16))
    assert pack.transit.entry_ports == {"CSX"}
    assert pack.transit.stay_area == "Hunan province"
    assert not pack.transit.counting_confirmed  # 144-hour counting applied by analogy


def test_shipped_packs_do_not_overlap() -> None:
    old, new = shipped("cn-hunan-transit-72h"), shipped("cn-hunan-transit-240h")
    assert old.effective_until is not None
    assert old.effective_until + timedelta(days=1) == new.effective_from


@pytest.mark.parametrize(
    ("moment", "port", "expected"),
    [
        (datetime(2015, 12, 31, 23, 59, tzinfo=CST), "CSX", None),
        (datetime(2016, 1, 1, 0, 0, tzinfo=CST), "CSX", "cn-hunan-transit-72h"),
        (datetime(2024, 12, 16, 23, 59, tzinfo=CST), "DYG", "cn-hunan-transit-72h"),
        (datetime(2024, 12, 16, 16, 0, tzinfo=UTC), "CSX", "cn-hunan-transit-240h"),
        (datetime(2030, 1, 1, tzinfo=CST), "DYG", "cn-hunan-transit-240h"),
        (datetime(2026, 1, 1, tzinfo=CST), "PEK", None),
    ],
)
def test_select_pack_by_local_date_and_port(
    moment: datetime, port: str, expected: str | None
) -> None:
    chosen = select_pack(shipped_packs(), port, moment)
    assert (chosen.id if chosen else None) == expected


def test_higher_version_wins_on_the_same_start() -> None:
    newer = parse_pack(TEXT_240.replace('version = "1.0"', 'version = "1.10"'), "x")
    older = parse_pack(TEXT_240.replace('version = "1.0"', 'version = "1.9"'), "y")
    chosen = select_pack([older, newer], "CSX", datetime(2026, 1, 1, tzinfo=CST))
    assert chosen is newer  # 1.10 > 1.9 numerically


def test_checksum_is_of_the_bytes() -> None:
    a = parse_pack(TEXT_240, "a")
    b = parse_pack(TEXT_240 + "\n# comment\n", "b")
    assert a.sha256 != b.sha256 and len(a.sha256) == 64


def edit(old: str, new: str) -> str:
    assert old in TEXT_240, old
    return TEXT_240.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("not toml [", "", "not valid TOML"),
        (b"\xff\xfe".decode("latin-1"), "", "not valid TOML"),
        (edit("schema = 1", "schema = 2"), "schema", "not supported"),
        (edit("schema = 1", ""), "schema", "is required"),
        (edit('id = "cn-hunan-transit-240h"', 'id = "Bad Id"'), "pack.id", "lower-case"),
        (edit('version = "1.0"', 'version = "v1"'), "pack.version", "dotted numbers"),
        (
            edit("effective_from = 2024-12-17", "effective_from = 2024-12-17T00:00:00"),
            "pack.effective_from",
            "TOML date",
        ),
        (
            edit(
                "effective_from = 2024-12-17",
                "effective_from = 2024-12-17\neffective_until = 2024-01-01",
            ),
            "pack.effective_until",
            "before the start date",
        ),
        (edit('utc_offset = "+08:00"', 'utc_offset = "8"'), "pack.utc_offset", "+HH:MM"),
        (edit('ports = ["CSX", "DYG"]', 'ports = ["CSX", "Dyg"]'), "pack.ports", "IATA"),
        (edit('ports = ["CSX", "DYG"]', "ports = []"), "pack.ports", "must not be empty"),
        (edit("[lane]", "colour = 'red'\n[lane]"), "pack.colour", "unknown key"),
        (
            edit("minimum_age_years = 7", "minimum_age_years = -1"),
            "lane.minimum_age_years",
            "integer >= 0",
        ),
        (
            edit("minimum_age_years = 7", "minimum_age_years = true"),
            "lane.minimum_age_years",
            "integer",
        ),
        (
            edit('document_codes = ["P"]', 'document_codes = ["passport"]'),
            "lane.document_codes",
            "document codes",
        ),
        (
            edit("reference_max_age_hours = 24.0", "reference_max_age_hours = 0"),
            "lane.reference_max_age_hours",
            "positive",
        ),
        (
            edit('basis = "transit_240h"', 'basis = "transit_100h"'),
            "transit.basis",
            "is not one of",
        ),
        (edit("stay_hours = 240", "stay_hours = 72"), "transit.stay_hours", "does not match"),
        (
            edit('counting = "next_day_midnight"', 'counting = "whenever"'),
            "transit.counting",
            "is not one of",
        ),
        (
            edit('separate_regions = ["HKG", "MAC", "TWN"]', 'separate_regions = ["HKG", "CHN"]'),
            "transit.separate_regions",
            "home state",
        ),
        (
            edit('nationalities = ["IDN"]', 'nationalities = ["IDN", "IDN"]'),
            "transit.eligible[1].nationalities",
            "more than once",
        ),
        (
            edit('nationalities = ["IDN"]', 'nationalities = ["CHN"]'),
            "transit.eligible[1].nationalities",
            "home state",
        ),
        (
            edit('nationalities = ["IDN"]', 'nationalities = ["Indonesia"]'),
            "transit.eligible[1].nationalities",
            "ICAO 9303",
        ),
        (
            edit("from = 2025-06-12", "from = 2025-06-12\nuntil = 2025-01-01"),
            "transit.eligible[1].until",
            "before the start date",
        ),
        (
            edit('entry_ports = ["CSX", "DYG"]', 'entry_ports = "CSX"'),
            "transit.entry_ports",
            "list of strings",
        ),
        (edit("sources = [\n", "sources = [] #\n"), "", "not valid TOML"),
    ],
)
def test_invalid_packs_name_the_key(text: str, key: str, problem: str) -> None:
    with pytest.raises(PackError) as info:
        parse_pack(text, "upd.toml")
    assert info.value.origin == "upd.toml"
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(info.value).startswith("upd.toml")


def test_pack_must_cite_a_source() -> None:
    start = TEXT_240.index("sources = [")
    end = TEXT_240.index("]\n", start) + 2
    with pytest.raises(PackError, match="at least one source"):
        parse_pack(TEXT_240[:start] + "sources = []\n" + TEXT_240[end:], "x")


def test_visa_exemption_validation() -> None:
    good = TEXT_240 + (
        '\n[[visa_exemptions]]\nname = "A"\nkind = "mutual"\nnationalities = ["SGP"]\n'
        'from = 2024-02-09\nstay_days = 30\nsource = "s"\n'
    )
    pack = parse_pack(good, "x")
    (ex,) = pack.visa_exemptions
    assert ex.covers("SGP", date(2024, 2, 9)) and not ex.covers("SGP", date(2024, 2, 8))
    with pytest.raises(PackError, match="'mutual' or 'unilateral'"):
        parse_pack(good.replace('kind = "mutual"', 'kind = "bilateral"'), "x")
    with pytest.raises(PackError, match=r"visa_exemptions\[0\].stay_days"):
        parse_pack(good.replace("stay_days = 30", "stay_days = 0"), "x")
    with pytest.raises(PackError, match="home state"):
        parse_pack(good.replace('nationalities = ["SGP"]', 'nationalities = ["CHN"]'), "x")


def test_pack_without_transit_rule_is_valid() -> None:
    start = TEXT_240.index("[transit]")
    pack = parse_pack(TEXT_240[:start], "x")
    assert pack.transit is None


SHARED_FACTS = Path(__file__).resolve().parents[2].parent / "shared/policy/china-entry-facts.md"
NAME_TO_CODE = {
    "Austria": "AUT", "Belgium": "BEL", "Czech Republic": "CZE", "Denmark": "DNK",
    "Estonia": "EST", "Finland": "FIN", "France": "FRA", "Germany": "D", "Greece": "GRC",
    "Hungary": "HUN", "Iceland": "ISL", "Italy": "ITA", "Latvia": "LVA", "Lithuania": "LTU",
    "Luxembourg": "LUX", "Malta": "MLT", "Netherlands": "NLD", "Norway": "NOR", "Poland": "POL",
    "Portugal": "PRT", "Slovakia": "SVK", "Slovenia": "SVN", "Spain": "ESP", "Sweden": "SWE",
    "Switzerland": "CHE", "Russia": "RUS", "United Kingdom": "GBR", "Ireland": "IRL",
    "Cyprus": "CYP", "Bulgaria": "BGR", "Romania": "ROU", "Ukraine": "UKR", "Serbia": "SRB",
    "Croatia": "HRV", "Bosnia and Herzegovina": "BIH", "Montenegro": "MNE",
    "North Macedonia": "MKD", "Albania": "ALB", "Monaco": "MCO", "Belarus": "BLR",
    "United States": "USA", "Canada": "CAN", "Brazil": "BRA", "Mexico": "MEX",
    "Argentina": "ARG", "Chile": "CHL", "Australia": "AUS", "New Zealand": "NZL",
    "South Korea": "KOR", "Japan": "JPN", "Singapore": "SGP", "Brunei": "BRN",
    "United Arab Emirates": "ARE", "Qatar": "QAT", "Indonesia": "IDN",
}  # fmt: skip


def _names_after(text: str, marker: str, end: str) -> set[str]:
    start = text.index(marker) + len(marker)
    chunk = " ".join(text[start : text.index(end, start)].split())
    return {name.strip(" .") for name in chunk.split(",") if name.strip(" .")}


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_FACTS.exists(), reason="../shared is not present")
def test_packs_agree_with_the_facts_document() -> None:
    text = SHARED_FACTS.read_text(encoding="utf-8")
    listed_240 = _names_after(text, "making 55):", "; Indonesia from 2025-06-12")
    assert {NAME_TO_CODE[n] for n in listed_240} == LIST_240
    listed_72 = _names_after(text, "Countries certainly in the 2016 list include:", "(The full")
    assert {NAME_TO_CODE[n] for n in listed_72} == LIST_72
    assert "Indonesia added 2025-06-12" in text and "from 2024-12-17" in text


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            "reference_max_age_hours = 24.0",
            "reference_max_age_hours = nan",
            "lane.reference_max_age_hours",
        ),
        (
            "reference_max_age_hours = 24.0",
            "reference_max_age_hours = inf",
            "lane.reference_max_age_hours",
        ),
        ("minimum_age_years = 7", "minimum_age_years = 700", "lane.minimum_age_years"),
        (
            'basis = "transit_240h"\nstay_hours = 240',
            'basis = "transit_240h"\nstay_hours = 99999',
            "transit.stay_hours",
        ),
    ],
)
def test_implausible_numbers_are_rejected(old: str, new: str, key: str) -> None:
    with pytest.raises(PackError) as info:
        parse_pack(edit(old, new), "x")
    assert info.value.key == key
