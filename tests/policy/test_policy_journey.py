"""Onward-journey facts: API lookup, boarding pass to journey, scanning frames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
import zxingcpp

from devices.protocols import Frame
from kiosk.decision.journey import (
    BoardingPassScanner,
    EntryRecord,
    InMemoryApiSource,
    InMemoryEntryRecords,
    JourneyResolver,
    OnwardJourney,
    journey_from_boarding_pass,
    names_agree,
)
from kiosk.decision.policy_adapter import PackPolicy
from policy.bcbp import parse_bcbp
from policy.shipped import shipped_airports
from tests.policy.bcbp_builder import Leg, build_bcbp
from tests.policy.carrier import keys_for, signed
from tests.policy.conftest import make_case
from tests.policy.test_policy_bcbp import camera_frame

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=CST)  # day of year 60
AIRPORTS = shipped_airports()


@dataclass
class Traveller:
    document_number: str = "X1234567"
    surname: str = "SMITH"


KEYS = keys_for("KE", "CX")  # the carriers whose keys the border distributes


def through_pass(*, onward_to: str = "ICN", onward_day: int = 64, seat: str = "033K") -> str:
    """Tokyo -> Changsha today, Changsha -> onward on `onward_day`, signed by the carrier."""
    return signed(build_bcbp(
        "SMITH/JANE",
        [
            Leg("NRT", "CSX", "JL", "0611", 60),
            Leg("CSX", onward_to, "KE", "0818", onward_day, seat),
        ],
    ))


def test_airport_table_regions() -> None:
    assert AIRPORTS.state_of("CSX") == "CHN"
    assert AIRPORTS.state_of("HKG") == "HKG"
    assert AIRPORTS.state_of("MFM") == "MAC"
    assert AIRPORTS.state_of("TPE") == "TWN"
    assert AIRPORTS.state_of("FRA") == "D"
    assert AIRPORTS.state_of("ZZZ") is None
    assert len(AIRPORTS) > 250


def test_boarding_pass_gives_onward_and_arrival() -> None:
    bp = parse_bcbp(through_pass())
    j = journey_from_boarding_pass(bp, AIRPORTS, home_state="CHN", today=NOW.date(), tz=CST)
    assert j is not None
    assert (j.destination, j.departure_port, j.flight, j.confirmed) == ("KOR", "CSX", "KE818", True)
    assert j.arrived_from == "JPN"
    assert j.departure_time == datetime(2026, 3, 5, 23, 59, tzinfo=CST)  # date only: end of day
    assert j.source == "boarding_pass"


def test_boarding_pass_without_seat_is_not_confirmed() -> None:
    bp = parse_bcbp(through_pass(seat="STBY"))
    j = journey_from_boarding_pass(bp, AIRPORTS, home_state="CHN", today=NOW.date(), tz=CST)
    assert j is not None and not j.confirmed


def test_boarding_pass_of_the_inbound_flight_only_gives_nothing() -> None:
    bp = parse_bcbp(build_bcbp("SMITH/JANE", [Leg("NRT", "CSX", "JL", "0611", 60)]))
    assert (
        journey_from_boarding_pass(bp, AIRPORTS, home_state="CHN", today=NOW.date(), tz=CST) is None
    )


def test_domestic_leg_is_not_a_departure_abroad() -> None:
    bp = parse_bcbp(
        build_bcbp(
            "SMITH/JANE", [Leg("CSX", "PEK", "CA", "1350", 62), Leg("PEK", "HKG", "CX", "0391", 62)]
        )
    )
    j = journey_from_boarding_pass(bp, AIRPORTS, home_state="CHN", today=NOW.date(), tz=CST)
    assert j is not None
    assert (j.departure_port, j.destination) == ("PEK", "HKG")


def test_past_departure_leg_is_ignored() -> None:
    bp = parse_bcbp(build_bcbp("SMITH/JANE", [Leg("CSX", "ICN", "KE", "0818", 50)]))
    assert (
        journey_from_boarding_pass(bp, AIRPORTS, home_state="CHN", today=NOW.date(), tz=CST) is None
    )


@pytest.mark.parametrize(
    ("bcbp_name", "surname", "agree"),
    [
        ("SMITH/JANE", "SMITH", True),
        ("OCONNOR/SEAN", "O'CONNOR", True),
        ("GARCIAMARQUEZ/GABRIEL", "GARCIA MARQUEZ", True),
        ("VANDERWAALSBERGHEN/J", "VAN DER WAALS BERGHENSTEIN", True),  # truncated at 20
        ("SMITHSON/JANE", "SMITH", False),
        ("JONES/JANE", "SMITH", False),
        ("S/JANE", "SMITH", False),
    ],
)
def test_names_agree(bcbp_name: str, surname: str, agree: bool) -> None:
    assert names_agree(bcbp_name, surname) is agree


def api_journey() -> OnwardJourney:
    return OnwardJourney(
        destination="SGP",
        departure_time=datetime(2026, 3, 3, 9, 0, tzinfo=CST),
        departure_port="CSX",
        confirmed=True,
        flight="SQ851",
        source="api",
        arrived_from="USA",
    )


def test_api_first_then_boarding_pass() -> None:
    api = InMemoryApiSource()
    api.add("X1234567", date(2026, 3, 1), api_journey())
    resolver = JourneyResolver(api, AIRPORTS)
    resolver.offer_boarding_pass(through_pass())
    facts = resolver(Traveller(), NOW)
    assert facts is not None and facts["onward"]["flight"] == "SQ851"
    assert facts["arrived_from"] == "USA"

    other = resolver(Traveller(document_number="Y7654321"), NOW)
    assert other is not None and other["onward"]["flight"] == "KE818"
    assert other["onward"]["source"] == "boarding_pass"


def test_boarding_pass_in_another_name_is_not_used() -> None:
    resolver = JourneyResolver(None, AIRPORTS)
    resolver.offer_boarding_pass(through_pass())
    resolved = resolver.resolve(Traveller(surname="JONES"), NOW)
    assert resolved.journey is None
    assert any("another name" in n for n in resolved.notes)


def test_api_failure_falls_back_and_is_noted() -> None:
    class Down:
        def lookup(self, document_number: str, on: date) -> OnwardJourney | None:
            raise ConnectionError("border database unreachable")

    resolver = JourneyResolver(Down(), AIRPORTS)
    resolved = resolver.resolve(Traveller(), NOW)
    assert resolved.journey is None
    assert resolved.notes[0] == "API lookup failed (ConnectionError)."
    resolver.offer_boarding_pass(through_pass())
    assert resolver.resolve(Traveller(), NOW).journey is not None
    resolver.clear()
    assert resolver(Traveller(), NOW) is None


@pytest.mark.parametrize(
    ("onward_to", "decision", "reasons"),
    [
        ("ICN", "admit", ()),
        ("NRT", "refer", ("no_entry_basis", "transit_not_third_country")),  # A -> China -> A
        ("HKG", "admit", ()),
        ("TSA", "admit", ()),
    ],
)
def test_boarding_pass_through_to_decision(
    onward_to: str, decision: str, reasons: tuple[str, ...]
) -> None:
    resolver = JourneyResolver(None, AIRPORTS, carrier_keys=KEYS)
    resolver.offer_boarding_pass(through_pass(onward_to=onward_to))
    journey = resolver(Traveller(), NOW)
    result = PackPolicy().evaluate(make_case(journey=journey))
    assert (result.decision, result.reasons) == (decision, reasons)


def test_boarding_pass_departure_day_at_the_limit() -> None:
    # Day 70 = 11 March: the 240-hour stay ends at 00:00 on 12 March; day 71 exceeds it.
    resolver = JourneyResolver(None, AIRPORTS, carrier_keys=KEYS)
    resolver.offer_boarding_pass(through_pass(onward_day=70))
    assert PackPolicy().evaluate(make_case(journey=resolver(Traveller(), NOW))).decision == "admit"
    resolver.offer_boarding_pass(through_pass(onward_day=71))
    result = PackPolicy().evaluate(make_case(journey=resolver(Traveller(), NOW)))
    assert result.reasons == ("no_entry_basis", "transit_exceeds_limit")


class FrameCamera:
    """A Camera playing a fixed list of frames."""

    def __init__(self, images: list[np.ndarray]) -> None:
        self._frames = [Frame(img, float(i), i) for i, img in enumerate(images)]

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def latest(self) -> Frame | None:
        return self._frames[-1] if self._frames else None

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        for frame in self._frames:
            if frame.index > after_index:
                return frame
        return None

    @property
    def fault(self) -> str | None:
        return None


def test_scanner_reads_the_pass_from_frames() -> None:
    blank = np.full((720, 1280, 3), 128, dtype=np.uint8)
    junk = camera_frame(
        np.asarray(zxingcpp.create_barcode("HELLO", zxingcpp.BarcodeFormat.QRCode).to_image())
    )
    text = through_pass()
    good = camera_frame(
        np.asarray(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Aztec).to_image())
    )
    scanner = BoardingPassScanner(FrameCamera([blank, junk, good]))
    bp = scanner.scan(budget_s=5.0)
    assert bp is not None and bp.raw == text
    assert len(scanner.rejected) == 1 and "format code" in scanner.rejected[0]


def test_scanner_gives_up_when_frames_run_out() -> None:
    blank = np.full((480, 640, 3), 128, dtype=np.uint8)
    assert BoardingPassScanner(FrameCamera([blank, blank])).scan(budget_s=5.0) is None


def test_scanner_respects_its_budget() -> None:
    ticks = iter([0.0, 10.0])
    scanner = BoardingPassScanner(FrameCamera([]), monotonic=lambda: next(ticks))
    assert scanner.scan(budget_s=1.0) is None


def test_onward_journey_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        OnwardJourney("KOR", datetime(2026, 3, 5, 20, 0), "CSX", True, None, "api")


def test_entry_record_source_gives_the_last_entry_before_now() -> None:
    records = InMemoryEntryRecords()
    first = EntryRecord(datetime(2026, 1, 5, 9, tzinfo=CST), "CSX", "visa", None)
    second = EntryRecord(
        datetime(2026, 2, 25, 9, tzinfo=CST),
        "CSX",
        "transit_240h",
        datetime(2026, 3, 8, tzinfo=CST),
    )
    records.add("X1234567<", "USA", first)
    records.add("X1234567", "USA", second)
    records.add("X1234567", "CAN", first)  # another nationality's document
    assert records.last_entry("X1234567", "USA", datetime(2026, 3, 1, tzinfo=CST)) == second
    assert records.last_entry("X1234567", "USA", datetime(2026, 2, 1, tzinfo=CST)) == first
    assert records.last_entry("X1234567", "USA", datetime(2026, 1, 1, tzinfo=CST)) is None
    assert records.last_entry("Z0000000", "USA", datetime(2026, 3, 1, tzinfo=CST)) is None


@pytest.mark.parametrize(
    ("now", "decision", "reasons"),
    [
        ("2026-03-07T23:59:00+08:00", "admit", ()),
        ("2026-03-08T00:00:00+08:00", "refer", ("overstay",)),
    ],
)
def test_entry_record_through_to_exit_decision(
    now: str, decision: str, reasons: tuple[str, ...]
) -> None:
    # The permitted_until stored at entry is the one the entry decision gave.
    entry = PackPolicy().evaluate(
        make_case(
            now="2026-02-25T09:00:00+08:00",
            **{"journey.onward.departure_time": "2026-03-01T10:00:00+08:00"},
        )
    )
    assert entry.permitted_until == "2026-03-08T00:00:00+08:00"
    record = EntryRecord(
        datetime.fromisoformat("2026-02-25T09:00:00+08:00"),
        "CSX",
        entry.basis,
        datetime.fromisoformat(entry.permitted_until),
    )
    case = make_case(
        now=now, direction="exit", journey=None, entry_record=record.case_entry_record()
    )
    result = PackPolicy().evaluate(case)
    assert (result.decision, result.reasons) == (decision, reasons)


def test_entry_record_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        EntryRecord(datetime(2026, 1, 1), "CSX", "visa", None)


def test_leg_with_impossible_day_is_skipped_not_fatal() -> None:
    # Day 366 with no leap year within a year of 2026: the leg has no usable date.
    bp = parse_bcbp(
        build_bcbp("SMITH/JANE", [Leg("CSX", "ICN", day=366), Leg("CSX", "NRT", day=64)])
    )
    j = journey_from_boarding_pass(bp, AIRPORTS, home_state="CHN", today=NOW.date(), tz=CST)
    assert j is not None and j.destination == "JPN"


def case_lookup_with(data: dict[str, Any] | None):  # type: ignore[no-untyped-def]
    calls: list[tuple[Any, datetime]] = []

    def lookup(facts: Any, now: datetime) -> dict[str, Any] | None:
        calls.append((facts, now))
        return data

    return lookup, calls


def test_case_shaped_api_lookup_gives_the_journey() -> None:
    data = {
        "arrived_from": "USA",
        "onward": {
            "destination": "SGP",
            "departure_time": "2026-03-03T01:00:00+00:00",
            "departure_port": "CSX",
            "confirmed": True,
            "flight": "SQ851",
        },
    }
    lookup, calls = case_lookup_with(data)
    resolver = JourneyResolver(None, AIRPORTS, case_lookup=lookup)
    resolver.offer_boarding_pass(through_pass())
    journey = resolver(Traveller(), NOW)
    assert journey is not None
    assert journey["arrived_from"] == "USA"
    assert journey["onward"]["flight"] == "SQ851" and journey["onward"]["source"] == "api"
    assert calls == [(Traveller(), NOW)]


def test_api_arrival_combines_with_boarding_pass_onward() -> None:
    lookup, _ = case_lookup_with({"arrived_from": "USA", "onward": None})
    resolver = JourneyResolver(None, AIRPORTS, case_lookup=lookup, carrier_keys=KEYS)
    resolver.offer_boarding_pass(
        signed(build_bcbp("SMITH/JANE", [Leg("CSX", "HKG", "CX", "0951", 62, "041C")]))
    )
    journey = resolver(Traveller(), NOW)
    assert journey is not None
    assert journey["arrived_from"] == "USA"  # from API: the pass has no inbound leg
    assert (journey["onward"]["destination"], journey["onward"]["flight"]) == ("HKG", "CX951")
    result = PackPolicy().evaluate(make_case(journey=journey))
    assert result.decision == "admit"


def test_arrival_only_is_passed_on_without_onward() -> None:
    lookup, _ = case_lookup_with({"arrived_from": "JPN", "onward": None})
    resolver = JourneyResolver(None, AIRPORTS, case_lookup=lookup)
    assert resolver(Traveller(), NOW) == {"arrived_from": "JPN", "onward": None}
    assert PackPolicy().evaluate(make_case(journey=resolver(Traveller(), NOW))).reasons == (
        "no_entry_basis",
        "no_onward_journey",
    )


@pytest.mark.parametrize(
    "onward",
    [
        {"departure_time": 12},
        {"departure_time": "2026-03-03T09:00:00+08:00", "confirmed": "yes"},
        {"departure_time": "2026-03-03T09:00:00+08:00", "destination": 7},
        {"departure_time": "tomorrow"},
    ],
)
def test_malformed_api_journey_is_not_used(onward: dict[str, Any]) -> None:
    lookup, _ = case_lookup_with({"arrived_from": "JPN", "onward": onward})
    resolved = JourneyResolver(None, AIRPORTS, case_lookup=lookup).resolve(Traveller(), NOW)
    assert resolved.journey is None
    assert resolved.arrived_from == "JPN"
    assert any("malformed" in n for n in resolved.notes)


def test_failing_case_lookup_falls_back_to_the_pass() -> None:
    def down(facts: Any, now: datetime) -> dict[str, Any] | None:
        raise TimeoutError("no answer")

    resolver = JourneyResolver(None, AIRPORTS, case_lookup=down)
    resolver.offer_boarding_pass(through_pass())
    resolved = resolver.resolve(Traveller(), NOW)
    assert resolved.notes[0] == "API lookup failed (TimeoutError)."
    assert resolved.journey is not None and resolved.journey.flight == "KE818"
