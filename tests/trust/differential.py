"""Verdicts of egate and of the openssl CLI on one certificate, CRL or CMS object, for
the differential test (issue 20 item 2): both judge the signature only (no validity
dates, no path policy), so a difference is a difference in what each accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from asn1crypto import pem

from devices.icao9303.sod import SodError, parse_signed_data
from kiosk.trust import cms, signatures
from kiosk.trust.certificates import parse_certificate, parse_crl
from kiosk.trust.errors import TrustError

OPENSSL = shutil.which("openssl")
# `openssl verify` errors that judge the signature or the encoding; any other error
# (an expired certificate, a missing basicConstraints, a purpose) is path policy,
# which this comparison leaves out on both sides.
_SIGNATURE_ERRORS = {4, 6, 7, 8, 11, 32}


def unwrap_sod(der: bytes) -> bytes:
    """EF.SOD as read from a chip is the ContentInfo inside application tag 0x77."""
    if der[:1] != b"\x77":
        return der
    length = der[1]
    offset = 2
    if length & 0x80:
        offset += length & 0x7F
    return der[offset:]


def egate_certificate(der: bytes, issuer_der: bytes) -> tuple[bool, str]:
    try:
        cert = parse_certificate(der)
        issuer = parse_certificate(issuer_der)
        signatures.verify_signature(
            issuer.spki_der, cert.signature_algorithm_der, cert.tbs_der, cert.signature
        )
    except TrustError as exc:
        return False, str(exc)
    return True, "ok"


def egate_crl(der: bytes, issuer_der: bytes) -> tuple[bool, str]:
    try:
        crl = parse_crl(der)
        issuer = parse_certificate(issuer_der)
        signatures.verify_signature(
            issuer.spki_der, crl.signature_algorithm_der, crl.tbs_der, crl.signature
        )
    except TrustError as exc:
        return False, str(exc)
    return True, "ok"


def egate_cms(der: bytes) -> tuple[bool, str]:
    """The SignerInfo verified with the certificate the SignedData carries for it."""
    try:
        signed = parse_signed_data(unwrap_sod(der))
        if len(signed.signer_infos) != 1:
            return False, f"{len(signed.signer_infos)} SignerInfos"
        info = signed.signer_infos[0]
        signer, _notes = cms.find_signer_certificate(info, signed.certificates)
        if signer is None:
            return False, "no signer certificate"
        attrs = cms.check_signed_attributes(info, signed.econtent_type, signed.econtent)
        if attrs.reason is not None:
            return False, attrs.detail
        cms.verify_signer(info, signed.econtent, signer)
    except (SodError, TrustError) as exc:
        return False, str(exc)
    return True, "ok"


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], capture_output=True, text=True, timeout=60, check=False)


def _pem(der: bytes, kind: str) -> bytes:
    return bytes(pem.armor(kind, der))


def openssl_certificate(der: bytes, issuer_der: bytes) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        cert, ca = Path(tmp, "cert.pem"), Path(tmp, "ca.pem")
        cert.write_bytes(_pem(der, "CERTIFICATE"))
        ca.write_bytes(_pem(issuer_der, "CERTIFICATE"))
        if _run(["x509", "-in", str(cert), "-noout"]).returncode != 0:
            return False, "openssl cannot decode the certificate"
        args = ["verify", "-partial_chain", "-check_ss_sig", "-no_check_time"]
        result = _run([*args, "-CAfile", str(ca), str(cert)])
    if result.returncode == 0:
        return True, "ok"
    errors = [int(n) for n in re.findall(r"error (\d+) at", result.stdout + result.stderr)]
    bad = [n for n in errors if n in _SIGNATURE_ERRORS]
    if bad or not errors:
        return False, (result.stdout + result.stderr).strip()
    return True, f"signature ok; path errors {errors}"


def openssl_crl(der: bytes, issuer_der: bytes) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        crl, ca = Path(tmp, "crl.der"), Path(tmp, "ca.pem")
        crl.write_bytes(der)
        ca.write_bytes(_pem(issuer_der, "CERTIFICATE"))
        result = _run(["crl", "-inform", "DER", "-in", str(crl), "-CAfile", str(ca), "-noout"])
    text = (result.stdout + result.stderr).strip()
    return result.returncode == 0 and "verify OK" in text, text


def egate_decode(der: bytes) -> tuple[bool, str]:
    try:
        parse_certificate(der)
    except TrustError as exc:
        return False, str(exc)
    return True, "ok"


def openssl_decode(der: bytes) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "cert.der")
        path.write_bytes(der)
        result = _run(["x509", "-inform", "DER", "-in", str(path), "-noout"])
    return result.returncode == 0, (result.stdout + result.stderr).strip()[:300]


def openssl_cms(der: bytes) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "cms.der")
        path.write_bytes(unwrap_sod(der))
        result = _run(
            ["cms", "-verify", "-noverify", "-binary", "-inform", "DER", "-in", str(path),
             "-out", str(Path(tmp, "content"))]
        )  # fmt: skip
    return result.returncode == 0, (result.stdout + result.stderr).strip()[:300]


def reference_objects(root: Path) -> list[tuple[str, str, bytes, bytes]]:
    """(name, kind, der, issuer der) for every certificate, CRL and CMS object under
    `root`: loose files, the certificates inside master lists (each paired with the
    certificate of the same lists whose name and key identifier issued it; those whose
    issuer is not there are kind "decode": compared on decoding alone) and every
    EF.SOD."""
    from devices.icao9303.masterlist_schema import CscaMasterList

    objects: list[tuple[str, str, bytes, bytes]] = []
    pool: dict[str, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".md"):
        data = path.read_bytes()
        name = str(path.relative_to(root))
        try:
            cert = parse_certificate(data)
        except TrustError:
            cert = None
        if cert is not None:
            pool[cert.sha256] = data
            continue
        try:
            parse_crl(data)
            objects.append((name, "crl", data, b""))
            continue
        except TrustError:
            pass
        content: bytes | None = None
        try:
            signed = parse_signed_data(unwrap_sod(data))
            objects.append((name, "cms", data, b""))
            pool.update({parse_certificate(c).sha256: c for c in signed.certificates})
            if signed.econtent_type == "2.23.136.1.1.2":
                content = signed.econtent
        except (SodError, TrustError):
            if data[:1] == b"\x30":
                content = data  # an unsigned CscaMasterList
        if content is not None:
            try:
                ml = CscaMasterList.load(content)
                for entry in ml["cert_list"]:
                    der = entry.dump()
                    pool[parse_certificate(der).sha256] = der
            except (ValueError, TypeError, TrustError):
                pass
    parsed = {k: parse_certificate(v) for k, v in pool.items()}
    for digest, cert in parsed.items():
        # A self-issued certificate whose AKI names its own key (or that has none) is
        # judged as self-signed; otherwise the issuer is the one whose name and SKI
        # match. A certificate of the same name from another key generation would be
        # the wrong issuer, not a wrong signature.
        issuers = [
            c
            for c in parsed.values()
            if c.subject_key == cert.issuer_key and (cert.aki is None or c.ski == cert.aki)
        ]
        if cert.self_issued and (cert.aki is None or cert.aki == cert.ski):
            issuers = [cert]
        for issuer in issuers[:1]:
            objects.append((f"cert {cert.subject} {digest[:12]}", "certificate",
                            pool[digest], issuer.der))  # fmt: skip
    # Certificates whose issuer none of the files holds (a link signed by a key no
    # list carries any more) are judged on their encoding alone: kind "decode".
    judged = {o[2] for o in objects if o[1] == "certificate"}
    for digest, der in pool.items():
        if der not in judged:
            objects.append((f"cert {parsed[digest].subject} {digest[:12]}", "decode", der, b""))
    crls = [o for o in objects if o[1] == "crl"]
    for crl_entry in crls:
        crl = parse_crl(crl_entry[2])
        # the CSCA generation whose SKI the CRL's AKI names, else the first of the name
        named = [c for c in parsed.values() if c.subject_key == crl.issuer_key]
        named.sort(key=lambda c: crl.aki is None or c.ski != crl.aki)
        issuer = named[0] if named else None
        objects.remove(crl_entry)
        if issuer is not None:
            objects.append((crl_entry[0], "crl", crl_entry[2], issuer.der))
    return objects


def openssl_self_signed(ders: list[bytes]) -> list[tuple[bool, str]]:
    """`openssl verify -check_ss_sig` on many self-signed certificates in one run, each
    its own trust anchor (the per-certificate run costs a process each)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for index, der in enumerate(ders):
            path = Path(tmp, f"{index}.pem")
            path.write_bytes(_pem(der, "CERTIFICATE"))
            paths.append(str(path))
        ca = Path(tmp, "ca.pem")
        ca.write_bytes(b"".join(_pem(d, "CERTIFICATE") for d in ders))
        args = ["verify", "-partial_chain", "-check_ss_sig", "-no_check_time"]
        result = _run([*args, "-CAfile", str(ca), *paths])
    verdicts = {line[: -len(": OK")]: (True, "ok") for line in result.stdout.splitlines()
                if line.endswith(": OK")}  # fmt: skip
    codes: list[int] = []
    for line in result.stderr.splitlines():
        found = re.match(r"error (\d+) at", line)
        if found:
            codes.append(int(found.group(1)))
        failed = re.match(r"error (.*): verification failed", line)
        if failed:
            bad = [n for n in codes if n in _SIGNATURE_ERRORS]
            verdicts[failed.group(1)] = (not bad and bool(codes), f"errors {codes}")
            codes = []
    return [verdicts.get(p, (False, "no openssl verdict")) for p in paths]
