"""Issue 10 item 5: one rule for every route into the trust store. A self-signed
CSCA is an anchor only when provisioned locally (the logged --bootstrap-anchor) or
vouched for by a master list whose signer chains to a provisioned anchor: an ICAO
list or an administrator's endorsement. Trust item keys are the payload digests.
Routes: `egate trust import`, border publish + sync (SQLite stand-in for the border
database), administrator endorsement."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from devices.simulated import pki
from kiosk.border.database import open_border
from kiosk.border.errors import PublishError
from kiosk.border.models import BorderReferenceItem
from kiosk.border.publish import prepare, publish
from kiosk.border.sync import BorderSync
from kiosk.cli.main import main
from kiosk.lane.reference_data import TrustFromReference
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from kiosk.trust.store import CscaStore

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
DG1, DG2 = b"\x61\x05hello", b"\x75\x03abc"


def files(p: pki.TestPki) -> dict[str, bytes]:
    raw = pki.build_sod({1: DG1, 2: DG2}, p.ds_cert, p.ds_key, lds_version=(1, 8))
    return {"EF.SOD": raw, "DG1": DG1, "DG2": DG2}


def state(country: str) -> tuple[pki.TestPki, Any, pki.PrivateKey]:
    """A state (or the border agency) with its CSCA and a master list signer."""
    p = pki.make_test_pki(country)
    key = pki.cached_key("rsa2048", f"{country}/mls")
    return p, pki.make_master_list_signer(p.csca_cert, p.csca_key, key.public_key()), key


def master_list(publisher: str, *members: pki.TestPki) -> bytes:
    p, signer, key = state(publisher)
    return pki.make_master_list([p.csca_cert, *(m.csca_cert for m in members)], signer, key)


def cli(argv: list[str], capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, Any]:
    try:
        status = main([*argv, "--config", str(config), "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "egate.toml"
    path.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n')
    return path


# --- egate trust import -------------------------------------------------------------


def test_a_self_signed_master_list_needs_the_logged_bootstrap(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    member = pki.make_test_pki("UTO")
    ml = tmp_path / "list.ml"
    ml.write_bytes(master_list("MLA", member))
    status, out = cli(["trust", "import", str(ml)], capsys, config)
    assert (status, out["error"]["code"]) == (65, "unknown_master_list_signer")  # was 0
    assert cli(["trust", "list"], capsys, config)[1]["entries"] == []

    with caplog.at_level(logging.WARNING, logger="kiosk.trust.importer"):
        status, out = cli(["trust", "import", str(ml), "--bootstrap-anchor"], capsys, config)
    assert status == 0, out
    [anchor] = out["bootstrap_anchors"]
    assert anchor["subject"].startswith("CN=CSCA MLA")
    assert any("bootstrap trust anchor provisioned" in r.getMessage() for r in caplog.records)
    listing = cli(["trust", "list"], capsys, config)[1]
    anchors = {e["subject"].split(",")[0]: e["anchor"] for e in listing["entries"]}
    assert anchors == {"CN=CSCA MLA 01": "provisioned", "CN=CSCA UTO 01": "vouched"}, listing
    assert listing["load_errors"] == []


def test_a_bare_self_signed_csca_is_refused_unless_vouched_or_provisioned(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    member = pki.make_test_pki("UTO")
    csca = tmp_path / "uto.pem"
    csca.write_bytes(member.csca_pem())
    status, out = cli(["trust", "import", str(csca)], capsys, config)
    assert (status, out["error"]["code"]) == (65, "unvouched_csca")  # was 0
    # Vouched for by a list whose signer is provisioned, the same file is accepted.
    mla = tmp_path / "mla.pem"
    mla.write_bytes(state("MLA")[0].csca_pem())
    assert cli(["trust", "import", str(mla), "--bootstrap-anchor"], capsys, config)[0] == 0
    ml = tmp_path / "list.ml"
    ml.write_bytes(master_list("MLA", member))
    assert cli(["trust", "import", str(ml)], capsys, config)[0] == 0
    status, out = cli(["trust", "import", str(csca)], capsys, config)
    assert (status, out["bootstrap_anchors"]) == (0, [])


# --- the border route -----------------------------------------------------------------


class Kiosk:
    """A kiosk's local database, provisioned with one anchor, and the border stand-in."""

    def __init__(self, tmp_path: Path, anchor: pki.TestPki | None) -> None:
        self.local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
        self.border = open_border(f"sqlite:///{tmp_path}/border.sqlite")
        self.ref = ReferenceStore(self.local)
        if anchor is not None:
            der = anchor.csca_der()
            self.ref.put("csca_anchor", hashlib.sha256(der).hexdigest(), der,
                         "egate trust import; bootstrap anchor")
        self.sync = BorderSync(self.local, self.border, "K1")
        self.trust = TrustFromReference(self.ref)

    def publish(self, kind: str, payload: bytes) -> None:
        publish(self.border, prepare(kind, payload, None), "admin")

    def insert(self, kind: str, key: str, payload: bytes) -> None:
        """A row written straight into the border database, as a hostile insider could."""
        with Session(self.border) as s, s.begin():
            s.add(BorderReferenceItem(kind=kind, key=key, payload=payload,
                                      sha256=hashlib.sha256(payload).hexdigest(),
                                      provenance="insider",
                                      published_at=datetime.now(UTC) + timedelta(hours=1)))

    def verdict(self, p: pki.TestPki) -> tuple[bool, str | None]:
        result = self.trust.authenticate(files(p), datetime.now(UTC))
        return result.valid, result.reason

    def load_errors(self) -> list[str]:
        return CscaStore.from_reference_store(self.ref).load_errors


