"""Regressions from the security review: what arrives by sync, or merely carries a
CSCA's name, must not become trusted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.border.database import open_border
from kiosk.border.publish import prepare, publish, withdraw
from kiosk.border.sync import BorderSync
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.lane.reference_data import PolicyFromReference, TrustFromReference
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from kiosk.trust.passive import PassiveAuthenticator
from kiosk.trust.store import CscaStore

DER = serialization.Encoding.DER
DG1, DG2 = b"\x61\x05hello", b"\x75\x03abc"


def test_synced_master_list_vouching_for_itself_is_not_trusted(tmp_path: Path) -> None:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    border = open_border(f"sqlite:///{tmp_path}/border.sqlite")
    ref = ReferenceStore(local)
    genuine = pki.make_test_pki("UTO")
    ref.put("csca_anchor", "operator-UTO", genuine.csca_der(), "operator import")
    # A forged CSCA with the genuine name, in a list signed under the forged CSCA only.
    forged = pki.make_test_pki("UTO", cache_keys=False)
    signer_key = pki.generate_key("rsa2048")
    signer = pki.make_master_list_signer(forged.csca_cert, forged.csca_key,
                                         signer_key.public_key())
    ml = pki.make_master_list([forged.csca_cert], signer, signer_key,
                              extra_certificates=[forged.csca_cert])
    publish(border, prepare("masterlist", ml, None), "publisher")
    assert BorderSync(local, border, "K1").pull().error is None
    raw = pki.build_sod({1: DG1, 2: DG2}, forged.ds_cert, forged.ds_key, lds_version=(1, 8))
    result = TrustFromReference(ref).authenticate(
        {"EF.SOD": raw, "DG1": DG1, "DG2": DG2}, datetime.now(UTC)
    )
    assert not result.valid


def test_unanchored_link_certificate_cannot_sign_away_a_revocation() -> None:
    now = datetime.now(UTC)
    g = pki.make_test_pki("UTO")
    revoking = g.crl([g.ds_cert.serial_number])
    a1 = pki.make_test_pki("UTO", cache_keys=False, csca_serial=1)  # trusted by nobody
    a2 = pki.make_test_pki("UTO", cache_keys=False, csca_serial=1)
    link = pki.make_link_certificate(a1.csca_cert, a1.csca_key, a2.csca_cert)
    empty = pki.make_crl(a2.csca_cert, a2.csca_key, [], number=99,
                         this_update=now).public_bytes(DER)
    store = CscaStore.from_certificates([g.csca_der(), link.public_bytes(DER)],
                                        [revoking, empty])
    raw = pki.build_sod({1: DG1, 2: DG2}, g.ds_cert, g.ds_key, lds_version=(1, 8))
    verdict = PassiveAuthenticator(store).verify(
        {"EF.SOD": raw, "DG1": DG1, "DG2": DG2}, now + timedelta(seconds=5)
    )
    assert (verdict.valid, verdict.reason) == (False, "revoked")


def test_pack_withdrawn_at_the_border_stops_applying(tmp_path: Path) -> None:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    border = open_border(f"sqlite:///{tmp_path}/border.sqlite")
    policy = PolicyFromReference(PackPolicy(), ReferenceStore(local))
    text = (Path(__file__).resolve().parents[2] / "policy" / "packs"
            / "cn-hunan-transit-240h.toml").read_text()
    text = text.replace('version = "1.0"', 'version = "9.9"')
    assert 'version = "9.9"' in text
    publish(border, prepare("policy_pack", text.encode(), "cn-hunan-transit-240h"), "pub")
    sync = BorderSync(local, border, "K1")
    sync.pull()
    policy._refresh()
    assert ("cn-hunan-transit-240h", "9.9") in {(p.id, p.version) for p in policy.policy.packs}
    assert withdraw(border, "policy_pack", "cn-hunan-transit-240h")
    sync.pull()
    policy._refresh()
    assert ("cn-hunan-transit-240h", "9.9") not in {
        (p.id, p.version) for p in policy.policy.packs
    }
