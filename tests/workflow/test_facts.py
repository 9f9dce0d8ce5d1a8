from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.protocols import ChipReadResult
from devices.simulated import pki
from kiosk.config import parse_config
from kiosk.lane.events import Start
from kiosk.lane.facts import build_case, chip_genuine
from kiosk.lane.states import LaneState
from kiosk.ports import FaceVerification
from policy.case import Checks, parse_case
from policy.errors import CaseError
from tests.workflow.fakes import FACTS, Rig, run_traveller


def chip(ca: str, aa: str) -> ChipReadResult:
    return ChipReadResult({}, "BAC", ca, aa)  # type: ignore[arg-type]


def test_chip_genuine_is_tri_state() -> None:
    assert chip_genuine(chip("passed", "not_supported")) is True
    assert chip_genuine(chip("not_supported", "passed")) is True
    assert chip_genuine(chip("passed", "failed")) is False
    # None only when EF.SOD shows the chip has neither DG14 nor DG15 (issue 10 item 1);
    # without a readable EF.SOD nothing shows that, so it fails closed.
    assert chip_genuine(chip("not_supported", "not_supported")) is False
    p = pki.make_test_pki("UTO", now=datetime(2026, 6, 1, tzinfo=UTC))
    signed = pki.build_sod({1: b"\x61\x00", 2: b"\x75\x00"}, p.ds_cert, p.ds_key)
    old_chip = ChipReadResult({"EF.SOD": signed}, "BAC", "not_supported", "not_supported")
    assert chip_genuine(old_chip) is None


def test_case_marks_checks_not_performed_as_null() -> None:
    cfg = parse_config({})
    now = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    no_face = FaceVerification("no_face", False, "not_checked", None, 0.5, 0, 10.0)
    case = build_case(cfg, now, FACTS, document_authentic=True, chip_genuine=None,
                      watchlist_hit=False, face=no_face, journey=None, reference_age_h=1.5)
    assert case.now.isoformat() == "2026-03-01T10:30:00+08:00"  # the port's local time
    assert case.checks == Checks(chip_read=True, document_authentic=True, chip_genuine=None,
                                 face_match=None, liveness=None, watchlist_hit=False)
    assert case.reference_age_hours == 1.5
    assert case.entry_record is None


def test_a_never_synced_kiosk_gives_the_policy_infinitely_stale_reference_data() -> None:
    case = build_case(parse_config({}), datetime(2026, 3, 1, tzinfo=UTC), FACTS,
                      document_authentic=True, chip_genuine=True, watchlist_hit=False,
                      face=None, journey=None, reference_age_h=None)
    assert case.reference_age_hours == math.inf


def test_the_typed_case_equals_the_parsed_json_case() -> None:
    """The lane's in-process case is the one the public JSON format describes."""
    cfg = parse_config({"kiosk": {"direction": "exit"}})
    now = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    face = FaceVerification("match", True, "live", 0.3, 0.5, 3, 500.0)
    journey = {"arrived_from": "JPN", "onward": {
        "destination": "KOR", "departure_time": "2026-03-05T09:00:00+08:00",
        "departure_port": "CSX", "confirmed": True, "flight": "MU123", "source": "api",
        "verified": True}}
    record = {"entry_time": "2026-02-27T09:00:00+08:00", "port": "CSX",
              "basis": "transit_240h", "permitted_until": "2026-03-10T00:00:00+08:00"}
    typed = build_case(cfg, now, FACTS, document_authentic=True, chip_genuine=None,
                       watchlist_hit=True, face=face, journey=journey, reference_age_h=2.0,
                       entry_record=record)
    parsed = parse_case({
        "now": "2026-03-01T10:30:00+08:00", "port": cfg.kiosk.port, "direction": "exit",
        "document": {
            k: v for k, v in FACTS.summary().items() if k not in ("surname", "given_names")},
        "checks": {"document_authentic": True, "chip_genuine": None, "face_match": True,
                   "liveness": True, "watchlist_hit": True},
        "journey": journey, "visa": None, "reference_data": {"age_hours": 2.0},
        "entry_record": record,
    })
    assert typed == parsed


def test_a_fact_no_case_can_hold_refers_as_case_invalid() -> None:
    bad = replace(FACTS, nationality="12")
    with pytest.raises(CaseError, match=r"document\.nationality"):
        build_case(parse_config({}), datetime(2026, 3, 1, tzinfo=UTC), bad,
                   document_authentic=True, chip_genuine=True, watchlist_hit=False,
                   face=None, journey=None)


def test_exit_lane_passes_the_entry_record_to_the_policy(tmp_path: Path) -> None:
    rig = Rig(tmp_path, kiosk={"direction": "exit"})
    record = {"entry_time": "2026-02-27T09:00:00+08:00", "port": "CSX",
              "basis": "transit_240h", "permitted_until": "2026-03-10T00:00:00+08:00"}
    looked_up = []
    rig.lane.services.entry_record = lambda facts: looked_up.append(facts) or record
    rig.lane.post(Start())
    rig.lane.run_pending()
    rig.reader.place()
    rig.lane.run_pending()
    # Asked twice (does the document alone refer? then the decision), one lookup.
    assert looked_up == [FACTS]
    case = rig.policy.cases[-1]
    assert case.direction == "exit" and case.entry_record is not None
    assert (case.entry_record.basis, case.entry_record.permitted_until.isoformat()) == (
        "transit_240h", "2026-03-10T00:00:00+08:00")


def test_the_lane_refers_a_traveller_whose_facts_no_case_can_hold(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.lane.services.document_facts = lambda files: replace(FACTS, nationality="12")
    run_traveller(rig, take_back=False)
    assert rig.lane.state is LaneState.REFERRED and rig.gate.opened_count == 0
    assert rig.policy.cases == []  # the policy never saw it
    assert rig.log.events()[0].reasons == ["case_invalid"]


# The journey and the entry record reach the lane from outside the process (the journey
# resolver, the border database): the lane-built case reads them through the case
# format's own schema, so a malformed one is refused, never read generously
# (bool("false") is True: an unconfirmed flight must not count as confirmed).
@pytest.mark.parametrize(
    ("journey", "key"),
    [
        ({"onward": {"departure_time": "2026-03-02T10:00+08:00", "confirmed": "false"}},
         "journey.onward.confirmed"),
        ({"onward": {"departure_time": "2026-03-02T10:00+08:00", "departure_port": "Pudong"}},
         "journey.onward.departure_port"),
        ({"onward": {"departure_time": "2026-03-02T10:00+08:00", "confirmd": True}},
         "journey.onward.confirmd"),
        ({"onward": {"departure_time": "9999-03-02T10:00+08:00"}},
         "journey.onward.departure_time"),
    ],
)
def test_a_malformed_journey_is_refused_by_the_case_schema(
    journey: dict[str, object], key: str
) -> None:
    with pytest.raises(CaseError) as caught:
        build_case(parse_config({}), datetime(2026, 3, 1, tzinfo=UTC), FACTS,
                   document_authentic=True, chip_genuine=True, watchlist_hit=False,
                   face=None, journey=journey)  # fmt: skip
    assert caught.value.field == key


def test_a_malformed_document_number_is_refused_by_the_case_schema() -> None:
    with pytest.raises(CaseError) as caught:
        build_case(parse_config({}), datetime(2026, 3, 1, tzinfo=UTC),
                   replace(FACTS, document_number="E1234 5678"),
                   document_authentic=True, chip_genuine=True, watchlist_hit=False,
                   face=None, journey=None)  # fmt: skip
    assert caught.value.field == "document.document_number"
