"""ICAO CSCA master lists: built and signed here, verified, imported into a store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.trust import CscaStore, MasterListError, PassiveAuthenticator, verify_master_list
from kiosk.trust.certificates import parse_certificate
from tests.trust.conftest import NOW, document

MakePki = Callable[..., pki.TestPki]


def _issuing_state(make_pki: MakePki) -> tuple[pki.TestPki, object, pki.PrivateKey]:
    """The state that publishes the list: its CSCA and a master list signer."""
    p = make_pki("rsa2048", "MLA")
    key = pki.cached_key("rsa2048", "MLA/mls")
    signer = pki.make_master_list_signer(p.csca_cert, p.csca_key, key.public_key(), now=NOW)
    return p, signer, key


def _master_list(make_pki: MakePki, members: list[pki.TestPki], **kw: object) -> bytes:
    state, signer, key = _issuing_state(make_pki)
    certs = [state.csca_cert, *(m.csca_cert for m in members)]
    return pki.make_master_list(certs, signer, key, signing_time=NOW, **kw)  # type: ignore[arg-type]


def test_master_list_verifies_and_reports_its_signer(make_pki: MakePki) -> None:
    members = [make_pki("ecdsa-brainpoolP256r1", "UTO"), make_pki("rsa-pss", "ZZB")]
    raw = _master_list(make_pki, members)
    ml = verify_master_list(raw, [], NOW, require_known_signer=False)  # the bootstrap
    assert len(ml.certificates) == 3
    assert ml.signer.subject.startswith("CN=MLS MLA")
    assert ml.signer_anchor == "list"
    assert ml.signer_csca.subject.startswith("CN=CSCA MLA")
    assert ml.signing_time == NOW
    described = ml.describe()
    assert described["signer"]["country"] == "ML"
    assert described["certificates"] == 3


def test_master_list_anchors_a_document(make_pki: MakePki) -> None:
    member = make_pki("ecdsa-brainpoolP256r1", "UTO")
    state, _, _ = _issuing_state(make_pki)
    store = CscaStore.from_certificates([state.csca_der()])  # the provisioned anchor
    store.add_master_list(_master_list(make_pki, [member]), "test list", at=NOW)
    result = PassiveAuthenticator(store).authenticate(document(member), NOW)
    assert result.valid, result.reason
    assert "master list signed by CN=MLS MLA" in result.detail["csca"]["provenance"]


def test_known_signer_required(make_pki: MakePki) -> None:
    raw = _master_list(make_pki, [])
    with pytest.raises(MasterListError) as err:
        verify_master_list(raw, [], NOW)  # the default (issue 10 item 5)
    assert err.value.code == "unknown_master_list_signer"
    state, _, _ = _issuing_state(make_pki)
    trusted = [parse_certificate(state.csca_der())]
    ml = verify_master_list(raw, trusted, NOW, require_known_signer=True)
    assert ml.signer_anchor == "store"


def test_tampered_master_list_is_rejected(make_pki: MakePki) -> None:
    raw = bytearray(_master_list(make_pki, [make_pki("rsa2048", "UTO")]))
    # flip a byte inside the first listed certificate's signature (the content)
    state, _, _ = _issuing_state(make_pki)
    at = bytes(raw).find(state.csca_der()[-20:])
    raw[at] ^= 0x01
    with pytest.raises(MasterListError) as err:
        verify_master_list(bytes(raw), [], NOW)
    assert err.value.code == "message_digest_mismatch"


def test_list_signed_by_a_stranger(make_pki: MakePki) -> None:
    state, signer, _ = _issuing_state(make_pki)
    other = pki.cached_key("rsa2048", "stranger")
    raw = pki.make_master_list([state.csca_cert], signer, other)  # type: ignore[arg-type]
    with pytest.raises(MasterListError) as err:
        verify_master_list(raw, [], NOW)
    assert err.value.code == "bad_master_list_signature"


def test_signer_without_csca_is_unknown(make_pki: MakePki) -> None:
    _state, signer, key = _issuing_state(make_pki)
    lone = make_pki("rsa2048", "UTO")
    raw = pki.make_master_list([lone.csca_cert], signer, key)  # type: ignore[arg-type]
    with pytest.raises(MasterListError) as err:
        verify_master_list(raw, [], NOW)
    assert err.value.code == "unknown_master_list_signer"


def test_expired_signer(make_pki: MakePki) -> None:
    raw = _master_list(make_pki, [])
    with pytest.raises(MasterListError) as err:
        verify_master_list(raw, [], NOW + timedelta(days=365 * 3), require_known_signer=False)
    assert err.value.code == "expired_master_list_signer"
    assert verify_master_list(raw, [], NOW + timedelta(days=365 * 3), check_signer_validity=False,
                              require_known_signer=False)


def test_non_csca_entries_are_skipped(make_pki: MakePki) -> None:
    state, signer, key = _issuing_state(make_pki)
    ds = make_pki("rsa2048", "UTO").ds_cert
    raw = pki.make_master_list([state.csca_cert, ds], signer, key)  # type: ignore[arg-type]
    ml = verify_master_list(raw, [parse_certificate(state.csca_der())], NOW)
    assert len(ml.certificates) == 1
    assert len(ml.skipped) == 1 and "not a CSCA" in ml.skipped[0]


def test_a_sod_is_not_a_master_list(rsa_pki: pki.TestPki) -> None:
    from devices.icao9303 import sod

    raw = document(rsa_pki)["EF.SOD"]
    inner = sod.unwrap(raw)
    with pytest.raises(MasterListError) as err:
        verify_master_list(inner, [], NOW)
    assert err.value.code == "malformed_master_list"
    pem = rsa_pki.csca_cert.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(MasterListError):
        verify_master_list(pem, [], NOW)