def test_a_csca_published_as_kind_csca_is_not_an_anchor_on_its_own(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, state("MLA")[0])
    member = pki.make_test_pki("UTO")
    kiosk.publish("csca", member.csca_der())
    assert kiosk.sync.pull().error is None
    assert kiosk.verdict(member) == (False, "unknown_csca")  # was (True, None)
    assert any("no provisioned anchor's master list vouches" in e for e in kiosk.load_errors())
    # A master list signed under the provisioned anchor vouches for it.
    kiosk.publish("masterlist", master_list("MLA", member))
    assert kiosk.sync.pull().error is None
    assert kiosk.verdict(member) == (True, None)
    assert kiosk.load_errors() == []


def test_an_administrator_endorsement_makes_an_anchor(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agency, admin_cert, admin_key = state("ADM")  # the border agency's own root
    kiosk = Kiosk(tmp_path, agency)
    member = pki.make_test_pki("UTO")
    (tmp_path / "uto.pem").write_bytes(member.csca_pem())
    (tmp_path / "admin.pem").write_bytes(admin_cert.public_bytes(PEM))
    (tmp_path / "admin.key").write_bytes(admin_key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    out_file = tmp_path / "endorsed.ml"
    status, out = cli(["trust", "endorse", str(tmp_path / "uto.pem"),
                       "--signer-cert", str(tmp_path / "admin.pem"),
                       "--signer-key", str(tmp_path / "admin.key"), "--out", str(out_file)],
                      capsys, config)
    assert status == 0, out
    kiosk.publish("masterlist", out_file.read_bytes())
    assert kiosk.sync.pull().error is None
    assert kiosk.verdict(member) == (True, None)


def test_an_endorsement_under_an_unprovisioned_root_vouches_for_nothing(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, state("MLA")[0])
    member = pki.make_test_pki("UTO")
    kiosk.publish("masterlist", master_list("ZZA", member))  # self-consistent only
    assert kiosk.sync.pull().error is None
    assert kiosk.verdict(member) == (False, "unknown_csca")
    assert any("unknown_master_list_signer" in e or "not a provisioned" in e
               for e in kiosk.load_errors())


def test_the_border_cannot_provision_an_anchor(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path, None)
    member = pki.make_test_pki("UTO")
    der = member.csca_der()
    kiosk.insert("csca_anchor", hashlib.sha256(der).hexdigest(), der)
    result = kiosk.sync.pull()
    assert result.error is not None and "failed" in result.error  # no heartbeat either
    assert kiosk.ref.items("csca_anchor") == []
    assert kiosk.verdict(member) == (False, "unknown_csca")


def test_trust_item_keys_are_the_payload_digest(tmp_path: Path) -> None:
    member = pki.make_test_pki("UTO")
    with pytest.raises(PublishError, match="sha256 of its payload"):
        prepare("crl", member.crl(), "UTO-latest")
    # An operator's import revokes the DS. A border row under the same key with a
    # newer, empty CRL would replace it (the border wins once it is newer) and hide the
    # revocation; keys bound to digests make it a different item, refused on pull.
    kiosk = Kiosk(tmp_path, member)
    revoking = member.crl([member.ds_cert.serial_number])
    local_key = hashlib.sha256(revoking).hexdigest()
    kiosk.ref.put("crl", local_key, revoking, "egate trust import uto.crl")
    assert kiosk.verdict(member) == (False, "revoked")
    empty = pki.make_crl(member.csca_cert, member.csca_key, [], number=99).public_bytes(DER)
    kiosk.insert("crl", local_key, empty)
    assert kiosk.sync.pull().error is not None
    assert kiosk.verdict(member) == (False, "revoked")  # was (True, None)


def test_endorse_refuses_a_key_that_is_not_the_signers(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _agency, admin_cert, _key = state("ADM")
    (tmp_path / "uto.pem").write_bytes(pki.make_test_pki("UTO").csca_pem())
    (tmp_path / "admin.pem").write_bytes(admin_cert.public_bytes(PEM))
    other = pki.cached_key("rsa2048", "someone-else")
    (tmp_path / "other.key").write_bytes(other.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    status, out = cli(["trust", "endorse", str(tmp_path / "uto.pem"),
                       "--signer-cert", str(tmp_path / "admin.pem"),
                       "--signer-key", str(tmp_path / "other.key"),
                       "--out", str(tmp_path / "x.ml")], capsys, config)
    assert (status, out["error"]["code"]) == (65, "invalid_trust_file")
    assert "does not belong" in out["error"]["message"]
    assert not (tmp_path / "x.ml").exists()


def test_the_kiosk_accepts_exactly_the_kinds_the_border_publishes() -> None:
    # A kind added to publishing must be added to what the pull accepts (and the other
    # way round): kiosk.trust.store.BORDER_KINDS is the pull's allowlist.
    from kiosk.border.publish import KINDS
    from kiosk.trust.store import BORDER_KINDS, KIND_ANCHOR

    assert set(KINDS) == BORDER_KINDS and KIND_ANCHOR not in BORDER_KINDS


def test_a_list_signed_after_the_anchors_key_rollover_is_vouched_through_the_link(
    tmp_path: Path,
) -> None:
    old, _, _ = state("MLA")
    new_key = pki.cached_key("rsa2048", "MLA/csca-new")
    new_root = pki.make_csca_certificate("MLA", new_key, serial=2, subject=old.csca_cert.subject)
    link = pki.make_link_certificate(old.csca_cert, old.csca_key, new_root)
    signer_key = pki.cached_key("rsa2048", "MLA/mls-new")
    signer = pki.make_master_list_signer(new_root, new_key, signer_key.public_key(), serial=0x3002)
    member = pki.make_test_pki("UTO")
    raw = pki.make_master_list([new_root, member.csca_cert], signer, signer_key)
    kiosk = Kiosk(tmp_path, old)
    kiosk.ref.put("masterlist", hashlib.sha256(raw).hexdigest(), raw, "egate trust import")
    assert kiosk.verdict(member) == (False, "unknown_csca")  # no path to the old key yet
    der = link.public_bytes(DER)
    kiosk.ref.put("csca", hashlib.sha256(der).hexdigest(), der, "egate trust import link")
    assert kiosk.verdict(member) == (True, None)
    assert kiosk.load_errors() == []
