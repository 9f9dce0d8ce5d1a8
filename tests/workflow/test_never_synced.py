"""Fail closed on missing reference data: a kiosk that has never synced is stale."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

from kiosk.decision.policy_adapter import PackPolicy
from kiosk.lane.events import DocumentRemoved, GatePassed
from kiosk.lane.reference_data import SYNC_HEARTBEAT, PolicyFromReference, reference_age_h
from kiosk.lane.states import LaneState
from kiosk.store.reference import ReferenceStore
from policy.engine import evaluate
from policy.shipped import shipped_packs
from tests.workflow.fakes import FACTS, Rig, run_traveller

CITIZEN = replace(
    FACTS,
    issuing_state="CHN",
    nationality="CHN",
    document_number="E12345678",
    birth_date=date(1980, 1, 1),
)


def real_policy_rig(tmp_path: Path) -> tuple[Rig, ReferenceStore]:
    rig = Rig(tmp_path)
    store = ReferenceStore(rig.log.engine)
    services = rig.lane.services
    services.policy = PolicyFromReference(PackPolicy.from_config(rig.lane.config), store)
    services.reference_age_h = partial(reference_age_h, store)
    services.document_facts = lambda files: CITIZEN
    return rig, store




def test_offline_before_the_first_sync_refers_a_citizen(tmp_path: Path) -> None:
    rig, store = real_policy_rig(tmp_path)
    run_traveller(rig)
    assert rig.lane.state is LaneState.REFERRED and rig.gate.opened_count == 0
    assert rig.log.events()[0].reasons == ["reference_data_stale"]
    trace = rig.snapshots[-1].officer["trace"]
    assert any("never been confirmed" in line for line in trace)

    # The first heartbeat from the border database: the same traveller is admitted.
    rig.reader.present = False
    rig.lane.post(DocumentRemoved())
    rig.lane.run_pending()
    rig.clock.advance(rig.lane.config.timeouts.result_display_s + 0.1)  # referral read
    rig.lane.run_pending()
    store.put(*SYNC_HEARTBEAT, rig.clock.now().isoformat().encode(), "border:test")
    run_traveller(rig)
    assert rig.lane.state is LaneState.ADMITTED and rig.gate.opened_count == 1
    rig.lane.post(GatePassed())
    rig.lane.run_pending()


def test_case_with_null_age_is_stale_and_without_reference_data_is_not_checked() -> None:
    case = {
        "now": "2026-03-01T10:30:00+08:00", "port": "CSX", "direction": "entry",
        "document": {"document_code": "P", "issuing_state": "CHN", "nationality": "CHN",
                     "document_number": "E1", "birth_date": "1980-01-01", "sex": "F",
                     "expiry_date": "2031-01-01"},
        "checks": {"document_authentic": True, "chip_genuine": True, "face_match": True,
                   "liveness": True, "watchlist_hit": False},
        "journey": None, "visa": None,
    }  # fmt: skip
    packs = shipped_packs()
    assert evaluate({**case, "reference_data": {"age_hours": None}}, packs).reasons == (
        "reference_data_stale",
    )
    assert evaluate(case, packs).decision == "admit"
