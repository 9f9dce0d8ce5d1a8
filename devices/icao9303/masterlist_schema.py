"""The CSCA master list's ASN.1 (ICAO 9303-12 9) and its object identifiers.

Production code (kiosk/trust verifies and endorses master lists) and the test PKI
(devices/simulated/pki.py builds them) share this schema, so it lives on the
production side of the simulator boundary.
"""

from __future__ import annotations

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

ID_ICAO_CSCA_MASTER_LIST = "2.23.136.1.1.2"  # eContentType of a master list
ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY = "2.23.136.1.1.3"  # extended key usage of its signer


class _CertificateSetOf(core.SetOf):  # type: ignore[misc]
    _child_spec = asn1_x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """CscaMasterList ::= SEQUENCE { version CscaMasterListVersion, certList SET OF
    Certificate } (ICAO 9303-12 9)."""

    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("version", core.Integer),
        ("cert_list", _CertificateSetOf),
    ]
