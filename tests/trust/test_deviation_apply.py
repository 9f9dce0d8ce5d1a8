"""Issue 20 item 4 (applied): a deviation a trusted deviation list gives for a
document - by document number, document type, issuance period or DS certificate
(issuer and serial, subject key identifier, certificate digest) - names the
deviation on the verdict; it refers by default, and under the policy
"accept_listed" only a fully explained failure of an acceptable type is accepted
with a note."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg12 import DataGroup12
from devices.icao9303.mrz import Mrz
from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator
from kiosk.trust.certificates import parse_certificate
from kiosk.trust.deviation_list import (
    ID_ICAO_DEVIATION_LIST,
    DeviationPolicy,
    DocumentFacts,
    _DeviationListAsn1,
    listed_deviation,
    verify_deviation_list,
)
from kiosk.trust.importer import import_file
from tests.ci import unavailable
from tests.conftest import SHARED
from tests.trust.conftest import NOW
from tests.trust.test_deviation_list import _dl_signer

MakePki = Callable[..., pki.TestPki]
SOD_SIGNATURE_WRONG = "2.23.136.1.1.7.2.3"
DG_HASH_WRONG = "2.23.136.1.1.7.2.2"
MRZ_WRONG_DATA = "2.23.136.1.1.7.3.1"
FIELD = SHARED / "reference" / "field-pki"


def _list(
    p: pki.TestPki, documents: dict[str, Any], *types: str, digest: str = "", group: int = 0
) -> bytes:
    descriptions = [
        {"deviation_type": t, **({"parameters": core.Integer(group, explicit=0)} if group else {})}
        for t in types
    ]
    content: dict[str, Any] = {
        "version": 0,
        "deviations": [{"documents": documents, "descriptions": descriptions}],
    }
    if digest:
        content["digest_alg"] = {"algorithm": digest}
    signer, key = _dl_signer(p)
    econtent = _DeviationListAsn1(content).dump()
    return pki.build_signed_data(ID_ICAO_DEVIATION_LIST, econtent, signer, key,  # type: ignore[arg-type]
                                 signing_time=NOW)  # fmt: skip


def _store(p: pki.TestPki, *lists: bytes) -> CscaStore:
    store = CscaStore.from_certificates([p.csca_der()])
    for raw in lists:
        import_file(store, raw, "dl", "test", at=NOW)
    return store


def _document(
    p: pki.TestPki,
    number: str = "L1234567",
    *,
    wrong_dg: int | None = None,
    forged: bool = False,
    code: str = "P",
    issued: date | None = None,
) -> dict[str, bytes]:
    born, expires = date(1974, 8, 12), date(2031, 4, 15)
    mrz = Mrz.create(document_code=code, issuing_state="UTO", surname="ERIKSSON",
                     given_names="ANNA", document_number=number, nationality="UTO",
                     birth_date=born, sex="F", expiry_date=expires)  # fmt: skip
    dgs = {1: DataGroup1.build(mrz).encode(), 2: b"\x75\x03xyz", 11: b"\x6b\x03abc"}
    if issued is not None:
        dgs[12] = DataGroup12.build(date_of_issue=issued).encode()
    key = pki.cached_key("rsa2048", "intruder") if forged else p.ds_key
    sod = pki.build_sod(dgs, p.ds_cert, key, signing_time=NOW)
    files = {"EF.SOD": sod, **{f"DG{n}": b for n, b in dgs.items()}}
    if wrong_dg == 1:  # a name has no check digit: DG1 still reads, its hash fails
        files["DG1"] = files["DG1"].replace(b"ANNA", b"ANNE")
    elif wrong_dg is not None:
        files[f"DG{wrong_dg}"] = files[f"DG{wrong_dg}"][:-1] + b"!"
    return files


def _verify(
    store: CscaStore, files: dict[str, bytes], policy: DeviationPolicy = "refer"
) -> dict[str, Any]:
    result = PassiveAuthenticator(store, deviation_policy=policy).authenticate(files, NOW)
    assert result.valid == (result.detail["verdict"] == "valid")
    return dict(result.detail)


def test_a_listed_wrong_hash_outside_the_decision_groups_refers_by_default(
    make_pki: MakePki,
) -> None:
    p = make_pki("rsa2048", "UTO")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG))
    out = _verify(store, _document(p, wrong_dg=11))
    assert (out["verdict"], out["reason"]) == ("invalid", "hash_mismatch_dg11")
    assert out["deviation"]["action"] == "refer"
    assert out["deviation"]["policy"] == "refer"
    assert out["deviation"]["explains"] == ["hash_mismatch_dg11"]
    assert out["deviation"]["matched_by"] == ["document_number"]


def test_accept_listed_accepts_it_with_a_note(make_pki: MakePki) -> None:
    p = make_pki("rsa2048", "UTO")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG))
    out = _verify(store, _document(p, wrong_dg=11), "accept_listed")
    assert (out["verdict"], out["reason"], out["reasons"]) == ("valid", None, [])
    assert out["deviation"]["action"] == "accept_with_note"
    assert out["deviation"]["types"] == ["LDS-DGHashWrong"]
    assert out["checks"]["dg_hashes"]["status"] == "failed"  # the failure stays on record
    assert any("accepted with a note" in n and "hash_mismatch_dg11" in n for n in out["notes"])
    # another document, or the same one with a wrong DG1, is not accepted
    assert "deviation" not in _verify(store, _document(p, "X9999999", wrong_dg=11),
                                      "accept_listed")  # fmt: skip
    dg1 = _verify(store, _document(p, wrong_dg=1), "accept_listed")
    assert (dg1["verdict"], dg1["deviation"]["action"]) == ("invalid", "refer")


def test_a_deviation_naming_a_group_explains_that_group_only(make_pki: MakePki) -> None:
    """LDS-DGHashWrong with parameters INTEGER 11 (the group, TR-03129)."""
    p = make_pki("rsa2048", "UTO")
    raw = _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG, group=11)
    store = _store(p, raw)
    assert store.deviation_lists[0].describe()["deviations"][0]["data_groups"] == [11]
    named = _verify(store, _document(p, wrong_dg=11), "accept_listed")
    assert (named["verdict"], named["deviation"]["action"]) == ("valid", "accept_with_note")
    files = _document(p, wrong_dg=11, issued=date(2026, 3, 1))
    files["DG12"] = files["DG12"][:-1] + b"9"  # DG12 wrong as well: not the named group
    other = _verify(store, files, "accept_listed")
    assert other["verdict"] == "invalid"
    assert other["deviation"]["explains"] == ["hash_mismatch_dg11"]
    assert other["deviation"]["unexplained"] == ["hash_mismatch_dg12"]
    assert other["deviation"]["action"] == "refer"


@pytest.mark.parametrize("group", [1, 2])
def test_a_wrong_hash_of_a_decision_group_is_referred_whatever_the_policy(
    make_pki: MakePki, group: int
) -> None:
    p = make_pki("rsa2048", "UTO")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG))
    out = _verify(store, _document(p, wrong_dg=group), "accept_listed")
    assert out["verdict"] == "invalid"
    assert out["deviation"]["explains"] == [f"hash_mismatch_dg{group}"]
    assert out["deviation"]["action"] == "refer"


def test_a_wrong_signature_is_never_accepted(make_pki: MakePki) -> None:
    """Anyone can write a listed number into a forged chip: LDS-SODSignatureWrong
    names the deviation but refers, under either policy."""
    p = make_pki("rsa2048", "UTO")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, SOD_SIGNATURE_WRONG))
    out = _verify(store, _document(p, forged=True), "accept_listed")
    assert (out["verdict"], out["reason"]) == ("invalid", "bad_signature")
    assert out["deviation"]["explains"] == ["bad_signature"]
    assert out["deviation"]["action"] == "refer"


def test_an_unexplained_failure_refers(make_pki: MakePki) -> None:
    """The deviation explains the DG11 hash, not a missing DG2."""
    p = make_pki("rsa2048", "UTO")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG))
    files = _document(p, wrong_dg=11)
    del files["DG2"]
    out = _verify(store, files, "accept_listed")
    assert out["verdict"] == "invalid"
    assert out["deviation"]["unexplained"] == ["missing_dg2"]
    assert out["deviation"]["action"] == "refer"


def test_a_type_that_explains_nothing_is_named_and_refers(make_pki: MakePki) -> None:
    p = make_pki("rsa2048", "UTO")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, MRZ_WRONG_DATA))
    out = _verify(store, _document(p, wrong_dg=11), "accept_listed")
    assert out["deviation"]["types"] == ["MRZ-WrongData"]
    assert out["deviation"]["explains"] == []
    assert out["deviation"]["action"] == "refer"


def _ds_identifiers(p: pki.TestPki) -> dict[str, Any]:
    ds = parse_certificate(p.ds_cert.public_bytes(serialization.Encoding.DER))
    assert ds.ski is not None
    issuer = asn1_x509.Name.load(p.ds_cert.issuer.public_bytes())
    return {
        "issuer_and_serial_number": asn1_cms.IssuerAndSerialNumber(
            {"issuer": issuer, "serial_number": ds.serial}
        ),
        "subject_key_identifier": ds.ski,
        "certificate_digest": hashlib.sha384(ds.der).digest(),
    }


@pytest.mark.parametrize(
    "identifier", ["issuer_and_serial_number", "subject_key_identifier", "certificate_digest"]
)
def test_deviations_by_ds_certificate(make_pki: MakePki, identifier: str) -> None:
    """Every document of the listed DS certificate, and none of another DS of the
    same CSCA (another serial, key and digest)."""
    p = make_pki("rsa2048", "UTO")
    other = make_pki("rsa2048", "UTO", ds_serial=0x2002)
    value = _ds_identifiers(p)[identifier]
    raw = _list(p, {"dsc_identifier": {identifier: value}}, DG_HASH_WRONG, digest="sha384")
    store = _store(p, raw)
    out = _verify(store, _document(p, "ANY00001", wrong_dg=11), "accept_listed")
    assert out["deviation"]["matched_by"] == ["ds_certificate"]
    assert (out["verdict"], out["deviation"]["action"]) == ("valid", "accept_with_note")
    unlisted = _verify(store, _document(other, "ANY00001", wrong_dg=11), "accept_listed")
    assert unlisted["document_signer"]["serial"] == "2002"
    assert unlisted["verdict"] == "invalid" and "deviation" not in unlisted


def test_deviations_by_issuance_period_and_document_type(make_pki: MakePki) -> None:
    """The period holds the DG12 date of issue, or EF.SOD's signingTime without DG12;
    every criterion a deviation gives must hold (here the type "P" as well)."""
    p = make_pki("rsa2048", "UTO")
    period = {"first_issuing_date": datetime(2026, 1, 1, tzinfo=UTC),
              "last_issuing_date": datetime(2026, 12, 31, tzinfo=UTC)}  # fmt: skip
    store = _store(p, _list(p, {"document_type": "P", "issuing_date": period}, DG_HASH_WRONG))
    by_signing_time = _verify(store, _document(p, wrong_dg=11), "accept_listed")
    assert by_signing_time["deviation"]["matched_by"] == ["document_type", "issuing_date"]
    assert by_signing_time["verdict"] == "valid"
    in_period = _verify(store, _document(p, wrong_dg=11, issued=date(2026, 3, 1)), "accept_listed")
    assert in_period["verdict"] == "valid"
    before = _verify(store, _document(p, wrong_dg=11, issued=date(2025, 12, 31)), "accept_listed")
    assert before["verdict"] == "invalid" and "deviation" not in before
    other_type = _verify(store, _document(p, wrong_dg=11, code="PD"), "accept_listed")
    assert other_type["verdict"] == "invalid" and "deviation" not in other_type


def test_an_unknown_policy_is_refused(make_pki: MakePki) -> None:
    p = make_pki("rsa2048", "UTO")
    with pytest.raises(ValueError, match="accept_listed"):
        PassiveAuthenticator(_store(p), deviation_policy="accept")  # type: ignore[arg-type]


def test_a_list_of_another_state_does_not_apply(make_pki: MakePki) -> None:
    p = make_pki("rsa2048", "UTO")
    q = make_pki("rsa2048", "ZZA")
    store = _store(p, _list(p, {"document_numbers": ["L1234567"]}, DG_HASH_WRONG))
    store.add_certificate(q.csca_der(), "test", provisioned=True)
    out = _verify(store, _document(q, wrong_dg=11), "accept_listed")
    assert out["verdict"] == "invalid" and "deviation" not in out


@pytest.mark.shared
def test_the_estonian_list_names_its_deviation_and_refers() -> None:
    """The Estonian list: LDS-SODSignatureWrong for 169 422 numbers. A listed EE
    document whose signature fails is referred with the deviation named, under
    either policy; an unlisted number gets nothing."""
    if not FIELD.is_dir():
        unavailable("../shared/reference/field-pki is absent")
    raw = (FIELD / "deviation_list.bin").read_bytes()
    dl = verify_deviation_list(raw, lambda signer, _when: signer, NOW)  # signature checked

    def facts(number: str) -> DocumentFacts:
        return DocumentFacts("EE", number, "ID", date(2016, 1, 1), None)

    for policy in ("refer", "accept_listed"):
        found = listed_deviation([dl], facts("BB0000001"), ["bad_signature"], policy)
        assert found is not None
        assert found["types"] == ["LDS-SODSignatureWrong"]
        assert found["explains"] == ["bad_signature"]
        assert (found["matched_by"], found["action"]) == (["document_number"], "refer")
    assert listed_deviation([dl], facts("ZZ9999999"), ["bad_signature"], "accept_listed") is None
    lv = DocumentFacts("LV", "BB0000001", "ID", None, None)
    assert listed_deviation([dl], lv, ["bad_signature"], "accept_listed") is None
