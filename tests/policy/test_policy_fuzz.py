"""Bad input gives a typed error, never a crash: cases, packs and BCBP strings."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.bcbp import parse_bcbp
from policy.case import parse_case
from policy.engine import evaluate
from policy.errors import BcbpError, CaseError, NoPackInForce, PackError
from policy.pack import parse_pack
from policy.shipped import shipped_pack_texts, shipped_packs
from tests.policy.bcbp_builder import Leg, build_bcbp
from tests.policy.conftest import BASE_CASE

PACKS = shipped_packs()
MUTATIONS = [
    "",
    "x = 1",
    "[pack]",
    "stay_hours = '240'",
    "from = 2024-13-01",
    "ports = [1]",
    "nationalities = []",
    'version = "2"',
    "[[visa_exemptions]]",
    "effective_until = 1999-01-01",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutate(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """Replace one leaf or sub-object of a valid case with arbitrary JSON."""
    if isinstance(value, dict) and value and depth < 3 and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: mutate(draw, value[key], depth + 1)}
    return draw(json_values)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_cases_are_decided_or_rejected_with_case_error(data: st.DataObject) -> None:
    case = mutate(data.draw, json.loads(json.dumps(BASE_CASE)))
    try:
        result = evaluate(case, PACKS)
    except (CaseError, NoPackInForce):
        return
    assert result.decision in ("admit", "refer")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_packs_are_valid_or_rejected_with_pack_error(data: st.DataObject) -> None:
    text = shipped_pack_texts()["cn-hunan-transit-240h.toml"].decode()
    lines = text.splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    replacement = data.draw(
        st.sampled_from(
            [
                "",
                "x = 1",
                "[pack]",
                "stay_hours = '240'",
                "from = 2024-13-01",
                "ports = [1]",
                "nationalities = []",
                'version = "2"',
                "[[visa_exemptions]]",
                "effective_until = 1999-01-01",
            ]
        )
    )
    lines[index] = replacement
    with contextlib.suppress(PackError):
        parse_pack("\n".join(lines), "fuzz")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_a_bcbp_error_or_a_pass(text: str) -> None:
    with contextlib.suppress(BcbpError):
        parse_bcbp(text)


BCBP_FULL = build_bcbp(
    "SMITH/JANE", [Leg("NRT", "CSX"), Leg("CSX", "ICN", day=70)], security="XYZ"
)
# Security data is optional: the pass cut just before it is complete, not truncated.
BCBP_UNSIGNED_LENGTH = BCBP_FULL.index("^")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_truncated_or_corrupted_bcbp_is_a_bcbp_error(data: st.DataObject) -> None:
    text = BCBP_FULL
    cut = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.characters(min_codepoint=32, max_codepoint=126))
    if cut == BCBP_UNSIGNED_LENGTH:
        unsigned = parse_bcbp(text[:cut])
        assert unsigned.security_data is None
        assert unsigned.legs == parse_bcbp(text).legs
    else:
        with pytest.raises(BcbpError):  # a truncated pass must never parse
            parse_bcbp(text[:cut])
    # A changed character may still be a valid pass (a name letter), or a BcbpError;
    # any other exception fails the test.
    with contextlib.suppress(BcbpError):
        parse_bcbp(text[:cut] + char + text[cut + 1 :])


def test_every_truncation_of_a_pass_is_refused() -> None:
    for cut in range(len(BCBP_FULL)):
        if cut != BCBP_UNSIGNED_LENGTH:
            with pytest.raises(BcbpError):
                parse_bcbp(BCBP_FULL[:cut])


airports = st.sampled_from(["CSX", "DYG", "NRT", "ICN", "HKG", "TPE", "MFM", "FRA", "JFK"])


@settings(max_examples=300, deadline=None)
@given(
    legs=st.lists(
        st.builds(
            Leg,
            from_airport=airports,
            to_airport=airports,
            carrier=st.sampled_from(["CA", "KE", "9W", "LH", "JL"]),
            flight=st.from_regex(r"\A[0-9]{3,4}[A-Z]?\Z"),
            day=st.integers(1, 366),
            seat=st.sampled_from(["001A", "12C", "033K", "", "INF"]),
            compartment=st.sampled_from(["F", "J", "Y"]),
            pnr=st.from_regex(r"\A[A-Z0-9]{5,7}\Z"),
        ),
        min_size=1,
        max_size=4,
    ),
    name=st.from_regex(r"\A[A-Z]{2,10}/[A-Z]{1,8}\Z"),
    version=st.sampled_from([None, 5, 6, 7]),
)
def test_bcbp_round_trip(legs: list[Leg], name: str, version: int | None) -> None:
    bp = parse_bcbp(build_bcbp(name, legs, version=version))
    assert bp.passenger_name == name
    assert bp.version == version
    assert len(bp.legs) == len(legs)
    for parsed, leg in zip(bp.legs, legs, strict=True):
        assert (parsed.from_airport, parsed.to_airport) == (leg.from_airport, leg.to_airport)
        assert (parsed.carrier, parsed.flight_number) == (leg.carrier, leg.flight)
        assert (parsed.day_of_year, parsed.seat, parsed.pnr) == (leg.day, leg.seat, leg.pnr)
        assert parsed.seat_assigned == (leg.seat not in ("", "INF"))


def test_case_must_be_an_object_not_a_list() -> None:
    try:
        parse_case([BASE_CASE])
    except CaseError as exc:
        assert "expected `object`" in str(exc)
    else:
        raise AssertionError("a list was accepted as a case")
