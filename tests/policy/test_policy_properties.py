"""Property tests: monotonicity in the onward departure, failed checks never admit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.codes import REASON_CODES, TRANSIT_BASES
from policy.engine import Decision, evaluate
from policy.shipped import shipped_packs

PACKS = shipped_packs()
CST = timezone(timedelta(hours=8))
STATES = ["USA", "JPN", "KOR", "HKG", "MAC", "TWN", "CHN", "IND", "IDN", "D", "UKR", "GBR"]
CHECK_KEYS = ["document_authentic", "chip_genuine", "face_match", "liveness"]

moments = st.datetimes(
    min_value=datetime(2016, 1, 1, 0, 0), max_value=datetime(2027, 12, 31, 23, 59)
).map(lambda d: d.replace(tzinfo=CST))
offsets = st.sampled_from([UTC, CST, timezone(timedelta(hours=-5))])


def rarely(draw: st.DrawFn, usual: Any, other: st.SearchStrategy[Any]) -> Any:
    """`usual` nine times in ten, else a draw from `other`: most cases stay admissible."""
    return usual if draw(st.integers(0, 9)) else draw(other)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    now: datetime = draw(moments).astimezone(draw(offsets))
    today = now.astimezone(CST).date()
    nationality = rarely(draw, "USA", st.sampled_from(STATES))
    age_days = rarely(draw, 30 * 365, st.integers(0, 80 * 366))
    expiry_days = rarely(draw, 3650, st.integers(-30, 20))
    departure = now + timedelta(minutes=draw(st.integers(0, 12 * 24 * 60)))
    arrived_from = rarely(draw, "JPN", st.sampled_from([*STATES, None]))
    destination = rarely(draw, "KOR", st.sampled_from(STATES))
    visa = None
    if not draw(st.integers(0, 5)):
        start = today + timedelta(days=draw(st.integers(-200, 10)))
        visa = {
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=draw(st.integers(0, 365)))).isoformat(),
        }
    onward = {
        "destination": destination,
        "departure_time": departure.isoformat(),
        "departure_port": rarely(draw, "CSX", st.sampled_from(["CSX", "DYG", "PEK", None])),
        "confirmed": rarely(draw, True, st.booleans()),
    }
    return {
        "now": now.isoformat(),
        "port": rarely(draw, "CSX", st.sampled_from(["CSX", "DYG"])),
        "direction": "entry",
        "document": {
            "document_code": rarely(draw, "P", st.sampled_from(["P", "PD", "I"])),
            "issuing_state": nationality,
            "nationality": nationality,
            "document_number": "X1234567",
            "birth_date": (today - timedelta(days=age_days)).isoformat(),
            "sex": "F",
            "expiry_date": (today + timedelta(days=expiry_days)).isoformat(),
        },
        "checks": {
            "document_authentic": rarely(draw, True, st.booleans()),
            "chip_genuine": rarely(draw, True, st.sampled_from([True, False, None])),
            "face_match": rarely(draw, True, st.booleans()),
            "liveness": rarely(draw, True, st.booleans()),
            "watchlist_hit": rarely(draw, False, st.booleans()),
        },
        "journey": {
            "arrived_from": arrived_from,
            "onward": rarely(draw, onward, st.just(None)),
        },
        "visa": visa,
        "reference_data": {"age_hours": rarely(draw, 1.0, st.floats(0, 30))},
    }


def decide(case: dict[str, Any]) -> Decision:
    return evaluate(case, PACKS)


def later(case: dict[str, Any], minutes: int) -> dict[str, Any]:
    onward = case["journey"]["onward"]
    moved = datetime.fromisoformat(onward["departure_time"]) + timedelta(minutes=minutes)
    return {
        **case,
        "journey": {**case["journey"], "onward": {**onward, "departure_time": moved.isoformat()}},
    }


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(case=cases(), extra=st.integers(1, 30 * 24 * 60))
def test_later_departure_never_turns_refer_into_admit(case: dict[str, Any], extra: int) -> None:
    if case["journey"]["onward"] is None:
        case = {
            **case,
            "journey": {
                **case["journey"],
                "onward": {
                    "destination": "KOR",
                    "departure_time": case["now"],
                    "departure_port": "CSX",
                    "confirmed": True,
                },
            },
        }
    first = decide(case)
    second = decide(later(case, extra))
    if first.decision == "refer":
        assert second.decision == "refer", (first.reasons, second.trace)


@SETTINGS
@given(case=cases(), failed=st.sampled_from([*CHECK_KEYS, "watchlist_hit", "chip_read"]))
def test_a_failed_check_never_admits(case: dict[str, Any], failed: str) -> None:
    checks = dict(case["checks"])
    checks[failed] = failed == "watchlist_hit"  # a hit is True, every other failure False
    result = decide({**case, "checks": checks})
    assert result.decision == "refer"
    expected = {
        "document_authentic": "document_not_authentic",
        "chip_genuine": "chip_not_genuine",
        "face_match": "face_mismatch",
        "liveness": "liveness_failed",
        "watchlist_hit": "watchlist_hit",
        "chip_read": "chip_read_failed",
    }[failed]
    assert expected in result.reasons


@SETTINGS
@given(case=cases())
def test_decision_is_well_formed(case: dict[str, Any]) -> None:
    result = decide(case)
    assert decide(case) == result  # pure: same facts, same decision
    assert set(result.reasons) <= set(REASON_CODES)
    assert list(result.reasons) == sorted(result.reasons, key=REASON_CODES.index)
    if result.decision == "admit":
        assert result.reasons == ()
        assert result.basis is not None
    else:
        assert result.reasons and result.basis is None and result.permitted_until is None


@SETTINGS
@given(case=cases())
def test_transit_admission_keeps_every_transit_condition(case: dict[str, Any]) -> None:
    result = decide(case)
    if result.basis not in TRANSIT_BASES:
        return
    onward = case["journey"]["onward"]
    departure = datetime.fromisoformat(onward["departure_time"])
    now = datetime.fromisoformat(case["now"])
    assert result.permitted_until is not None
    assert now <= departure < result.permitted_until
    hours = int(result.basis.removeprefix("transit_").removesuffix("h"))
    # Counting from 00:00 of the next local day: at most 24 h more than the nominal stay.
    assert timedelta(hours=hours) < result.permitted_until - now <= timedelta(hours=hours + 24)
    assert onward["confirmed"] is True
    assert onward["destination"] not in ("CHN", case["journey"]["arrived_from"])
    assert case["journey"]["arrived_from"] is not None
    assert date.fromisoformat(case["document"]["expiry_date"]) >= departure.astimezone(CST).date()
    assert case["document"]["nationality"] not in ("IND", "HKG", "MAC", "TWN", "CHN")
