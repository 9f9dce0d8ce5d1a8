"""The lane's services follow reference data as it arrives from the border database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.pki import make_test_pki
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.lane.reference_data import (
    PolicyFromReference,
    TrustFromReference,
    reference_age_h,
)
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore


def store(tmp_path: Path) -> ReferenceStore:
    return ReferenceStore(open_local(f"sqlite:///{tmp_path}/l.sqlite"))


def test_new_csca_applies_to_the_next_traveller(tmp_path: Path) -> None:
    ref = store(tmp_path)
    pki = make_test_pki("CHN")
    passport = make_document(DocumentSpec(issuing_state="CHN", nationality="CHN"), pki=pki)
    trust = TrustFromReference(ref)
    now = datetime.now(UTC)
    before = trust.authenticate(passport.files, now)
    assert (before.valid, before.reason) == (False, "unknown_csca")
    # A bare CSCA synced from the border vouches for nothing (issue 10 item 5) ...
    ref.put("csca", sha256(pki.csca_der()).hexdigest(), pki.csca_der(), "border:2026-11-26")
    synced = trust.authenticate(passport.files, now)
    assert (synced.valid, synced.reason) == (False, "unknown_csca")
    # ... a locally provisioned anchor applies to the next traveller.
    ref.put("csca_anchor", "CN-1", pki.csca_der(), "egate trust import; bootstrap anchor")
    after = trust.authenticate(passport.files, now)
    assert after.valid and after.reason is None


def test_a_broken_synced_pack_is_rejected_and_shipped_packs_stay(tmp_path: Path) -> None:
    ref = store(tmp_path)
    policy = PolicyFromReference(PackPolicy(), ref)
    case = {
        "now": "2026-03-01T10:30:00+08:00", "port": "CSX", "direction": "entry",
        "document": {"document_code": "P", "issuing_state": "USA", "nationality": "USA",
                     "document_number": "X1234567", "birth_date": "1990-01-31", "sex": "F",
                     "expiry_date": "2031-01-01"},
        "checks": {"document_authentic": True, "chip_genuine": True, "face_match": True,
                   "liveness": True, "watchlist_hit": False},
        "journey": {"arrived_from": "JPN",
                    "onward": {"destination": "KOR",
                               "departure_time": "2026-03-05T20:00:00+08:00",
                               "departure_port": "CSX", "confirmed": True}},
        "visa": None,
    }  # fmt: skip
    assert policy.evaluate(case).decision == "admit"
    ref.put("policy_pack", "broken", b"id = 'x'\nversion = \n", "border:test")
    decision = policy.evaluate(case)
    assert decision.decision == "admit" and decision.basis == "transit_240h"
    assert any("broken" in p or "reference:" in p for p in policy.policy.problems)


def test_reference_age_counts_from_the_last_sync_heartbeat(tmp_path: Path) -> None:
    ref = store(tmp_path)
    now = datetime.now(UTC)
    assert reference_age_h(ref, now) is None
    ref.put("border_sync", "last_pull", now.isoformat().encode(), "border:now")
    assert 2.9 < reference_age_h(ref, now + timedelta(hours=3)) < 3.1  # type: ignore[operator]


def test_a_deviation_list_imported_on_a_running_kiosk_applies_to_the_next_traveller(
    tmp_path: Path,
) -> None:
    """TRUST_KINDS once left deviation lists out: one imported while the kiosk ran
    changed nothing until something else in the trust data changed."""
    from tests.trust.conftest import NOW
    from tests.trust.test_deviation_apply import DG_HASH_WRONG, _document, _list

    ref = store(tmp_path)
    p = make_test_pki("UTO", now=NOW)
    ref.put("csca_anchor", "UTO-1", p.csca_der(), "egate trust import; bootstrap anchor")
    trust = TrustFromReference(ref, deviation_policy="accept_listed")
    files = _document(p, wrong_dg=11)
    before = trust.authenticate(files, NOW)
    assert (before.valid, before.reason) == (False, "hash_mismatch_dg11")
    assert "deviation" not in before.detail
    listed = _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG)
    ref.put("deviation_list", sha256(listed).hexdigest(), listed, "egate trust import")
    after = trust.authenticate(files, NOW)
    assert after.valid, after.detail
    assert after.detail["deviation"]["action"] == "accept_with_note"
