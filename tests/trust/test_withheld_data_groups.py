"""Issue 10 item 1: a cloned chip that withholds DG14 and DG15 (deleted from the chip
or only left out of the unsigned EF.COM) is never admitted. EF.SOD decides what must
be read; a chip whose EF.SOD lists DG14 or DG15 must pass chip or active
authentication. Reader, `egate passport verify` and the lane, all on the in-process
chip emulator."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from devices.icao9303 import sod
from devices.icao9303.lds.ef_com import EfCom
from devices.icao9303.reader import ChipReadReport, read_chip
from devices.simulated.chip_reader import SimulatedDocumentReader
from devices.simulated.emulator import ChipEmulator
from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.gate import SimulatedGate
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport
from kiosk.cli.main import main
from kiosk.clock import FakeClock
from kiosk.config import parse_config
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.lane.events import Start
from kiosk.lane.facts import facts_from_dg1
from kiosk.lane.machine import Lane, LaneDevices, LaneServices
from kiosk.lane.states import LaneState
from kiosk.store.database import open_local
from kiosk.store.event_log import EventLog
from kiosk.trust import CscaStore, PassiveAuthenticator
from tests.workflow.fakes import FakeCamera, FakeFace

Withheld = Literal["genuine", "naive_clone", "deleted", "left_out_of_com"]
_CACHE: dict[str, VirtualPassport] = {}
SPEC = DocumentSpec(issuing_state="CHN", nationality="CHN", surname="ZHANG", given_names="LI",
                    document_number="E12345678", birth_date=date(1985, 5, 17))


def document(kind: Withheld) -> VirtualPassport:
    """`egate passport make --defect cloned_chip`, then DG14/DG15 deleted from the chip
    or only from EF.COM's tag list (EF.COM is unsigned; EF.SOD still lists both)."""
    if kind not in _CACHE:
        if kind == "genuine":
            _CACHE[kind] = make_document(SPEC)
        else:
            clone = make_document(SPEC, defects=("cloned_chip",))
            files = dict(clone.files)
            if kind != "naive_clone":
                if kind == "deleted":
                    del files["DG14"], files["DG15"]
                kept = sorted(int(n[2:]) for n in files
                              if n.startswith("DG") and n not in ("DG14", "DG15"))
                files["EF.COM"] = EfCom.build(kept, lds_version="0108").encode()
            _CACHE[kind] = dataclasses.replace(clone, files=files)
    return _CACHE[kind]


def read(vp: VirtualPassport) -> ChipReadReport:
    return read_chip(InProcessTransport(ChipEmulator.from_passport(vp)), vp.mrz_key())


def verdict(vp: VirtualPassport, files: dict[str, bytes]) -> dict[str, Any]:
    store = CscaStore.from_certificates([vp.csca_cert_der])
    return PassiveAuthenticator(store).verify(files, datetime.now(UTC)).to_dict()


@pytest.mark.parametrize("kind", ["deleted", "left_out_of_com"])
def test_reader_reads_what_the_sod_lists(kind: Withheld) -> None:
    vp = document(kind)
    assert {14, 15} <= set(sod.parse_sod(vp.files["EF.SOD"]).dg_hashes)
    result = read(vp)
    if kind == "left_out_of_com":
        # Read although EF.COM does not list them, so CA and AA run (and fail).
        assert {"DG14", "DG15"} <= set(result.files)
        assert (result.chip_authentication, result.active_authentication) == ("failed", "failed")
        assert any("EF.SOD lists DG15" in n for n in result.notes), result.notes
    else:
        assert not {"DG14", "DG15"} & set(result.files)


def test_withheld_data_groups_fail_passive_authentication() -> None:
    vp = document("deleted")
    result = verdict(vp, dict(read(vp).files))
    assert result["verdict"] == "invalid"
    assert result["reason"] == "missing_dg14"
    assert result["reasons"] == ["missing_dg14", "missing_dg15"]
    assert result["checks"]["dg_hashes"]["DG14"] == "missing"
    # DG3/DG4 (extended access control) listed but unread stay a note, not a failure.
    genuine = document("genuine")
    assert verdict(genuine, dict(read(genuine).files))["verdict"] == "valid"


def test_passport_verify_refuses_the_withholding_clone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc"
    document("deleted").save(doc)
    (tmp_path / "csca.pem").write_bytes((doc / "csca.pem").read_bytes())
    (doc / "csca.pem").unlink()
    status = main(["passport", "verify", "--dir", str(doc), "--no-store",
                   "--trust", str(tmp_path / "csca.pem"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert (status, out["verdict"], out["reason"]) == (1, "invalid", "missing_dg14")
    assert out["checks"]["dg_hashes"]["DG15"] == "missing"


def lane_outcome(tmp_path: Path, vp: VirtualPassport) -> tuple[str, dict[str, Any]]:
    """One traveller through the real lane: emulated chip and reader protocol, real
    passive authentication and policy packs; only the face and the clock are fakes."""
    clock = FakeClock(datetime.now(UTC))  # the factory signs documents as of now
    cfg = parse_config({"storage": {"local_url": f"sqlite:///{tmp_path}/local.sqlite"}})
    log = EventLog(open_local(cfg.storage.local_url))
    reader = SimulatedDocumentReader()

    class Mrz:
        def read_mrz(self) -> Any:
            return vp.mrz_key()

    lane = Lane(
        cfg,
        LaneDevices(reader, Mrz(), FakeCamera(), SimulatedGate()),
        LaneServices(
            authenticator=PassiveAuthenticator(CscaStore.from_certificates([vp.csca_cert_der])),
            face=FakeFace(clock),
            policy=PackPolicy.from_config(cfg),
            document_facts=facts_from_dg1,
            reference_face=lambda files: np.zeros((4, 4, 3), np.uint8),
            journey=lambda facts, now: None,
            watchlist=lambda facts: False,
            reference_age_h=lambda now: 0.1,
        ),
        log,
        clock,
    )
    lane.post(Start("en"))
    lane.run_pending()
    reader.place(vp)
    lane.run_pending()
    if lane.state is LaneState.RETURNING_DOCUMENT:  # "take your passport", then the gate
        reader.remove()
        lane.run_pending()
    [event] = log.events()
    return event.outcome, dict(event.checks)


@pytest.mark.parametrize(
    ("kind", "outcome", "genuine", "why"),
    [
        ("genuine", "admitted", True, None),  # the rig admits: the refusals below are real
        ("naive_clone", "referred", False, "chip_authentication_failed"),
        ("deleted", "referred", False, "anti_cloning_not_performed"),
        ("left_out_of_com", "referred", False, "chip_authentication_failed"),
    ],
)
def test_lane_refers_a_clone_that_withholds_dg14_and_dg15(
    tmp_path: Path, kind: Withheld, outcome: str, genuine: bool, why: str | None
) -> None:
    got, checks = lane_outcome(tmp_path, document(kind))
    assert got == outcome, checks
    assert checks["chip_genuine"] is genuine
    assert checks["chip_genuine_reason"] == why
    if kind == "deleted":
        assert checks["document_authentic"] is False
        assert checks["authenticity_reason"] == "missing_dg14"
