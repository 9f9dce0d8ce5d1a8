"""Issue 20 item 5: the master-list trust rules, stated and configurable (docs/trust.md,
"Master-list trust rules"): list-to-list vouching, and a grace after the signer expires
for a list signed while its signer was valid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from devices.simulated import pki
from kiosk.trust import CscaStore, MasterListError, verify_master_list
from kiosk.trust.certificates import parse_certificate
from kiosk.trust.masterlist import ListRules
from tests.trust.conftest import NOW

MakePki = Callable[..., pki.TestPki]


def _state(make_pki: MakePki, country: str) -> tuple[pki.TestPki, object, pki.PrivateKey]:
    p = make_pki("rsa2048", country)
    key = pki.cached_key("rsa2048", f"{country}/mls")
    signer = pki.make_master_list_signer(p.csca_cert, p.csca_key, key.public_key(), now=NOW)
    return p, signer, key


def test_grace_after_the_signer_expires(make_pki: MakePki) -> None:
    state, signer, key = _state(make_pki, "MLA")
    anchor = [parse_certificate(state.csca_der())]
    raw = pki.make_master_list([state.csca_cert], signer, key, signing_time=NOW)  # type: ignore[arg-type]
    expiry = verify_master_list(raw, anchor, NOW).signer.not_after
    late = expiry + timedelta(days=10)
    with pytest.raises(MasterListError) as err:  # the default: no grace
        verify_master_list(raw, anchor, late)
    assert err.value.code == "expired_master_list_signer"
    month = ListRules(signer_grace=timedelta(days=30))
    assert verify_master_list(raw, anchor, late, rules=month).signing_time == NOW
    with pytest.raises(MasterListError) as err:
        verify_master_list(raw, anchor, expiry + timedelta(days=40), rules=month)
    assert err.value.code == "expired_master_list_signer"


def test_no_grace_without_a_signing_time_or_for_a_list_signed_after_expiry(
    make_pki: MakePki,
) -> None:
    state, signer, key = _state(make_pki, "MLA")
    anchor = [parse_certificate(state.csca_der())]
    month = ListRules(signer_grace=timedelta(days=30))
    undated = pki.make_master_list([state.csca_cert], signer, key)  # type: ignore[arg-type]
    expiry = verify_master_list(undated, anchor, NOW).signer.not_after
    with pytest.raises(MasterListError):
        verify_master_list(undated, anchor, expiry + timedelta(days=10), rules=month)
    backdated = pki.make_master_list(
        [state.csca_cert], signer, key, signing_time=expiry + timedelta(days=5)  # type: ignore[arg-type]
    )
    with pytest.raises(MasterListError) as err:
        verify_master_list(backdated, anchor, expiry + timedelta(days=10), rules=month)
    assert "outside it" in str(err.value)


def test_a_vouched_csca_vouches_for_another_list_only_when_allowed(make_pki: MakePki) -> None:
    """A's list (A provisioned) vouches for B's CSCA; B's own list is signed under it."""
    a, a_signer, a_key = _state(make_pki, "MLA")
    b, b_signer, b_key = _state(make_pki, "MLB")
    c = make_pki("rsa2048", "MLC")
    list_a = pki.make_master_list([a.csca_cert, b.csca_cert], a_signer, a_key, signing_time=NOW)  # type: ignore[arg-type]
    list_b = pki.make_master_list([b.csca_cert, c.csca_cert], b_signer, b_key, signing_time=NOW)  # type: ignore[arg-type]
    store = CscaStore.from_certificates([a.csca_der()])
    store.add_master_list(list_a, "a", at=NOW)
    with pytest.raises(MasterListError) as err:
        store.add_master_list(list_b, "b", at=NOW)
    assert err.value.code == "unknown_master_list_signer"
    ml = store.add_master_list(list_b, "b", at=NOW, rules=ListRules(vouched_may_sign_lists=True))
    assert ml.signer_csca.subject.startswith("CN=CSCA MLB")
    assert c.csca_cert.subject.rfc4514_string().split(",")[0] in {
        s.cert.subject.split(",")[0] for s in store.certificates()
    }
