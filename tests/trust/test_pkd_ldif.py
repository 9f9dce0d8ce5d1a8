"""Issue 20 item 3: the ICAO PKD's LDIF files (RFC 2849) - DS certificates with CRLs,
and master lists - imported entry by entry, DS certificates used in chains and CRLs
applied; what an entry cannot give is reported, never fetched or dropped silently."""

from __future__ import annotations

import io
from collections.abc import Callable

import ldif
import pytest
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator
from kiosk.trust.errors import MalformedInputError
from kiosk.trust.importer import detect_kind, import_file
from tests.trust.conftest import DGS, NOW, files_of

MakePki = Callable[..., pki.TestPki]
BASE = "dc=data,dc=download,dc=pkd,dc=icao,dc=int"


def _ldif(entries: list[tuple[str, dict[str, list[bytes]]]]) -> bytes:
    out = io.BytesIO()
    writer = ldif.LDIFWriter(out, base64_attrs=[a for _, e in entries for a in e])
    for dn, entry in entries:
        writer.unparse(dn, entry)
    return out.getvalue()


def _der(obj: object) -> bytes:
    return bytes(obj.public_bytes(serialization.Encoding.DER))  # type: ignore[attr-defined]


def _pkd(make_pki: MakePki) -> tuple[bytes, pki.TestPki, CscaStore]:
    state = make_pki("rsa2048", "MLA")
    key = pki.cached_key("rsa2048", "MLA/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    member = make_pki("ecdsa-p256", "UTO")
    ml = pki.make_master_list([state.csca_cert, member.csca_cert], signer, key, signing_time=NOW)
    crl = pki.make_crl(member.csca_cert, member.csca_key, [0x4242], now=NOW)
    rogue = _der(make_pki("rsa2048", "ZZZ").csca_cert)
    ds_attr, crl_attr = "userCertificate;binary", "certificateRevocationList;binary"
    data = _ldif(
        [
            (f"cn=ml,o=ml,c=ML,{BASE}", {"pkdMasterListContent": [ml]}),
            (f"cn=ds,o=dsc,c=UT,{BASE}", {ds_attr: [_der(member.ds_cert)]}),
            (f"cn=crl,o=crl,c=UT,{BASE}", {crl_attr: [_der(crl)]}),
            (f"cn=rogue,o=dsc,c=ZZ,{BASE}", {ds_attr: [rogue]}),
            (f"cn=junk,o=dsc,c=ZZ,{BASE}", {ds_attr: [b"\x30\x03\x02\x01\x00"]}),
            (f"dc=download,{BASE}", {"objectClass": [b"domain"]}),
        ]
    )
    data += f"\ndn: cn=url,o=dsc,c=ZZ,{BASE}\nuserCertificate;binary:< file:///etc/passwd\n".encode()
    return data, member, CscaStore.from_certificates([state.csca_der()])


def test_a_pkd_ldif_file_is_imported_entry_by_entry(make_pki: MakePki) -> None:
    data, _member, store = _pkd(make_pki)
    assert detect_kind(data) == "ldif"
    report = import_file(store, data, "icaopkd.ldif", "test", at=NOW)
    by_dn: dict[str, list[dict[str, object]]] = {}
    for entry in report.entries:
        by_dn.setdefault(str(entry["dn"]).split(",")[0], []).append(entry)
    assert {e["status"] for e in by_dn["cn=ml"]} == {"imported"}
    assert len(by_dn["cn=ml"]) == 2  # both CSCAs of the list, each accounted for
    assert by_dn["cn=ds"][0]["role"] == "document_signer"
    assert by_dn["cn=crl"][0]["role"] == "crl"
    assert "no trusted master list vouches" in str(by_dn["cn=rogue"][0]["reason"])
    assert by_dn["cn=junk"][0]["status"] == "skipped"
    assert "URL" in str(by_dn["cn=url"][0]["reason"])  # never fetched
    assert "no certificate" in str(by_dn["dc=download"][0]["reason"])
    kinds = sorted(row.kind for row in report.rows)
    assert kinds == ["crl", "csca", "csca", "dsc", "masterlist"]


def test_ds_certificates_chain_and_crls_apply(make_pki: MakePki) -> None:
    data, member, store = _pkd(make_pki)
    import_file(store, data, "icaopkd.ldif", "test", at=NOW)
    # EF.SOD without its DS certificate: the PKD's copy serves, chained to the CSCA
    # the master list brought in
    sod = pki.build_sod(DGS, member.ds_cert, member.ds_key, signing_time=NOW,
                        include_certificate=False)  # fmt: skip
    verdict = PassiveAuthenticator(store).verify(files_of(sod), NOW).to_dict()
    assert verdict["verdict"] == "valid", verdict
    assert verdict["document_signer"]["source"] == "trust_store"
    assert verdict["checks"]["crl"]["status"] == "passed"
    revoked = pki.make_crl(member.csca_cert, member.csca_key, [member.ds_cert.serial_number],
                           now=NOW, number=2)  # fmt: skip
    crl_ldif = _ldif([(f"cn=crl2,o=crl,c=UT,{BASE}",
                       {"certificateRevocationList;binary": [_der(revoked)]})])  # fmt: skip
    import_file(store, crl_ldif, "crl.ldif", "test", at=NOW)
    verdict = PassiveAuthenticator(store).verify(files_of(sod), NOW).to_dict()
    assert verdict["reason"] == "revoked"


def test_broken_ldif_is_refused_with_the_line(make_pki: MakePki) -> None:
    with pytest.raises(MalformedInputError, match="LDIF"):
        import_file(CscaStore(), b"dn: cn=a\nno colon here\n", "x.ldif", "t", at=NOW)
