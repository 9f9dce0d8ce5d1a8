"""Issue 20 item 2: egate and openssl judge the same objects alike.

Every certificate, CRL and CMS object under ../shared/reference, and generated
variants of each AlgorithmIdentifier encoding, go through egate's signature checks
and through `openssl verify -partial_chain`, `openssl crl -verify` and `openssl cms
-verify -noverify`; a differing verdict fails unless docs/trust.md lists it as
deliberate (DELIBERATE below names the same entries)."""

from __future__ import annotations

import pytest

from tests.ci import unavailable
from tests.conftest import SHARED
from tests.trust import differential as d
from tests.trust.encoding_variants import Variant, generated_variants

REFERENCE = SHARED / "reference"
# docs/trust.md, "Deliberate differences from openssl": parameters other than absent
# or NULL after an algorithm that defines none. openssl ignores them; egate refuses
# them as an altered identifier (RFC 4055 5, RFC 5758 3.2, RFC 5754 2).
DELIBERATE = ("-bogus",)


@pytest.fixture(autouse=True)
def _openssl() -> None:
    if d.OPENSSL is None:
        unavailable("the openssl CLI is not installed")


def _verdicts(kind: str, der: bytes, issuer: bytes) -> tuple[tuple[bool, str], tuple[bool, str]]:
    if kind == "certificate":
        return d.egate_certificate(der, issuer), d.openssl_certificate(der, issuer)
    if kind == "crl":
        return d.egate_crl(der, issuer), d.openssl_crl(der, issuer)
    if kind == "decode":
        return d.egate_decode(der), d.openssl_decode(der)
    return d.egate_cms(der), d.openssl_cms(der)


VARIANTS = generated_variants()


@pytest.mark.parametrize(("variant", "accepted"), VARIANTS, ids=[v.name for v, _ in VARIANTS])
def test_generated_encoding(variant: Variant, accepted: bool) -> None:
    ours, theirs = _verdicts(variant.kind, variant.der, variant.issuer_der)
    assert ours[0] is accepted, ours[1]
    if any(tag in variant.name for tag in DELIBERATE):
        assert theirs[0] is True, "openssl changed: drop the deliberate difference"
        return
    assert theirs[0] is accepted, theirs[1]


def test_null_parameters_after_ecdsa_with_sha1_verify() -> None:
    """The German 2021 master list and specimen EF.SOD case: ecdsa-with-SHA1 with NULL
    parameters was refused with "unexpected parameters for signature algorithm"."""
    names = {v.name: (v, ok) for v, ok in VARIANTS}
    for name in ("cert-ecdsa-sha1-null", "crl-ecdsa-sha1-null", "cms-sig-ecdsa-sha1-null"):
        variant, _ = names[name]
        ours, _theirs = _verdicts(variant.kind, variant.der, variant.issuer_der)
        assert ours == (True, "ok"), name


@pytest.mark.shared
@pytest.mark.slow
def test_every_reference_object_matches_openssl() -> None:
    if not REFERENCE.is_dir():
        unavailable("../shared/reference is absent")
    objects = d.reference_objects(REFERENCE)
    assert sum(kind == "cms" for _, kind, _, _ in objects) >= 6
    assert sum(kind == "crl" for _, kind, _, _ in objects) >= 1
    assert sum(kind == "certificate" for _, kind, _, _ in objects) >= 600
    differences: list[str] = []
    self_signed = [o for o in objects if o[1] == "certificate" and o[2] == o[3]]
    for (name, _kind, der, issuer), theirs in zip(
        self_signed, d.openssl_self_signed([o[2] for o in self_signed]), strict=True
    ):
        ours = d.egate_certificate(der, issuer)
        if ours[0] != theirs[0]:
            differences.append(f"{name}: egate {ours}, openssl {theirs}")
    for name, kind, der, issuer in objects:
        if kind == "certificate" and der == issuer:
            continue
        ours, theirs = _verdicts(kind, der, issuer)
        if ours[0] != theirs[0]:
            differences.append(f"{name}: egate {ours}, openssl {theirs}")
    assert not differences, "\n".join(differences)


# Files under field-pki that hold no certificate, CRL or signature: data groups and
# EF.COM, whose hashes passive authentication checks (tests/trust/test_field_pki.py).
NOT_PKI = ("DG1.bin", "DG2.bin", "DG15.bin", "EF.COM", "README.md")


@pytest.mark.shared
def test_every_field_pki_file_is_compared() -> None:
    """Nothing under field-pki is left out of the comparison: every file is a CMS
    object or CRL compared by name, a certificate compared with its issuer or on its
    decoding, or an unsigned list whose every certificate is."""
    from devices.icao9303.masterlist_schema import CscaMasterList

    field = REFERENCE / "field-pki"
    if not field.is_dir():
        unavailable("../shared/reference/field-pki is absent")
    objects = d.reference_objects(REFERENCE)
    names = {name for name, *_ in objects}
    certificates = {der for _, kind, der, _ in objects if kind in ("certificate", "decode")}
    left_out = []
    for path in sorted(p for p in field.rglob("*") if p.is_file()):
        name, data = str(path.relative_to(REFERENCE)), path.read_bytes()
        if path.name in NOT_PKI or name in names or data in certificates:
            continue
        try:
            listed = {c.dump() for c in CscaMasterList.load(data, strict=True)["cert_list"]}
        except ValueError:
            listed = set()
        if not listed or not listed <= certificates:
            left_out.append(name)
    assert not left_out
