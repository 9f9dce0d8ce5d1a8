"""The case format is a public contract: malformed cases are typed errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from policy.case import parse_case
from policy.engine import evaluate
from policy.errors import CaseError, NoPackInForce, PackError
from policy.pack import parse_pack
from policy.shipped import shipped_pack_texts, shipped_packs
from tests.policy.conftest import DELETE, make_case


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"now": DELETE}, "now"),
        ({"now": "2026-03-01T10:30:00"}, "now"),
        ({"now": "yesterday"}, "now"),
        ({"now": 1772332200}, "now"),
        ({"port": "csx"}, "port"),
        ({"direction": "in"}, "direction"),
        ({"colour": "red"}, "colour"),
        ({"document": DELETE}, "document"),
        ({"document": "P<USA"}, "document"),
        ({"document.nationality": DELETE}, "document.nationality"),
        ({"document.nationality": "U5A"}, "document.nationality"),
        ({"document.document_code": "passport"}, "document.document_code"),
        ({"document.document_number": "x-1"}, "document.document_number"),
        ({"document.birth_date": "1990-02-30"}, "document.birth_date"),
        ({"document.expiry_date": "31/01/2031"}, "document.expiry_date"),
        ({"document.extra": 1}, "document.extra"),
        ({"checks.face_match": "yes"}, "checks.face_match"),
        ({"checks.chip_read": None}, "checks.chip_read"),
        ({"checks.iris": True}, "checks.iris"),
        ({"journey": []}, "journey"),
        ({"journey.arrived_from": 7}, "journey.arrived_from"),
        ({"journey.onward.departure_time": DELETE}, "journey.onward.departure_time"),
        ({"journey.onward.departure_time": "2026-03-05T20:00"}, "journey.onward.departure_time"),
        ({"journey.onward.departure_port": "Changsha"}, "journey.onward.departure_port"),
        ({"journey.onward.confirmed": "true"}, "journey.onward.confirmed"),
        ({"visa": {"valid_from": "2026-01-01"}}, "visa.valid_until"),
        ({"visa": {"valid_from": "2026-02-01", "valid_until": "2026-01-01"}}, "visa.valid_until"),
        ({"reference_data": {"age_hours": -1}}, "reference_data.age_hours"),
        ({"reference_data": {"age_hours": "old"}}, "reference_data.age_hours"),
        ({"reference_data": {"age_hours": float("nan")}}, "reference_data.age_hours"),
        (
            {"entry_record": {"entry_time": "2026-03-01T10:00:00+08:00", "basis": "tourist"}},
            "entry_record.basis",
        ),
        ({"entry_record": {"basis": "visa"}}, "entry_record.entry_time"),
        ({"case_id": 12}, "case_id"),
    ],
)
def test_malformed_case(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CaseError) as info:
        parse_case(make_case(overrides))
    assert info.value.field == field
    assert str(info.value).startswith(f"case.{field}")


def test_not_an_object() -> None:
    with pytest.raises(CaseError, match="expected `object`"):
        parse_case([1, 2])


def test_minimal_case_refers_for_missing_facts() -> None:
    minimal = {
        "now": "2026-03-01T10:30:00+08:00",
        "port": "CSX",
        "direction": "entry",
        "document": {
            "document_code": "P",
            "issuing_state": "USA",
            "nationality": "USA",
            "document_number": "X1234567",
        },
        "checks": {},
    }
    result = evaluate(minimal, shipped_packs())
    assert result.decision == "refer"
    assert {
        "document_not_authentic",
        "face_mismatch",
        "liveness_failed",
        "watchlist_hit",
        "document_expired",
        "under_minimum_age",
        "no_onward_journey",
    } <= set(result.reasons)


def test_no_pack_in_force_is_typed() -> None:
    with pytest.raises(NoPackInForce, match="PEK"):
        evaluate(make_case(port="PEK"), shipped_packs())


def test_pack_text_must_be_utf8() -> None:
    with pytest.raises(PackError, match="not UTF-8"):
        parse_pack(b"schema = 1\n\xff", "x")


def test_visa_exemption_basis_from_a_pack() -> None:
    text = shipped_pack_texts()["cn-hunan-transit-240h.toml"].decode() + (
        '\n[[visa_exemptions]]\nname = "Test arrangement"\nkind = "unilateral"\n'
        'nationalities = ["MYS"]\nfrom = 2026-02-01\nuntil = 2026-03-01\nstay_days = 30\n'
        'source = "test"\n'
    )
    pack = parse_pack(text.replace('version = "1.0"', 'version = "9.0"'), "test")
    case = make_case({"document.nationality": "MYS", "journey": None})
    result = evaluate(case, [pack])
    assert (result.decision, result.basis) == ("admit", "visa_exemption")
    assert result.permitted_until is not None
    assert result.permitted_until.isoformat() == "2026-04-01T00:00:00+08:00"
    assert any("Test arrangement" in line for line in result.trace)
    after = evaluate(
        make_case(
            {"document.nationality": "MYS", "journey": None, "now": "2026-03-02T09:00:00+08:00"}
        ),
        [pack],
    )
    assert after.decision == "refer" and "no_entry_basis" in after.reasons


def test_trace_reads_as_plain_language() -> None:
    result = evaluate(make_case({"journey.onward.destination": "JPN"}), shipped_packs())
    text = "\n".join(result.trace)
    assert "arrived from JPN and leaves for JPN: the same country or region" in text
    assert "must leave before 2026-03-12 00:00 local time" in text
    assert "counted from 00:00 of the day after entry" in text
    for line in result.trace:
        assert (line[0].isupper() or line[0].isdigit()) and line.endswith(".")


def test_far_off_times_are_case_errors_not_overflows() -> None:
    for when in ("9999-12-31T23:00:00+08:00", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(CaseError, match="outside the years"):
            evaluate(make_case(now=when), shipped_packs())
    with pytest.raises(CaseError, match=r"journey\.onward\.departure_time"):
        parse_case(make_case({"journey.onward.departure_time": "9999-12-31T23:59:00-12:00"}))
